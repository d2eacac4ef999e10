"""``slm-lsp eval --workspace`` end to end: the real CLI, pipeline, llama.cpp and a tiny model.

Covers the baseline gate's exit codes, that code reaches the output only with ``--show``,
that no canary secret reaches an output, a report file, a log line or a prompt, variants
side by side, and ``--test-cmd`` in the sandbox.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from slm_lsp import cli
from slm_lsp.engine.local_engine import Engine
from slm_lsp.evaluation.workspace_tests import SuiteCommand
from slm_lsp.privacy import PrivacyGate
from tests.conftest import REPO
from tests.test_eval_workspace import make_workspace
from tests.tiny_models import tiny_model_path

CANARIES = {
    "key": "AKIAZ7CANARY4KEYQ2XW",  # in an admitted module (redacted, its lines never holes)
    "env": "CANARYenvPw9",  # in .env (deny-listed)
    "ignored": "CANARYignored3F8kD2nB7cV5xQ",  # in a git-ignored module
}


def _eval(workspace: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "slm_lsp", "eval", "--workspace", str(workspace), "--n", "8", "--seed", "2",
               "--model", str(tiny_model_path("qwen2.5-coder")), "--threads", "1", *extra]
    return subprocess.run(command, check=False, capture_output=True, text=True, env=env, cwd=REPO, timeout=600)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = make_workspace(tmp_path / "repo")
    (root / "build" / "vault.py").write_text(f'def vault_token():\n    return "{CANARIES["ignored"]}"\n')
    (root / "main.py").write_text(
        "from pkg.cloud import upload\nfrom build.vault import vault_token\n\n\n"
        "def publish(storage, payload):\n    receipt = upload(storage, payload)\n    return receipt, vault_token()\n"
    )
    return root


def test_baseline_gate_exit_codes(workspace: Path, tmp_path: Path, clean_env: dict[str, str]) -> None:
    saved = tmp_path / "baseline.json"
    first = _eval(workspace, clean_env, "--out", str(saved), "--no-progress")
    assert first.returncode == 0, first.stderr
    report = json.loads(saved.read_text())
    assert report["n"] == 8 and report["variants"][0]["name"] == "base"

    same = _eval(workspace, clean_env, "--baseline", str(saved))
    assert same.returncode == 0, same.stderr
    assert "Baseline: passed" in same.stdout and "same holes" in same.stdout
    assert "eval [" in same.stderr  # the progress bar is on stderr, not in the report

    better = json.loads(saved.read_text())
    better["variants"][0]["metrics"].update(edit_similarity=1.0, would_accept=1.0)
    raised = tmp_path / "raised.json"
    raised.write_text(json.dumps(better))
    dropped = _eval(workspace, clean_env, "--baseline", str(raised), "--no-progress")
    assert dropped.returncode == 1
    assert "regression against" in dropped.stderr and "edit_similarity 1.0000 ->" in dropped.stderr
    assert "Baseline: FAILED" in dropped.stdout
    assert _eval(workspace, clean_env, "--baseline", str(raised), "--tolerance", "1", "--no-progress").returncode == 0

    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    refused = _eval(workspace, clean_env, "--baseline", str(broken), "--no-progress")
    assert refused.returncode == 2 and "not JSON" in refused.stderr and refused.stdout == ""
    humaneval = tmp_path / "humaneval.json"
    humaneval.write_text(json.dumps({"set": "single", "n": 3}))
    wrong = _eval(workspace, clean_env, "--baseline", str(humaneval), "--no-progress")
    assert wrong.returncode == 2 and "has no variants" in wrong.stderr


def test_code_reaches_the_output_only_with_show(workspace: Path, tmp_path: Path, clean_env: dict[str, str]) -> None:
    shown_file, hidden_file = tmp_path / "shown.json", tmp_path / "hidden.json"
    shown = _eval(workspace, clean_env, "--show", "--json", "--out", str(shown_file), "--no-progress")
    hidden_json = _eval(workspace, clean_env, "--json", "--out", str(hidden_file), "--no-progress")
    hidden_md = _eval(workspace, clean_env, "--no-progress")
    assert shown.returncode == hidden_json.returncode == hidden_md.returncode == 0
    holes = json.loads(shown.stdout)["holes"]
    code = [h["truth"] for h in holes] + [h["results"]["base"]["completion"] for h in holes]
    code = [text.strip() for text in code if len(text.strip()) >= 8]
    assert len(code) >= 4
    shown_md = _eval(workspace, clean_env, "--show", "--no-progress").stdout
    assert all(text in shown_md for text in code if "\n" not in text)
    hidden = hidden_json.stdout + hidden_json.stderr + hidden_md.stdout + hidden_md.stderr + hidden_file.read_text()
    for text in code:
        assert text not in hidden
    for hole in json.loads(hidden_file.read_text())["holes"]:
        assert "truth" not in hole and all("completion" not in r for r in hole["results"].values())
    assert [h["id"] for h in json.loads(hidden_json.stdout)["holes"]] == [h["id"] for h in holes]


def test_no_canary_in_output_report_log_or_prompt(workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str],
                                                  caplog: pytest.LogCaptureFixture, clean_env: dict[str, str]) -> None:
    prompts: list[str] = []
    real_generate = Engine.generate

    def capture(self: Engine, ids, **kwargs):  # type: ignore[no-untyped-def]
        prompts.append(self.detokenize(ids))
        return real_generate(self, ids, **kwargs)

    monkeypatch.setattr(Engine, "generate", capture)
    out = tmp_path / "report.json"
    with caplog.at_level(logging.DEBUG):
        code = cli.main(["eval", "--workspace", str(workspace), "--n", "60", "--seed", "0", "--show", "--json",
                         "--out", str(out), "--no-progress", "--set", "promptTokens=512",
                         "--model", str(tiny_model_path("qwen2.5-coder")), "--threads", "1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    assert {h["path"] for h in report["holes"]} >= {"pkg/cloud.py", "pkg/shapes.py"}
    assert not any(h["path"].startswith(("build/", ".env")) for h in report["holes"])
    assert len(prompts) >= 60  # both variants ran (cached prompts excepted)
    assert any("<redacted:" in p and "def upload" in p for p in prompts)  # cloud.py was shown, its key redacted
    assert any("def upload" in p and "import upload" in p for p in prompts)  # as another file's context, too
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for name, canary in CANARIES.items():
        for where, text in (("stdout", captured.out), ("stderr", captured.err), ("report", out.read_text()),
                            ("log", logged), ("prompt", "\n".join(prompts))):
            assert canary not in text, f"{name} canary in {where}"


def test_variants_side_by_side_and_a_bad_variant(workspace: Path, clean_env: dict[str, str]) -> None:
    both = _eval(workspace, clean_env, "--set", "promptTokens=256", "--json", "--no-progress")
    assert both.returncode == 0, both.stderr
    report = json.loads(both.stdout)
    assert [v["name"] for v in report["variants"]] == ["base", "promptTokens=256"]
    assert report["variants"][1]["settings"] == {"promptTokens": 256}
    pair = report["paired"][0]
    assert (pair["a"], pair["b"]) == ("base", "promptTokens=256")
    assert {m["metric"] for m in pair["metrics"]} >= {"exact_match", "edit_similarity", "would_accept", "chars_saved"}
    assert all(m["wins"] + m["losses"] + m["ties"] == 8 for m in pair["metrics"])
    bad = _eval(workspace, clean_env, "--set", "promptTokenz=256", "--no-progress")
    assert bad.returncode == 2 and "unknown setting 'promptTokenz'" in bad.stderr and bad.stdout == ""
    missing = _eval(workspace, clean_env, "--set", f"model={workspace / 'none.gguf'}", "--json", "--no-progress")
    assert missing.returncode == 2 and "none.gguf" in missing.stderr
    variants = json.loads(missing.stdout)["variants"]
    assert variants[0]["error"] is None and variants[0]["metrics"]["edit_similarity"] is not None
    assert "none.gguf" in variants[1]["error"]


UNIT = '''import unittest

from calc import add, scale


class CalcTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(add(2, 3), 5)

    def test_scale(self):
        self.assertEqual(scale([1, 2], 3), [3, 6])
'''

CALC = '''def add(a, b):
    total = a + b
    return total


def scale(values, factor):
    scaled = [value * factor for value in values]
    return scaled
'''


def _tested_workspace(root: Path) -> Path:
    (root / "tests").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".env").write_text("SECRET_TOKEN=CANARYenvPw9\n")
    (root / "calc.py").write_text(CALC)
    (root / "tests" / "__init__.py").write_text("")
    (root / "tests" / "test_calc.py").write_text(UNIT)
    return root


def test_test_command_runs_in_a_copy_without_excluded_files(tmp_path: Path) -> None:
    root = _tested_workspace(tmp_path / "calc")
    suite = SuiteCommand("python -m unittest discover -s tests -t .", root, PrivacyGate([root]), timeout=60)
    try:
        assert not (suite.copy / ".env").exists() and (suite.copy / "calc.py").is_file()
        assert suite.check().passed
        assert suite.run_with("calc.py", CALC.replace("total = a + b", "total = a - b")).status == "failed"
        assert suite.run_with("calc.py", CALC).passed
        assert (suite.copy / "calc.py").read_text() == CALC  # put back after each run
    finally:
        suite.close()
    assert not suite.copy.exists()
    pytest_suite = SuiteCommand("pytest -q -p no:cacheprovider tests", root, PrivacyGate([root]), timeout=120)
    try:  # a runner that needs subprocess and the whole os module runs too
        assert pytest_suite.check().passed
        assert pytest_suite.run_with("calc.py", CALC.replace("value * factor", "value + factor")).status == "failed"
    finally:
        pytest_suite.close()


def test_test_command_scores_python_holes(tmp_path: Path, clean_env: dict[str, str]) -> None:
    root = _tested_workspace(tmp_path / "calc")
    run = _eval(root, clean_env, "--languages", "python", "--kinds", "line", "--test-cmd", "unittest discover -s tests -t .",
                "--json", "--no-progress")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["tests"]["status"] == "passed"
    assert all(isinstance(h["results"]["base"]["tests_passed"], bool) for h in report["holes"])
    assert report["variants"][0]["metrics"]["tests_passed"] is not None
    (root / "tests" / "test_calc.py").write_text(UNIT.replace("[3, 6]", "[3, 7]"))
    failing = _eval(root, clean_env, "--test-cmd", "unittest discover -s tests -t .", "--no-progress")
    assert failing.returncode == 2 and "fails on the unchanged workspace copy" in failing.stderr
