"""admit / admit_document / narrow / final_check / scan_output: the text side of the gate."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from slm_lsp.privacy import GateError, PrivacyGate, PromptPiece
from tests.privacy.conftest import write

TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


@pytest.fixture
def ws(tmp_path: Path, git_env: dict[str, str]) -> tuple[PrivacyGate, Path]:
    root = write(tmp_path / "ws", {"src/app.py": "x = 1\n", ".env": "X=1\n", "pkg/mod.py": "y = 2\n",
                                   ".slmignore": "private/\n", "private/p.py": "z = 3\n"})
    return PrivacyGate([root]), root


def test_admit_redacts_and_seals(ws: tuple[PrivacyGate, Path]) -> None:
    gate, root = ws
    piece = gate.admit(PromptPiece(text=f"t = '{TOKEN}'\n", source=(root / "src/app.py").as_uri(), kind="prefix"))
    assert TOKEN not in piece.text and piece.admitted and piece.kind == "prefix"
    assert TOKEN not in repr(piece) and "t = " not in repr(piece)
    gate.final_check([piece])


@pytest.mark.parametrize("source", [".env", "private/p.py", "file:///etc/shadow%00", "git:/x", "../outside.py"])
def test_admit_refuses_excluded_sources(ws: tuple[PrivacyGate, Path], source: str) -> None:
    gate, root = ws
    if source in (".env", "private/p.py"):
        sources = [source, str(root / source), (root / source).as_uri()]
    else:
        sources = [source]
    for each in sources:
        with pytest.raises(GateError) as caught:
            gate.admit(PromptPiece(text=f"k = '{TOKEN}'", source=each, kind="prefix"))
        assert TOKEN not in str(caught.value)


def test_relative_sources_resolve_against_roots(tmp_path: Path, git_env: dict[str, str]) -> None:
    one = write(tmp_path / "one", {"a.py": "x", ".slmignore": "hidden.py\n", "hidden.py": "x"})
    two = write(tmp_path / "two", {"a.py": "x"})
    gate = PrivacyGate([one, two])
    gate.admit(PromptPiece("x", "a.py", "definition"))
    gate.admit(PromptPiece("x", "two/a.py", "definition"))
    with pytest.raises(GateError):
        gate.admit(PromptPiece("x", "hidden.py", "definition"))
    with pytest.raises(GateError):
        gate.admit(PromptPiece("x", "one/hidden.py", "definition"))


def test_text_without_a_file_is_admitted_after_redaction(ws: tuple[PrivacyGate, Path]) -> None:
    gate, _ = ws
    for source in (None, "untitled", "untitled:Untitled-1"):
        piece = gate.admit(PromptPiece(text=f"token = '{TOKEN}'", source=source, kind="prefix"))
        assert TOKEN not in piece.text


def test_final_check_refuses_unadmitted_or_edited_pieces(ws: tuple[PrivacyGate, Path]) -> None:
    gate, root = ws
    source = str(root / "src/app.py")
    admitted = gate.admit(PromptPiece("x = 1\n", source, "prefix"))
    with pytest.raises(GateError):
        gate.final_check([admitted, PromptPiece("raw", source, "suffix")])
    with pytest.raises(GateError):
        gate.final_check([dataclasses.replace(admitted, text=admitted.text + TOKEN)])
    with pytest.raises(GateError):
        gate.final_check([dataclasses.replace(admitted, kind="suffix")])
    with pytest.raises(GateError):
        gate.final_check([admitted, "a plain string"])  # type: ignore[list-item]
    other_gate = PrivacyGate([root])
    with pytest.raises(GateError):
        other_gate.final_check([admitted])  # sealed by another gate
    gate.final_check([admitted, gate.narrow(admitted, 2)])


def test_final_check_refuses_a_source_excluded_since_admission(ws: tuple[PrivacyGate, Path]) -> None:
    gate, root = ws
    piece = gate.admit(PromptPiece("y = 2\n", str(root / "pkg/mod.py"), "definition"))
    (root / ".slmignore").write_text("private/\npkg/\n")
    gate.invalidate(root / ".slmignore")
    with pytest.raises(GateError):
        gate.final_check([piece])


def test_admit_document_redacts_the_whole_document_before_cutting(ws: tuple[PrivacyGate, Path]) -> None:
    gate, root = ws
    text = f"a = 1\ntoken = '{TOKEN}'\nb = 2\n"
    cursor = text.index(TOKEN) + 10  # the cursor is inside the token
    prefix, suffix = gate.admit_document(text, cursor, (root / "src/app.py").as_uri())
    joined = prefix.text + suffix.text
    assert joined == "a = 1\ntoken = '<redacted:github-token>'\nb = 2\n"
    assert prefix.text.endswith("<redacted:github-token>") and suffix.text.startswith("'")
    for part in (TOKEN[: 10], TOKEN[10:]):
        assert part not in joined
    gate.final_check([prefix, suffix])
    with pytest.raises(GateError):
        gate.admit_document("X=1", 0, (root / ".env").as_uri())


def test_separately_admitted_halves_would_leak_what_admit_document_does_not(ws: tuple[PrivacyGate, Path]) -> None:
    """Why admit_document exists: cut at the cursor first, and neither half looks like a token."""
    gate, _root = ws
    text = f"t = {TOKEN}\n"
    cut = text.index(TOKEN) + 6
    halves = [gate.admit(PromptPiece(text[:cut], "src/app.py", "prefix")).text,
              gate.admit(PromptPiece(text[cut:], "src/app.py", "suffix")).text]
    assert TOKEN[6:] in "".join(halves)  # the tail of the token is not recognisable on its own
    prefix, suffix = gate.admit_document(text, cut, "src/app.py")
    assert TOKEN[6:] not in prefix.text + suffix.text


def test_narrow_requires_an_admitted_piece(ws: tuple[PrivacyGate, Path]) -> None:
    gate, _ = ws
    with pytest.raises(GateError):
        gate.narrow(PromptPiece("abc", "src/app.py", "prefix"), 1)


def test_scan_output_drops_secrets_and_echoed_placeholders(ws: tuple[PrivacyGate, Path]) -> None:
    gate, _ = ws
    assert gate.scan_output("return a + b") == "return a + b"
    assert gate.scan_output(f"'{TOKEN}'") is None
    assert gate.scan_output('hunter2-horse"', prefix='db_password = "') is None
    assert gate.scan_output("<redacted:github-token>'") is None
    assert gate.scan_output(" + 1", prefix=f"t = '{TOKEN}'\nx = 1") == " + 1"  # the prefix's own secret is not ours
    kept = gate.scan_output(f"use {TOKEN} here", redact_secrets=True)
    assert kept == "use <redacted:github-token> here"
    kept = gate.scan_output('hunter2-horse"\nok()', prefix='db_password = "', redact_secrets=True)
    assert kept is not None and "hunter2" not in kept and kept.endswith('"\nok()')
