"""``slm-lsp eval --workspace``: complete sampled holes through the real pipeline, per variant.

The workspace is indexed once, by the same context stage and privacy gate the editor
uses; holes come only from files that index holds (so only from files the gate admits).
For each hole the file is opened in the context stage with the hole cut out, exactly as
an editor would report a buffer the user is typing in, and completed at the cursor; it is
closed afterwards and its recent-edit memory dropped, so one hole's text never shows up in
another's prompt and the variants see the same prompts for the same settings.

Variants are settings overrides (``--set promptTokens=512``; ``--set model=PATH`` for
another model), each run over all holes on its own loaded model, one after the other
(the machine has the cores for one model at a time).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slm_lsp.config.settings import Settings, SettingsError
from slm_lsp.context import ContextEngine
from slm_lsp.context.languages import grammar_for_path
from slm_lsp.evaluation.compare import Paired, paired
from slm_lsp.evaluation.gating import THRESHOLDS, GatePoint, gating_curve
from slm_lsp.evaluation.progress import Progress
from slm_lsp.evaluation.workspace_holes import Hole, SourceFile
from slm_lsp.evaluation.workspace_scores import METRICS, score
from slm_lsp.evaluation.workspace_tests import SuiteCommand
from slm_lsp.languages import language_for_path
from slm_lsp.pipeline import CompletionRequest, Pipeline
from slm_lsp.privacy.reader import read_utf8

log = logging.getLogger(__name__)

LoadPipeline = Callable[[Settings], Pipeline]


@dataclass(frozen=True)
class Variant:
    """A name and the settings overrides that make it."""

    name: str
    overrides: Mapping[str, Any]


def parse_variant(spec: str) -> Variant:
    """``KEY=VALUE[,KEY=VALUE...]`` (values read as JSON when they parse: 512, 0.1, true)."""
    overrides: dict[str, Any] = {}
    for item in spec.split(","):
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise SettingsError(f"--set expects KEY=VALUE[,KEY=VALUE...], got {spec!r}")
        try:
            overrides[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key.strip()] = value
    return Variant(spec, overrides)


def workspace_files(context: ContextEngine, languages: Sequence[str] | None = None) -> list[SourceFile]:
    """The files of the workspace index (admitted by the gate), read as they are on disk,
    with the gate's secret findings; ``languages`` are LSP ids (python, typescript ...)."""
    gate = context.gate
    roots = context.roots
    found: list[SourceFile] = []
    for path in sorted(context.index.paths()):
        decision = gate.check_path(path)
        if decision.excluded or decision.path is None:
            continue
        language = language_for_path(path)
        grammar = grammar_for_path(path)
        if language is None or grammar is None or (languages and language not in languages):
            continue
        outcome = read_utf8(str(decision.real_path or decision.path), max_bytes=gate.max_file_bytes,
                            max_line_chars=gate.max_line_chars)
        if outcome.text is None:
            continue
        root = next((r for r in roots if path.is_relative_to(r)), path.parent)
        findings = gate.redact(outcome.text, hint=path.name).findings
        found.append(SourceFile(path, path.relative_to(root).as_posix(), outcome.text, language, grammar, findings))
    return found


@dataclass
class VariantRun:
    """One variant's results, hole by hole (same order as the holes)."""

    variant: Variant
    model: str = ""
    results: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # the variant could not run at all (model or settings)
    min_confidence: float | None = None  # the variant's threshold: holes are scored ungated, the curve shows it

    def metrics(self) -> dict[str, float | None]:
        return aggregate(self.results)

    def gating(self) -> list[GatePoint]:
        """The confidence-gating curve over the non-empty suggestions; right = would accept."""
        suggestions = [r for r in self.results if r.get("completion", "").strip() and "error" not in r]
        if not any(r.get("confidence") is not None for r in suggestions):
            return []
        scores = [1.0 if r.get("confidence") is None else float(r["confidence"]) for r in suggestions]
        return gating_curve(scores, [bool(r["would_accept"]) for r in suggestions], THRESHOLDS)


def aggregate(results: Sequence[Mapping[str, Any]]) -> dict[str, float | None]:
    """Rates and means over holes; a hole whose completion raised counts as a miss."""
    rows = [r for r in results if "error" not in r]
    n = len(results)
    if not n:
        return dict.fromkeys(("exact_match", "edit_similarity", "would_accept", "chars_saved_share", "tests_passed",
                              "seconds_per_hole"))
    truth = sum(r["truth_chars"] for r in results)
    tested = [r["tests_passed"] for r in results if r.get("tests_passed") is not None]
    return {
        "exact_match": sum(r["exact_match"] for r in rows) / n,
        "edit_similarity": sum(r["edit_similarity"] for r in rows) / n,
        "would_accept": sum(r["would_accept"] for r in rows) / n,
        "chars_saved_share": sum(r["chars_saved"] for r in rows) / truth if truth else 0.0,
        "tests_passed": sum(tested) / len(tested) if tested else None,
        "seconds_per_hole": sum(r["seconds"] for r in results) / n,
    }


@dataclass
class WorkspaceReport:
    """Everything a run found; ``as_dict`` holds code only when ``show`` was asked for."""

    workspace: str
    seed: int
    kinds: list[str]
    languages: list[str]
    files: int
    holes: list[Hole]
    runs: list[VariantRun]
    show: bool
    redact: Callable[[str, str], str]  # (text, file name) -> text as the gate redacts it, for --show
    tests: dict[str, Any] | None = None  # the --test-cmd check on the unchanged copy

    def paired(self) -> list[tuple[str, str, list[Paired]]]:
        """Each later variant against the first, on the holes both completed."""
        if len(self.runs) < 2 or self.runs[0].error:
            return []
        first = self.runs[0]
        out: list[tuple[str, str, list[Paired]]] = []
        for other in self.runs[1:]:
            if other.error:
                continue
            metrics = [paired(m, [float(r[m]) for r in first.results], [float(r[m]) for r in other.results])
                       for m in METRICS]
            tested = [(a.get("tests_passed"), b.get("tests_passed")) for a, b in zip(first.results, other.results)]
            tested = [(a, b) for a, b in tested if a is not None and b is not None]
            if tested:
                metrics.append(paired("tests_passed", [float(a) for a, _ in tested], [float(b) for _, b in tested]))
            out.append((first.variant.name, other.variant.name, metrics))
        return out

    def as_dict(self) -> dict[str, Any]:
        holes = []
        for index, hole in enumerate(self.holes):
            entry: dict[str, Any] = {
                "id": hole.id, "path": hole.file.relative, "line": hole.line + 1, "column": hole.column + 1,
                "kind": hole.kind, "language": hole.file.language, "truth_chars": len(hole.truth.rstrip()),
                "results": {},
            }
            if self.show:
                entry["truth"] = self.redact(hole.truth, hole.file.path.name)
            for run in self.runs:
                if run.error:
                    continue
                result = dict(run.results[index])
                completion = result.pop("completion", "")
                if self.show:
                    result["completion"] = self.redact(completion, hole.file.path.name)
                entry["results"][run.variant.name] = result
            holes.append(entry)
        counts = {kind: sum(hole.kind == kind for hole in self.holes) for kind in self.kinds}
        kinds = {kind: count for kind, count in counts.items() if count}
        return {
            "workspace": self.workspace,
            "seed": self.seed,
            "n": len(self.holes),
            "kinds": self.kinds,
            "holes_by_kind": kinds,
            "languages": self.languages,
            "files": self.files,
            "variants": [
                {"name": run.variant.name, "settings": dict(run.variant.overrides), "model": run.model,
                 "error": run.error, "metrics": run.metrics(), "min_confidence": run.min_confidence,
                 "gating": [point.as_dict() for point in run.gating()],
                 "by_kind": {} if run.error else {
                     kind: aggregate([r for r, h in zip(run.results, self.holes) if h.kind == kind]) for kind in kinds}}
                for run in self.runs
            ],
            "paired": [{"a": a, "b": b, "metrics": [p.as_dict() for p in result]} for a, b, result in self.paired()],
            "tests": self.tests,
            "baseline": None,  # the command fills it in when --baseline is given
            "holes": holes,
        }


def run_variants(
    context: ContextEngine,
    holes: Sequence[Hole],
    base: Settings,
    variants: Iterable[Variant],
    load: LoadPipeline,
    *,
    tests: SuiteCommand | None = None,
    progress: bool = True,
) -> list[VariantRun]:
    """Complete every hole with every variant; a variant whose settings or model fail is
    reported and the others still run."""
    variants = list(variants)
    bar = Progress(len(holes) * len(variants), "eval", enabled=progress)
    runs: list[VariantRun] = []
    done = 0
    try:
        for variant in variants:
            run = VariantRun(variant)
            runs.append(run)
            try:
                settings = base.replace(variant.overrides)
                run.min_confidence = settings.min_confidence
                # Scored ungated, as HumanEval is: the gating curve says what each threshold hides.
                pipeline = load(settings.replace({"min_confidence": 0.0}))
            except Exception as exc:  # noqa: BLE001 - bad settings or model: one sentence, the next variant runs
                run.error = f"{type(exc).__name__}: {exc}"
                done += len(holes)
                bar.update(done, f"{variant.name}: failed")
                continue
            run.model = pipeline.engine.name
            try:
                for hole in holes:
                    run.results.append(_complete_hole(context, pipeline, hole, tests))
                    done += 1
                    bar.update(done, f"{variant.name}: accept {_accept_rate(run):.2f}")
            finally:
                pipeline.engine.close()
    finally:
        bar.close()
    return runs


def _complete_hole(context: ContextEngine, pipeline: Pipeline, hole: Hole, tests: SuiteCommand | None) -> dict[str, Any]:
    uri = hole.file.path.as_uri()
    document = hole.document
    started = time.perf_counter()
    context.document_opened(uri, document, hole.file.language)
    try:
        result = pipeline.complete(CompletionRequest(text=document, offset=hole.start, uri=uri, language=hole.file.language))
        completion, stop, confidence = result.completion, result.stop_reason, result.confidence
        error = None
    except Exception as exc:  # noqa: BLE001 - one failing hole must not end the run
        completion, stop, confidence, error = "", "error", None, f"{type(exc).__name__}: {exc}"
    finally:
        context.document_closed(uri)
        context.recent.forget(uri)
        context.wait_until_indexed(timeout=60)  # the disk version is back before the next hole
    seconds = time.perf_counter() - started
    record: dict[str, Any] = {**score(completion, hole.truth).as_dict(), "seconds": round(seconds, 3),
                              "stop_reason": stop, "completion": completion,
                              "confidence": None if confidence is None else round(confidence, 4)}
    if error is not None:
        record["error"] = error
    if tests is not None and hole.file.language == "python":
        outcome = tests.run_with(hole.file.relative, document[: hole.start] + completion + document[hole.start :])
        record["tests_passed"] = outcome.passed
    return record


def _accept_rate(run: VariantRun) -> float:
    return sum(r["would_accept"] for r in run.results) / len(run.results) if run.results else 0.0


def load_report(path: Path) -> dict[str, Any]:
    """A saved JSON report (for ``--baseline``); raises ValueError with the reason."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read baseline {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"baseline {path} is not JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"baseline {path} is not a JSON object")  # noqa: TRY004 - a bad file, not a bad argument
    return data
