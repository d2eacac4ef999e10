"""``slm-lsp eval --next-edit --repo DIR``: cases mined from git history, replayed and scored;
the report holds figures only, and excluded files are never mined."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from slm_lsp.evaluation.nextedit_history import LineHunk, line_hunks, token_changes
from tests.conftest import REPO

CANARY = "CANARYminedQ7xV3pL9"
V1 = ('def area(width, height):\n    """Area."""\n    return width * height\n\n\n'
      "def report(width):\n    print(width)\n    return width\n")


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args], check=True,
                   capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "history"
    root.mkdir()
    _git(root, "init", "-q")
    (root / ".slmignore").write_text("private/\n")
    (root / "private").mkdir()
    (root / "geometry.py").write_text(V1)
    (root / "private" / "keys.py").write_text(f"def {CANARY}(x):\n    return x\n\n\n\ndef use():\n    return {CANARY}(1)\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "start")
    # a rename of a parameter in two hunks: the signature, then its use three lines down
    text = V1.replace("def area(width, height):", "def area(side, height):").replace(
        "    return width * height", "    return side * height")
    (root / "geometry.py").write_text(text.replace("\n\n\ndef report", "\n\n# report below\n\ndef report"))
    _git(root, "commit", "-q", "-am", "rename")
    keys = (root / "private" / "keys.py").read_text().replace(CANARY, CANARY + "2")
    (root / "private" / "keys.py").write_text(keys)
    _git(root, "commit", "-q", "-am", "rename in an excluded file")
    return root


def _run(repo: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "slm_lsp", "eval", "--next-edit", "--repo", str(repo),
                           "--no-progress", *extra], capture_output=True, text=True, cwd=REPO, timeout=300, check=False)


def test_a_rename_commit_is_scored_and_the_report_holds_no_code(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    done = _run(repo, "--json", "--out", str(out))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data == json.loads(out.read_text())
    assert data["commitsScanned"] == 3 and data["filesRefusedByGate"] == 1
    assert data["commitsUsed"] == 1 and data["cases"] == 2  # three hunks: the signature, the return, the comment
    assert data["answered"] == 1 and data["locationHit"] == 0.5 and data["exactMatch"] == 0.5
    assert data["byRole"] == {"name": {"answered": 1, "hitAny": 1, "exactAny": 1}}
    assert data["latencyMs"]["p50"] is not None
    for text in (done.stdout, done.stderr):
        assert CANARY not in text and "width" not in text and "side" not in text


def test_markdown_report_and_usage_errors(repo: Path, tmp_path: Path) -> None:
    done = _run(repo)
    assert done.returncode == 0 and "| propagation | 50.0 % | 50.0 % |" in done.stdout, done.stdout
    assert _run(tmp_path).returncode == 2  # not a git work tree


def test_line_hunks_and_word_level_replay() -> None:
    assert line_hunks("a\nb\nc\nd\n", "a\nB\nc\nD\nE\n") == [LineHunk(1, 2, ("B\n",)), LineHunk(3, 4, ("D\n", "E\n"))]
    old, new = "x = foo(a, b)  # old\n", "x = bar(a, b, c)  # new\n"
    text = old
    for start, end, replacement in token_changes(old, new):
        text = text[:start] + replacement + text[end:]
    assert text == new and token_changes(old, new)[0] == (4, 7, "bar")


def test_a_next_edit_model_is_scored_beside_propagation(repo: Path, sweep_like_model: Path) -> None:
    # the model's answer is scripted (conftest), so its scores say nothing: the replay, the
    # model runs and the report's shape are what is checked
    done = _run(repo, "--json", "--model", str(sweep_like_model), "--threads", "1", "--next-edit-predictor", "auto")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    model = data["model"]
    assert model["format"] == "sweep" and model["cases"] == data["cases"] == 2
    assert model["stopReasons"] == {"end": 2} and model["answered"] == 2  # a full answer, diffed into edits
    assert model["promptTokensMean"] > 20 and model["generatedTokensMean"] > 5
    assert data["answered"] == 1  # propagation's row is unchanged by the model's
    for text in (done.stdout, done.stderr):
        assert CANARY not in text and "width" not in text and "side" not in text and "total" not in text
    markdown = _run(repo, "--model", str(sweep_like_model), "--threads", "1", "--next-edit-predictor", "sweep",
                    "--model-cases", "1")
    assert markdown.returncode == 0 and "| model (sweep, 1 cases) |" in markdown.stdout, markdown.stdout


def test_a_model_that_is_not_a_next_edit_model_is_refused(repo: Path) -> None:
    from tests.tiny_models import tiny_model_path

    done = _run(repo, "--model", str(tiny_model_path("qwen2.5-coder")), "--next-edit-predictor", "auto")
    assert done.returncode == 2 and "is not a next-edit model" in done.stderr
