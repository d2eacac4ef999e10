"""read_text: only plain UTF-8 text under the caps, never lossy, never hanging."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from slm_lsp.privacy import PrivacyGate, reader
from tests.privacy.conftest import write


@pytest.fixture
def gate_and_root(tmp_path: Path, git_env: dict[str, str]) -> tuple[PrivacyGate, Path]:
    root = tmp_path / "ws"
    root.mkdir()
    return PrivacyGate([root], max_file_bytes=64_000, max_line_chars=2_000), root


def test_plain_utf8_round_trips(gate_and_root: tuple[PrivacyGate, Path]) -> None:
    gate, root = gate_and_root
    text = "def f():\n    return 'héllo ✓ 𝔘'\r\n\ttabs\n"
    (root / "a.py").write_bytes(text.encode("utf-8"))
    assert gate.read_text(root / "a.py") == text


def test_utf8_bom_is_kept_not_stripped(gate_and_root: tuple[PrivacyGate, Path]) -> None:
    gate, root = gate_and_root
    (root / "a.py").write_bytes(b"\xef\xbb\xbfx = 1\n")
    assert gate.read_text(root / "a.py") == "\ufeffx = 1\n"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("binary.dat", b"\x7fELF\x00\x01secret"),
        ("late-nul.txt", b"a" * 8000 + b"\x00"),
        ("utf16le.txt", "password = 1\n".encode("utf-16")),
        ("utf16be.txt", b"\xfe\xff" + "x = 1\n".encode("utf-16-be")),
        ("utf16-no-bom.txt", "x = 1\n".encode("utf-16-le")),
        ("latin1.txt", "caf\xe9 = 1\n".encode("latin-1")),
        ("broken.txt", b"ok\n\xc3\x28\n"),
        ("surrogate.txt", b"\xed\xa0\x80\n"),
    ],
)
def test_binary_and_non_utf8_are_refused(gate_and_root: tuple[PrivacyGate, Path], name: str, data: bytes) -> None:
    gate, root = gate_and_root
    (root / name).write_bytes(data)
    assert gate.read_text(root / name) is None


def test_nul_after_the_sniff_window_is_still_text(gate_and_root: tuple[PrivacyGate, Path]) -> None:
    gate, root = gate_and_root
    data = b"a = 1\n" * 2000 + b"\x00"
    (root / "late.txt").write_bytes(data)
    assert gate.read_text(root / "late.txt") == data.decode()


def test_size_and_line_caps(gate_and_root: tuple[PrivacyGate, Path]) -> None:
    gate, root = gate_and_root
    write(root, {"big.py": "x = 1\n" * 20_000, "long.js": "a" * 2_001 + "\n", "ok.js": "a" * 2_000 + "\n"})
    assert gate.read_text(root / "big.py") is None
    assert gate.read_text(root / "long.js") is None
    assert gate.read_text(root / "ok.js") == "a" * 2_000 + "\n"


def test_special_files_are_not_read(gate_and_root: tuple[PrivacyGate, Path]) -> None:
    gate, root = gate_and_root
    os.mkfifo(root / "pipe")
    (root / "dir").mkdir()
    assert gate.read_text(root / "pipe") is None  # must not block
    assert gate.read_text(root / "dir") is None
    assert gate.read_text(root / "missing.py") is None


def test_symlink_swapped_in_after_the_check_is_refused(tmp_path: Path) -> None:
    target = write(tmp_path, {"secret.txt": "TOP"})
    link = tmp_path / "link.txt"
    link.symlink_to(target / "secret.txt")
    outcome = reader.read_utf8(str(link), max_bytes=1000, max_line_chars=1000)
    assert outcome.text is None and "symlink" in (outcome.reason or "")


def test_read_text_redacts(gate_and_root: tuple[PrivacyGate, Path]) -> None:
    gate, root = gate_and_root
    (root / "settings.py").write_text('DEBUG = True\nSECRET_KEY = "dj4ng0-1ns3cur3-k3y-Zx8Qw2Er"\n')
    text = gate.read_text(root / "settings.py")
    assert text == 'DEBUG = True\nSECRET_KEY = "<redacted:keyword-secret>"\n'
