"""``slm-lsp explain FILE --lines A-B`` with a tiny model: arguments, privacy, output, exit codes."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from slm_lsp.actions.cli import add_explain_arguments, parse_lines
from slm_lsp.actions.core import COULD_NOT_EXPLAIN
from slm_lsp.config.settings import Settings
from tests.actions.conftest import REPO
from tests.tiny_models import counting_model_path, tiny_model_path

SOURCE = "import math\n\n\ndef hyp(a, b):\n    return math.sqrt(a * a + b * b)\n"


def run(argv: list[str], model: Path | None = None) -> int:
    """Parse ``argv`` as the main CLI's ``explain`` subcommand would, and run it."""
    parser = argparse.ArgumentParser(prog="slm-lsp")
    commands = parser.add_subparsers(dest="command", required=True)
    add_explain_arguments(commands.add_parser("explain"))
    args = parser.parse_args(["explain", *argv])
    settings = Settings().replace({"model": str(model or tiny_model_path("nofim")), "n_threads": 1})
    return int(args.run(args, settings))


def test_parse_lines() -> None:
    assert parse_lines("4-5", 5) == (4, 5)
    assert parse_lines("3", 5) == (3, 3)
    assert parse_lines(" 2 : 4 ", 5) == (2, 4)
    for bad, message in [("0-2", "start at 1"), ("5-4", "not end before"), ("2-9", "only 5 lines"), ("a-b", "A-B")]:
        with pytest.raises(ValueError, match=message):
            parse_lines(bad, 5)


def test_explain_prints_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "geometry.py"
    path.write_text(SOURCE)
    assert run([str(path), "--lines", "4-5", "--json", "--max-tokens", "12"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["action"] == "explain" and result["lines"] == [4, 5] and result["promptStyle"] == "completion"
    # The tiny random model answers " function function function …": the guard stops it at the 4th copy.
    assert result["text"] == COULD_NOT_EXPLAIN and result["stopReason"] == "repetition"
    assert result["timings"]["generated_tokens"] == 4 and result["model"] == "tiny-nofim"
    assert result["timings"]["generated_tokens"] <= 12


def test_explain_streams_to_stderr_and_prints_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "geometry.py"
    path.write_text(SOURCE)
    assert run([str(path), "--lines", "5", "--stream", "--max-tokens", "6"], counting_model_path()) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("This ") and captured.err.startswith("This ")


def test_errors_exit_with_one_and_say_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "geometry.py"
    path.write_text(SOURCE)
    assert run([str(path), "--lines", "9-12"]) == 1
    assert "only 5 lines" in capsys.readouterr().err
    assert run([str(tmp_path / "missing.py"), "--lines", "1"]) == 1
    assert "cannot read" in capsys.readouterr().err
    binary = tmp_path / "blob.py"
    binary.write_bytes(b"\0\1\2")
    assert run([str(binary), "--lines", "1"]) == 1
    assert "binary" in capsys.readouterr().err
    blank = tmp_path / "blank.py"
    blank.write_text("x = 1\n\n\ny = 2\n")
    assert run([str(blank), "--lines", "2-3"]) == 1
    assert "selection is empty" in capsys.readouterr().err
    assert run([str(path), "--lines", "4-5"], model=tmp_path / "nope.gguf") == 2
    assert "nope.gguf" in capsys.readouterr().err


def test_excluded_file_is_refused_before_anything_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "secrets.yaml"
    secret.write_text("password: hunter2-canary\n")
    assert run([str(secret), "--lines", "1"]) == 1
    captured = capsys.readouterr()
    assert "excluded" in captured.err and "hunter2" not in captured.out + captured.err
    (tmp_path / ".gitignore").write_text("private/\n")
    (tmp_path / "private").mkdir()
    ignored = tmp_path / "private" / "notes.py"
    ignored.write_text(SOURCE)
    assert run([str(ignored), "--lines", "1-2", "--workspace", str(tmp_path)]) == 1
    assert "excluded" in capsys.readouterr().err


def test_module_entry_point(tmp_path: Path) -> None:
    path = tmp_path / "geometry.py"
    path.write_text(SOURCE)
    done = subprocess.run(
        [sys.executable, "-m", "slm_lsp.actions.cli", str(path), "--lines", "4-5", "--max-tokens", "4",
         "--model", str(tiny_model_path("nofim")), "--threads", "1"],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("This function")
