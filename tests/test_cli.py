"""The headless CLI: clear errors for bad models and positions, JSON output, diffable batches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.tiny_models import tiny_model_path

CLI = [sys.executable, "-m", "slm_lsp"]


def run(args: list[str], env: dict[str, str], cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def _bad_model(kind: str, tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / f"{kind}.gguf"
    if kind == "missing":
        return path, "no such file"
    if kind == "empty":
        path.write_bytes(b"")
        return path, "empty file"
    if kind == "text":
        path.write_text("# not a model, just a text file named .gguf\n")
        return path, "not a GGUF file"
    data = tiny_model_path("deepseek-coder").read_bytes()
    if kind == "truncated-data":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "truncated-header":
        path.write_bytes(data[:4096])
    return path, "truncated GGUF file"


@pytest.mark.parametrize("kind", ["missing", "empty", "text", "truncated-data", "truncated-header"])
def test_bad_model_exits_2_with_path_and_problem(kind: str, tmp_path: Path, clean_env: dict[str, str]) -> None:
    model, problem = _bad_model(kind, tmp_path)
    result = run(["complete", "examples/add.py", "--line", "1", "--character", "11", "--model", str(model)], clean_env)
    assert result.returncode == 2
    assert str(model) in result.stderr and problem in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_model_from_environment_variable(tmp_path: Path, clean_env: dict[str, str]) -> None:
    model, _ = _bad_model("text", tmp_path)
    result = run(["complete", "examples/add.py", "--line", "1", "--character", "11"], {**clean_env, "SLM_LSP_MODEL": str(model)})
    assert result.returncode == 2 and str(model) in result.stderr


@pytest.mark.parametrize(
    ("line", "character", "message"),
    [("40", "0", "past the end of the document"), ("1", "99", "past the end of line 1"), ("-1", "0", "negative position")],
)
def test_bad_position_exits_1(line: str, character: str, message: str, embedded_model: Path, clean_env: dict[str, str]) -> None:
    result = run(["complete", "examples/add.py", "--line", line, "--character", character, "--model", str(embedded_model)], clean_env)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_binary_file_is_refused(tmp_path: Path, embedded_model: Path, clean_env: dict[str, str]) -> None:
    binary = tmp_path / "blob.py"
    binary.write_bytes(b"def f():\x00\x01\x02")
    result = run(["complete", str(binary), "--line", "0", "--character", "0", "--model", str(embedded_model)], clean_env)
    assert result.returncode == 1 and "binary file" in result.stderr


def test_complete_json_on_the_embedded_default(clean_env: dict[str, str]) -> None:
    """No --model and no SLM_LSP_MODEL: the embedded Gemma model is assembled and used."""
    result = run(["complete", "examples/add.py", "--line", "1", "--character", "11", "--json"], clean_env)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["model"] == "Gemma 3 270m" and output["family"] == "none"
    assert {"prompt_tokens", "prompt_ms", "generation_ms", "generated_tokens"} <= output["timings"].keys()
    source = (REPO / "examples/add.py").read_text().split("\n")
    source[1] = source[1][:11] + output["text"]
    namespace: dict[str, object] = {}
    exec("\n".join(source), namespace)  # noqa: S102 - the repository's own example file
    assert namespace["add"](20, 22) == 42  # type: ignore[operator]


def test_batch_is_deterministic_and_reports_bad_lines(tmp_path: Path, embedded_model: Path, clean_env: dict[str, str]) -> None:
    (tmp_path / "a.py").write_text("def add(a, b):\n    return\n")
    requests = tmp_path / "requests.jsonl"
    lines = [
        {"id": "file", "path": "a.py", "line": 1, "character": 10},
        {"id": "inline", "text": "def mul(a, b):\n    return", "language": "python", "line": 1, "character": 10},
        {"id": "past-end", "text": "x = 1\n", "line": 9, "character": 0},
    ]
    requests.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n")
    first = run(["batch", str(requests), "--model", str(embedded_model)], clean_env)
    second = run(["batch", str(requests), "--model", str(embedded_model)], clean_env)
    assert first.returncode == 1  # some lines failed
    assert first.stdout == second.stdout
    results = [json.loads(line) for line in first.stdout.splitlines()]
    assert [r["id"] for r in results] == ["file", "inline", "past-end", 4]
    assert results[0]["text"].strip() == "a + b"
    assert "*" in results[1]["text"]
    assert "past the end" in results[2]["error"] and "not valid JSON" in results[3]["error"]
    assert all("timings" not in r for r in results)


def test_excluded_file_is_refused_and_its_secret_never_printed(tmp_path: Path, embedded_model: Path, clean_env: dict[str, str]) -> None:
    canary = "sk-live-CANARY0123456789abcdef"
    (tmp_path / ".env").write_text(f"API_KEY={canary}\n")
    (tmp_path / "settings.py").write_text(f'API_KEY = "{canary}"\nTIMEOUT = \n')
    refused = run(["complete", str(tmp_path / ".env"), "--line", "0", "--character", "3", "--model", str(embedded_model)], clean_env)
    assert refused.returncode == 1 and "excluded" in refused.stderr and "deny list" in refused.stderr
    completed = run(["complete", str(tmp_path / "settings.py"), "--line", "1", "--character", "10", "--json",
                     "--log-level", "debug", "--model", str(embedded_model)], clean_env)
    assert completed.returncode == 0, completed.stderr
    for output in (refused.stdout, refused.stderr, completed.stdout, completed.stderr):
        assert canary not in output


def test_cross_file_definition_reaches_the_prompt(tmp_path: Path, embedded_model: Path, clean_env: dict[str, str]) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "util.py").write_text('def scale_vector(values, factor):\n    """Multiply every value."""\n    return [v * factor for v in values]\n')
    (tmp_path / "main.py").write_text("from pkg.util import scale_vector\n\nresult = scale_vector(\n")
    args = ["complete", str(tmp_path / "main.py"), "--line", "2", "--character", "22", "--json", "--model", str(embedded_model)]
    with_workspace = json.loads(run([*args, "--workspace", str(tmp_path)], clean_env).stdout)
    (tmp_path / "pkg" / "util.py").unlink()
    without = json.loads(run([*args, "--workspace", str(tmp_path)], clean_env).stdout)
    assert with_workspace["timings"]["prompt_tokens"] > without["timings"]["prompt_tokens"] + 20
