"""`models verify`, `models path` and `doctor` on tiny real models (no timed assertions)."""

from __future__ import annotations

import argparse
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from slm_lsp.config.settings import Settings
from slm_lsp.models import doctor
from slm_lsp.models.catalog import load_catalog
from slm_lsp.models.doctor import Estimate, recommend, recommend_actions
from slm_lsp.models.machine import Machine
from tests.models.conftest import TINY_FILE, UNVERIFIED_FILE, run
from tests.tiny_models import tiny_model_path


def _copy(tmp_path: Path, name: str, vocab: str = "deepseek-coder") -> Path:
    """A tiny model under ``name``, as if copied onto the machine by hand."""
    target = tmp_path / "downloads" / name
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(tiny_model_path(vocab), target)
    return target


def test_verify_good_file_then_install(tmp_path: Path, env: dict[str, str], cache: Path) -> None:
    path = _copy(tmp_path, TINY_FILE)
    result = run(["models", "verify", str(path)], env)
    assert result.returncode == 0, result.stderr
    assert "catalog:  tiny-verified (sha256 verified)" in result.stdout
    assert "fim:      deepseek-coder (fill-in-the-middle" in result.stdout
    assert "architecture llama" in result.stdout
    assert f"slm-lsp models verify {path} --install" in result.stdout
    not_pulled = run(["models", "path", "tiny-verified"], env)
    assert not_pulled.returncode == 2 and "not pulled; run 'slm-lsp models pull tiny-verified'" in not_pulled.stderr

    installed = run(["models", "verify", str(path), "--install"], env)
    assert installed.returncode == 0, installed.stderr
    assert (cache / TINY_FILE).read_bytes() == path.read_bytes()
    assert [p.name for p in cache.iterdir()] == [TINY_FILE]  # the temporary copy is gone
    assert run(["models", "path", "tiny-verified"], env).stdout.strip() == str(cache / TINY_FILE)


def test_verify_matches_an_unverified_entry_by_name(tmp_path: Path, env: dict[str, str]) -> None:
    result = run(["models", "verify", str(_copy(tmp_path, UNVERIFIED_FILE, "starcoder"))], env)
    assert result.returncode == 0, result.stderr
    assert "tiny-unverified by file name; unverified" in result.stdout
    assert "fim:      starcoder2 (fill-in-the-middle" in result.stdout and "warning" not in result.stdout


def test_verify_corrupt_files(tmp_path: Path, env: dict[str, str]) -> None:
    flipped = _copy(tmp_path, TINY_FILE)
    with flipped.open("r+b") as handle:  # one byte of weight data: the header stays valid
        handle.seek(flipped.stat().st_size - 100)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0xFF]))
    result = run(["models", "verify", str(flipped)], env)
    assert result.returncode == 1
    assert "sha256 differs from the published" in result.stdout and "does not match" in result.stderr

    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(tiny_model_path("deepseek-coder").read_bytes()[:100_000])
    result = run(["models", "verify", str(truncated)], env)
    assert result.returncode == 1 and "truncated GGUF file" in result.stderr and "Traceback" not in result.stderr

    missing = run(["models", "verify", str(tmp_path / "missing.gguf")], env)
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_verify_install_refuses_unknown_files(tmp_path: Path, env: dict[str, str]) -> None:
    result = run(["models", "verify", str(_copy(tmp_path, "something-else.gguf", "qwen2")), "--install"], env)
    assert "not in the catalog" in result.stdout
    assert result.returncode == 2 and "not a catalog model" in result.stderr


def test_doctor_without_probe(env: dict[str, str]) -> None:
    result = run(["doctor", "--model", str(tiny_model_path("deepseek-coder")), "--no-probe"], env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in ("python", "llama-cpp-python", "llama.cpp build", "cores", "RAM",
                     "family deepseek-coder", "context", "threads", "skipped (--no-probe)", "recommendation", "->"):  # fmt: skip
        assert expected in out, expected
    assert "Traceback" not in result.stderr


def test_doctor_with_probe(env: dict[str, str]) -> None:
    result = run(["doctor", "--model", str(tiny_model_path("qwen2.5-coder"))], env)
    assert result.returncode == 0, result.stderr
    assert "tokens/s" in result.stdout and "family qwen2.5-coder" in result.stdout
    assert "EXPECTED" in result.stdout


def test_doctor_reports_a_broken_model(tmp_path: Path, env: dict[str, str]) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_text("not a model\n")
    result = run(["doctor", "--model", str(broken)], env)
    assert result.returncode == 0
    assert "not a GGUF file" in result.stdout and "Traceback" not in result.stderr + result.stdout
    catalog_name = run(["doctor", "--model", "tiny-verified", "--no-probe"], env)
    assert catalog_name.returncode == 0 and "not pulled yet" in catalog_name.stdout


def test_recommendation_takes_the_largest_model_that_fits(catalog: Path) -> None:
    tiny = load_catalog(catalog)[0]
    big = type(tiny)(**{**tiny.__dict__, "name": "big", "size_bytes": tiny.size_bytes * 10})
    huge = type(tiny)(**{**tiny.__dict__, "name": "huge", "size_bytes": tiny.size_bytes * 100})
    estimates = [
        Estimate(tiny, fits_ram=True, fits_cores=True, latency_ms=100),
        Estimate(big, fits_ram=True, fits_cores=True, latency_ms=900),
        Estimate(huge, fits_ram=True, fits_cores=True, latency_ms=9000),
    ]
    assert recommend(estimates, 1000).entry.name == "big"  # type: ignore[union-attr]
    assert recommend(estimates, 50) is None
    unmeasured = [Estimate(big, fits_ram=True, fits_cores=False, latency_ms=None), Estimate(tiny, fits_ram=True, fits_cores=True, latency_ms=None)]
    assert recommend(unmeasured, 1000).entry.name == tiny.name  # type: ignore[union-attr]
    assert recommend([Estimate(huge, fits_ram=False, fits_cores=True, latency_ms=1)], 1000) is None


def test_recommendations_keep_completion_and_actions_models_apart(catalog: Path) -> None:
    tiny = load_catalog(catalog)[0]
    instruct = replace(tiny, name="instruct", role="actions", size_bytes=tiny.size_bytes * 10)
    larger = replace(instruct, name="larger-instruct", size_bytes=tiny.size_bytes * 20)
    estimates = [Estimate(tiny, True, True, 100), Estimate(instruct, True, True, 100), Estimate(larger, True, False, 100)]
    assert recommend(estimates, 1000).entry.name == tiny.name  # type: ignore[union-attr]  # never an instruct model
    assert recommend_actions(estimates).entry.name == "instruct"  # type: ignore[union-attr]  # larger lacks cores
    assert recommend_actions([*estimates[:2], Estimate(larger, True, True, None)]).entry.name == "larger-instruct"  # type: ignore[union-attr]
    assert recommend_actions([Estimate(tiny, True, True, 1), Estimate(instruct, False, True, 1)]) is None


def _machine(ram_gb: float, cores: int) -> Machine:
    return Machine(python="3", llama_cpp_version="0", llama_system_info="", gpu_offload=False, cpu_model="test",
                   cpu_flags=(), cores=cores, usable_cores=cores, ram_total=int(ram_gb * 2**30), ram_available=None)


@pytest.mark.parametrize(
    ("ram_gb", "cores", "expected"),
    [
        (16, 8, "-> qwen2.5-coder-7b-instruct for code actions"),
        (4, 2, "-> qwen2.5-coder-1.5b-instruct for code actions"),
        (2, 2, "-> qwen2.5-coder-0.5b-instruct for code actions"),
        (16, 1, "-> no catalog instruct model fits this machine"),
        (1, 8, "-> no catalog instruct model fits this machine"),
    ],
)
def test_doctor_recommends_the_largest_actions_model_that_fits(
        ram_gb: float, cores: int, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("SLM_LSP_CATALOG", raising=False)  # the shipped catalog
    monkeypatch.setenv("SLM_LSP_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(doctor, "inspect_machine", lambda: _machine(ram_gb, cores))
    settings = Settings().replace({"model": str(tiny_model_path("deepseek-coder")), "n_threads": 1})
    assert doctor.run_doctor(argparse.Namespace(no_probe=True), settings) == 0
    out = capsys.readouterr().out
    assert expected in out
    if "no catalog" not in expected:
        assert f"slm-lsp models pull {expected.split()[1]}, then set actionsModel to {expected.split()[1]}" in out
    completion_choice = next(line for line in out.splitlines() if line.startswith("  -> ") and "code actions" not in line)
    assert "instruct" not in completion_choice  # the completion recommendation stays a base model
