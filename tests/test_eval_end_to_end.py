"""`slm-lsp eval` runs problems through the real pipeline (gate, context, prompt, engine, post-processing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.tiny_models import tiny_model_path


def test_eval_with_a_tiny_model(tmp_path: Path, clean_env: dict[str, str]) -> None:
    out = tmp_path / "completions.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "slm_lsp", "eval", "--set", "single", "--n", "4", "--seed", "1", "--json",
         "--no-progress", "--out", str(out), "--model", str(tiny_model_path("deepseek-coder")), "--threads", "1"],
        capture_output=True, text=True, env=clean_env, cwd=REPO, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n"] == 4 and report["errors"] == 0
    for scores in (report["pipeline"], report["baseline"]):
        assert 0.0 <= scores["pass_at_1"] <= 1.0 and 0.0 <= scores["edit_similarity"] <= 1.0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 4 and all("timings" in r for r in records)


def test_eval_turns_budgets_off_unless_asked_for_the_shipped_ones(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from slm_lsp import cli
    from slm_lsp.config.settings import Settings

    monkeypatch.setenv("SLM_LSP_CONFIG_DIR", str(tmp_path / "no-user-config"))
    off = cli._settings(cli._parser().parse_args(["eval", "--set", "multi"]))
    shipped = cli._settings(cli._parser().parse_args(["eval", "--set", "multi", "--shipped-budgets"]))
    assert (off.max_generation_seconds, off.max_prompt_seconds, off.adaptive_budgets) == (0.0, 0.0, False)
    defaults = Settings()
    assert (shipped.max_generation_seconds, shipped.max_prompt_seconds, shipped.adaptive_budgets) == (
        defaults.max_generation_seconds, defaults.max_prompt_seconds, defaults.adaptive_budgets,
    )
    assert defaults.max_generation_seconds > 0 and defaults.adaptive_budgets
