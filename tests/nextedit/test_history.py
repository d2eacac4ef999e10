"""The edit history: coalesced hunks as unified diffs, in order, bounded, cleared on close,
and nothing of an excluded file or a secret ever in it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from slm_lsp.nextedit import EditHistory, NextEdits
from slm_lsp.privacy import PrivacyGate

CANARY = "CANARYhistory7Q2mX9vL4pR8sT"
KEY = "AKIAZ7CANARY4KEYQ2XW"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


def _history(root: Path, **kwargs: object) -> EditHistory:
    return EditHistory(PrivacyGate([root]), clock=Clock(), **kwargs)  # type: ignore[arg-type]


def _type(history: EditHistory, uri: str, text: str, at: int, typed: str, backspaces: int = 0) -> str:
    """Backspace ``backspaces`` characters before ``at``, then type ``typed``, one key per change."""
    for _ in range(backspaces):
        history.replace(uri, at - 1, at, "")
        text, at = text[:at - 1] + text[at:], at - 1
    for char in typed:
        history.replace(uri, at, at, char)
        text, at = text[:at] + char + text[at:], at + 1
    return text


def test_keystrokes_coalesce_into_one_hunk_shown_as_a_unified_diff(workspace: Path) -> None:
    history = _history(workspace)
    uri = (workspace / "app.py").as_uri()
    text = "def area(count):\n    return count * 2\n"
    history.opened(uri, text, "python")
    at = text.index("count") + len("count")
    text = _type(history, uri, text, at, "total", backspaces=5)
    [hunk] = history.hunks(uri)
    assert (hunk.old, hunk.new, text[hunk.start:hunk.end]) == ("count", "total", "total")
    assert hunk.first_seen < hunk.last_seen and not hunk.sensitive
    assert hunk.diff.text == (
        "--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,2 @@\n"
        "-def area(count):\n+def area(total):\n     return count * 2\n"
    )
    assert hunk.diff.kind == "edit" and history.gate.final_check([hunk.diff]) is None  # sealed by the gate


def test_separate_edits_are_separate_hunks_in_order_and_positions_follow_the_text(workspace: Path) -> None:
    history = _history(workspace)
    uri = (workspace / "app.py").as_uri()
    text = "".join(f"line_{i} = {i}\n" for i in range(10))
    history.opened(uri, text, "python")
    text = _type(history, uri, text, text.index("line_8 = 8") + 10, "0")
    history.replace(uri, 0, 0, "import os\n")
    text = "import os\n" + text
    first, second = history.hunks(uri)
    assert (first.old, first.new, second.old, second.new) == ("", "0", "", "import os\n")
    assert first.order < second.order and text[first.start:first.end] == "0"  # moved by the insertion above
    assert text[first.start - 10:first.end] == "line_8 = 80"
    history.replace(uri, first.start, first.end, "")  # undo: the hunk is gone
    assert [h.new for h in history.hunks(uri)] == ["import os\n"]


def test_an_lsp_change_list_is_applied_in_order_and_a_mismatch_restarts(workspace: Path) -> None:
    history = _history(workspace)
    uri = (workspace / "m.py").as_uri()
    history.opened(uri, "a = 1\nb = 2\n", "python")
    def offset_of(text: str, line: int, character: int) -> int:
        return sum(len(x) for x in text.splitlines(keepends=True)[:line]) + character
    history.changed(uri, [((0, 0, 0, 1), "x"), ((1, 0, 1, 1), "y")], "x = 1\ny = 2\n", offset_of)
    assert [(h.old, h.new) for h in history.hunks(uri)] == [("a", "x"), ("b", "y")]
    history.changed(uri, [((0, 0, 0, 0), "#")], "something else\n", offset_of)
    assert history.hunks(uri) == [] and history.document(uri).text == "something else\n"  # type: ignore[union-attr]


def test_history_is_bounded_and_cleared_on_close(workspace: Path) -> None:
    history = _history(workspace, max_hunks=3, max_documents=2, max_hunk_chars=50)
    uri = (workspace / "a.py").as_uri()
    text = "".join(f"v{i} = 0\n" for i in range(20))
    history.opened(uri, text, "python")
    for i in range(0, 20, 4):
        history.replace(uri, text.index(f"v{i} = 0") + 5, text.index(f"v{i} = 0") + 6, "1")
        text = text.replace(f"v{i} = 0", f"v{i} = 1")
    assert [h.order for h in history.hunks(uri)] == sorted(h.order for h in history.hunks(uri))
    assert len(history.hunks(uri)) == 3
    history.replace(uri, 0, 0, "x" * 60)  # a paste: no hunk
    assert all(len(h.new or "") < 50 for h in history.hunks(uri))
    for name in ("b.py", "c.py"):
        history.opened((workspace / name).as_uri(), "pass\n", "python")
    assert history.document(uri) is None  # least recently edited of three, with room for two
    history.closed((workspace / "c.py").as_uri())
    assert history.stats() == {"documents": 1, "hunks": 0}


def test_excluded_documents_never_reach_the_history(workspace: Path, caplog: pytest.LogCaptureFixture) -> None:
    history = _history(workspace)
    edits = NextEdits(history.gate, history)
    excluded = [(workspace / ".env").as_uri(), (workspace / "private" / "vault.py").as_uri(),
                (workspace.parent / "outside.py").as_uri()]
    with caplog.at_level(logging.DEBUG):
        for uri in excluded:
            history.opened(uri, f"token = '{CANARY}'\n", "python")
            history.replace(uri, 0, 0, f"# {CANARY}\n")
            history.changed(uri, [(None, f"{CANARY} = 1\n")], f"{CANARY} = 1\n", lambda t, line, c: 0)
            assert history.hunks(uri) == [] and history.document(uri) is None
            assert edits.suggest(uri).proposals == []
    assert history.stats() == {"documents": 0, "hunks": 0}
    assert CANARY not in caplog.text


def test_a_document_that_becomes_excluded_is_dropped(workspace: Path) -> None:
    history = _history(workspace)
    uri = (workspace / "later" / "notes.py").as_uri()
    history.opened(uri, "x = 1\n", "python")
    history.replace(uri, 4, 5, "2")
    assert len(history.hunks(uri)) == 1
    (workspace / ".gitignore").write_text("private/\nlater/\n")
    history.gate.invalidate()
    history.privacy_changed()
    assert history.document(uri) is None and history.recent() == []


def test_secret_shaped_text_is_redacted_and_never_propagated(workspace: Path) -> None:
    history = _history(workspace)
    edits = NextEdits(history.gate, history)
    uri = (workspace / "cloud.py").as_uri()
    text = 'key = "AKIAOLD0000000000000"\nother = "AKIAOLD0000000000000"\n'
    history.opened(uri, text, "python")
    start = text.index("AKIA")
    history.replace(uri, start, start + 20, KEY)
    [hunk] = history.hunks(uri)
    assert hunk.sensitive and hunk.old is None and hunk.new is None
    assert KEY not in hunk.diff.text and "<redacted:" in hunk.diff.text
    assert edits.suggest(uri).proposals == []


def test_next_edits_propose_the_rename_elsewhere_and_refuse_a_stale_text(workspace: Path) -> None:
    history = _history(workspace)
    edits = NextEdits(history.gate, history)
    uri = (workspace / "app.py").as_uri()
    text = "def area(count):\n    return count * 2\n"
    history.opened(uri, text, "python")
    text = _type(history, uri, text, text.index("count") + 5, "total", backspaces=5)
    found = edits.suggest(uri, text.index("total"), text=text)
    assert [(text[p.start:p.end], p.text) for p in found.proposals] == [("count", "total")]
    assert found.texts == {uri: text}
    assert edits.suggest(uri, 0, text=text + "#").proposals == []
