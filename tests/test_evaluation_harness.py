"""The eval harness with completers of our own: problems, scoring, report, JSONL, CLI, self-test."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from slm_lsp.evaluation import (
    Completion,
    Problem,
    load_problems,
    run_eval,
    select,
    self_test,
)
from slm_lsp.evaluation.cli import add_eval_arguments, run_from_args
from slm_lsp.evaluation.selftest import SelfTestResult, redundant_holes


@pytest.fixture(scope="module")
def single() -> list[Problem]:
    return load_problems("single")


def test_all_sets_load(single: list[Problem]) -> None:
    assert len(single) == 1033
    assert len(load_problems("multi")) == 5815
    assert len(load_problems("random-span")) == 164
    with pytest.raises(ValueError, match="unknown problem set"):
        load_problems("hard")


def test_the_editor_view_puts_the_cursor_on_an_empty_line(single: list[Problem]) -> None:
    problem = single[3]
    before, after = problem.document[: problem.cursor], problem.document[problem.cursor :]
    assert before == problem.prompt and after == "\n" + problem.suffix
    assert not problem.reference.endswith("\n")
    # The canonical answer typed there gives exactly the benchmark's own program.
    expected = problem.prompt + problem.canonical_solution + problem.suffix
    assert problem.program(problem.reference).startswith(expected)
    assert problem.program(problem.reference).endswith(f"check({problem.entry_point})\n")


def test_random_span_problems_are_used_as_they_are() -> None:
    problem = load_problems("random-span")[0]
    assert problem.document == problem.prompt + problem.suffix
    assert problem.reference == problem.canonical_solution


def test_selection_is_seeded_and_keeps_file_order(single: list[Problem]) -> None:
    first, again, other = select(single, 10, 1), select(single, 10, 1), select(single, 10, 2)
    assert [p.task_id for p in first] == [p.task_id for p in again] != [p.task_id for p in other]
    positions = [single.index(p) for p in first]
    assert positions == sorted(positions)
    assert select(single, None, 0) == single and select(single, 5000, 0) == single


def test_canonical_completions_score_one(single: list[Problem], tmp_path: Path) -> None:
    problems = select(single, 12, 3)
    out = tmp_path / "run.jsonl"
    report = run_eval(problems, lambda p: Completion(p.reference, p.reference + "\nmore", {"ms": 1}), out_jsonl=out)
    assert report.n == 12 and report.errors == 0
    assert report.pipeline.pass_at_1 == report.pipeline.exact_match == report.pipeline.edit_similarity == 1.0
    # The baseline is cut from ``raw`` at its first newline: here the same line.
    assert report.baseline.pass_at_1 == 1.0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["task_id"] for r in records] == [p.task_id for p in problems]
    assert records[0]["timings"] == {"ms": 1} and records[0]["baseline_text"] == problems[0].reference
    assert {"passed", "status", "exact_match", "edit_similarity", "seconds", "raw", "text"} <= records[0].keys()


def test_pipeline_and_baseline_are_scored_separately() -> None:
    problems = [p for p in load_problems("multi") if p.reference.count("\n") >= 2][:6]
    # The pipeline returns the whole block; the baseline keeps only the raw first line.
    report = run_eval(problems, lambda p: Completion(p.reference, p.reference))
    assert report.pipeline.pass_at_1 == 1.0
    assert report.baseline.pass_at_1 < 1.0
    assert report.baseline.exact_match == 0.0
    assert 0.0 < report.baseline.edit_similarity < 1.0


def test_a_failing_completer_is_recorded_and_the_run_goes_on(single: list[Problem], tmp_path: Path) -> None:
    problems = [p for p in single if p.task_id not in redundant_holes()][:4]

    def complete(problem: Problem) -> Completion:
        if problem is problems[1]:
            raise RuntimeError("engine crashed")
        return Completion(problem.reference, problem.reference)

    out = tmp_path / "run.jsonl"
    report = run_eval(problems, complete, out_jsonl=out)
    assert report.errors == 1 and report.n == 4
    assert report.pipeline.pass_at_1 == 0.75
    assert json.loads(out.read_text().splitlines()[1])["error"] == "RuntimeError: engine crashed"


def test_progress_is_written_to_stderr(single: list[Problem], capsys: pytest.CaptureFixture[str]) -> None:
    run_eval(select(single, 3, 0), lambda p: Completion("", ""), progress=True)
    err = capsys.readouterr().err
    assert "eval [" in err and "3/3" in err


def test_self_test_on_a_sample_of_the_single_line_set(single: list[Problem]) -> None:
    result = self_test(select(single, 100, 0))
    assert result.canonical_pass_at_1 == 1.0, result.canonical_failures
    assert result.unexpected_empty_passes == []
    assert set(result.empty_passes) <= redundant_holes()
    assert result.ok


def test_self_test_on_the_whole_random_span_set() -> None:
    result = self_test(load_problems("random-span"))
    assert result.ok and result.empty_pass_at_1 == 0.0, result.summary()


def test_self_test_detects_a_broken_scorer() -> None:
    broken = SelfTestResult(n=2, canonical_pass_at_1=0.5, empty_pass_at_1=0.0, seconds=0.1, canonical_failures=["x"])
    assert not broken.ok
    lenient = SelfTestResult(n=2, canonical_pass_at_1=1.0, empty_pass_at_1=0.5, seconds=0.1, empty_passes=["T/1"])
    assert not lenient.ok and lenient.unexpected_empty_passes == ["T/1"]


def _parse(argv: list[str], parser: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    parser = parser or argparse.ArgumentParser()
    add_eval_arguments(parser)
    return parser.parse_args(argv)


def test_cli_runs_a_completer_from_the_factory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[argparse.Namespace] = []

    def factory(args: argparse.Namespace):
        seen.append(args)
        return lambda problem: Completion(problem.reference, problem.reference)

    out = tmp_path / "eval.jsonl"
    args = _parse(["--set", "random-span", "--n", "3", "--seed", "7", "--out", str(out), "--json", "--model", "m.gguf"])
    assert run_from_args(args, factory) == 0
    assert seen[0].model == "m.gguf"
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 3 and report["pipeline"]["pass_at_1"] == 1.0 and report["set"] == "random-span"
    assert len(out.read_text().splitlines()) == 3


def test_cli_self_test_needs_no_model(capsys: pytest.CaptureFixture[str]) -> None:
    def factory(args: argparse.Namespace):
        raise AssertionError("the self-test must not build a completer")

    assert run_from_args(_parse(["--set", "random-span", "--n", "10", "--self-test", "--no-progress"]), factory) == 0
    assert "-> OK" in capsys.readouterr().out


def test_cli_keeps_an_existing_model_option() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="from-common")
    args = _parse([], parser)
    assert args.model == "from-common" and args.set == "single" and args.n is None
    with pytest.raises(SystemExit):
        _parse(["--n", "0"])


def test_gating_curve_of_the_suggestions(single: list[Problem], capsys: pytest.CaptureFixture[str]) -> None:
    """Right suggestions get a high confidence, wrong ones a low one (one wrong one a high one),
    an empty one none: the curve counts non-empty suggestions only, and the report prints it."""
    problems = select(single, 6, 3)
    wrong = {problems[0].task_id: 0.1, problems[1].task_id: 0.25, problems[2].task_id: 0.9}

    def complete(problem: Problem) -> Completion:
        if problem.task_id in wrong:
            return Completion("    return None", "", {"confidence_ms": 0.5}, {"confidence": wrong[problem.task_id]})
        if problem is problems[3]:
            return Completion("", "", {}, {"confidence": None})
        return Completion(problem.reference, problem.reference, {"confidence_ms": 0.2}, {"confidence": 0.6})

    report = run_eval(problems, complete)
    by_threshold = {p.threshold: (p.shown, p.right_shown, p.wrong_shown) for p in report.gating}
    assert by_threshold == {0.0: (5, 2, 3), 0.1: (5, 2, 3), 0.2: (4, 2, 2), 0.3: (3, 2, 1), 0.4: (3, 2, 1), 0.5: (3, 2, 1)}
    assert report.gating[3].precision == pytest.approx(2 / 3) and report.gating[3].recall == 1.0
    assert report.confidence_ms_p50 == 0.5
    text = report.gating_summary(0.3)
    assert "| 0.3 (in force) | 3 | 2 (+0%) | 1 (-67%) | 0.667 | 1.000 |" in text and "0.50 ms p50" in text
    # Without any confidence (a backend without logprobs) the section says so.
    plain = run_eval(problems[:2], lambda p: Completion(p.reference, p.reference))
    assert plain.gating == [] and "no confidence reported" in plain.gating_summary(0.3)


def test_cli_held_out_run_leaves_the_tuning_sample_out(single: list[Problem], capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[str] = []

    def factory(args: argparse.Namespace):
        def complete(problem: Problem) -> Completion:
            seen.append(problem.task_id)
            return Completion(problem.reference, problem.reference, meta={"confidence": 0.8})
        return complete

    args = _parse(["--set", "single", "--exclude-sample", "1020:5", "--no-progress"])
    assert run_from_args(args, factory, min_confidence=0.3) == 0
    tuned = {p.task_id for p in select(single, 1020, 5)}
    assert len(seen) == len(single) - 1020 and not tuned & set(seen)
    out = capsys.readouterr().out
    assert "confidence gating" in out and "| 0.3 (in force) | 13 | 13 (+0%) | 0 | 1.000 | 1.000 |" in out
    with pytest.raises(SystemExit):
        _parse(["--exclude-sample", "twenty"])
