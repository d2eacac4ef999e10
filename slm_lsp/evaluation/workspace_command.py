"""``slm-lsp eval --workspace DIR``: options, the run, the output and the baseline gate.

The main CLI passes two callables, so that this package never loads a model itself: one
that builds the workspace's context stage (privacy gate and index, as ``complete`` and
``batch`` do) and one that loads a pipeline for given settings on that context.

Output goes to stdout as markdown (or JSON with ``--json``); ``--out FILE`` also writes the
JSON report, which a later run reads with ``--baseline FILE``. Holes and completions are
in neither unless ``--show`` is given, since reports are shared (CI logs, tickets); even
then they pass the gate's redaction. Exit codes: 0 done, 1 a metric dropped below the
baseline beyond ``--tolerance``, 2 usage error (bad option, workspace, baseline or test
command, or a variant whose model could not be loaded: the report still shows the others).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from slm_lsp.config.settings import Settings, SettingsError
from slm_lsp.context import ContextEngine
from slm_lsp.evaluation.compare import BaselineError, compare_with_baseline
from slm_lsp.evaluation.workspace_holes import KINDS, sample_holes
from slm_lsp.evaluation.workspace_report import markdown
from slm_lsp.evaluation.workspace_runner import (
    Variant,
    WorkspaceReport,
    load_report,
    parse_variant,
    run_variants,
    workspace_files,
)
from slm_lsp.evaluation.workspace_tests import SuiteCommand, SuiteCommandError
from slm_lsp.pipeline import Pipeline

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE = 0, 1, 2
DEFAULT_HOLES = 40

BuildContext = Callable[[Path], ContextEngine]
LoadOnContext = Callable[[Settings, ContextEngine], Pipeline]


def add_workspace_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that only apply with ``--workspace``."""
    group = parser.add_argument_group("workspace evaluation (--workspace)")
    group.add_argument("--workspace", type=Path, help="score on holes cut from this workspace's own files")
    group.add_argument("--kinds", type=_kinds, default=list(KINDS),
                       help=f"hole kinds, comma-separated (default: {','.join(KINDS)})")
    group.add_argument("--languages", type=_words, default=[],
                       help="LSP language ids to sample, comma-separated (default: all indexed)")
    group.add_argument("--show", action="store_true", help="include holes and completions in the output")
    group.add_argument("--test-cmd", help="MODULE [ARGS]: run as python -m in the sandbox for Python holes, "
                                          "e.g. 'unittest discover -s tests' or 'pytest -q -x tests'")
    group.add_argument("--test-timeout", type=float, default=120.0, help="seconds per test run (default: 120)")
    group.add_argument("--baseline", type=Path, help="a saved JSON report; exit 1 if a metric drops beyond --tolerance")
    group.add_argument("--tolerance", type=float, default=0.02,
                       help="largest allowed drop of a 0..1 metric against --baseline (default: 0.02)")


def run_workspace(args: argparse.Namespace, settings: Settings, build_context: BuildContext,
                  load: LoadOnContext) -> int:
    """Sample, complete, score and report; compare with the baseline when one is given."""
    root = args.workspace.resolve()
    if not root.is_dir():
        return _usage(f"--workspace {args.workspace} is not a directory")
    try:
        variants = [Variant("base", {}), *(parse_variant(spec) for spec in _variant_specs(args.set))]
        for variant in variants:
            settings.replace(variant.overrides)  # a bad key or value stops the run before any model loads
        baseline = load_report(args.baseline) if args.baseline is not None else None
    except (SettingsError, ValueError) as exc:
        return _usage(str(exc))
    context = build_context(root)
    tests: SuiteCommand | None = None
    try:
        files = workspace_files(context, args.languages)
        holes = sample_holes(files, n=args.n or DEFAULT_HOLES, seed=args.seed, kinds=args.kinds)
        if not holes:
            return _usage(f"no holes to cut: {root} has no admitted files in {', '.join(args.languages) or 'an indexed language'}")
        test_status = None
        if args.test_cmd:
            try:
                tests = SuiteCommand(args.test_cmd, root, context.gate, timeout=args.test_timeout)
            except SuiteCommandError as exc:
                return _usage(str(exc))
            check = tests.check()
            if not check.passed:
                return _usage(f"--test-cmd fails on the unchanged workspace copy ({check.status}: {check.detail}); "
                              "no completion can be judged by it")
            test_status = {"command": args.test_cmd, "files": tests.copied, "status": check.status}
        runs = run_variants(context, holes, settings, variants, lambda s: load(s, context), tests=tests,
                            progress=not args.no_progress)
    finally:
        if tests is not None:
            tests.close()
        context.shutdown()
    gate = context.gate
    report = WorkspaceReport(
        workspace=root.name, seed=args.seed, kinds=list(args.kinds), languages=list(args.languages),
        files=len(files), holes=holes, runs=runs, show=args.show, tests=test_status,
        redact=lambda text, name: gate.redact(text, hint=name).text,
    )
    data = report.as_dict()
    if all(run.error for run in runs):
        print(f"slm-lsp eval: no variant ran: {runs[0].error}", file=sys.stderr)
        return EXIT_USAGE
    code = EXIT_OK
    for run in runs:
        if run.error:  # the others are reported; the run is incomplete, so it cannot pass a gate
            print(f"slm-lsp eval: variant {run.variant.name} did not run: {run.error}", file=sys.stderr)
            code = EXIT_USAGE
    if baseline is not None:
        try:
            comparison = compare_with_baseline(data, baseline, args.tolerance)
        except BaselineError as exc:
            return _usage(f"baseline {args.baseline}: {exc}")
        data["baseline"] = comparison.as_dict()
        if not comparison.passed and code == EXIT_OK:
            code = EXIT_REGRESSION
            for regression in comparison.regressions:
                print(f"slm-lsp eval: regression against {args.baseline}: {regression.describe()}", file=sys.stderr)
    if args.out is not None:
        args.out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"report written to {args.out}", file=sys.stderr)
    print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else markdown(data), end="" if not args.json else "\n")
    return code


def _variant_specs(values: object) -> list[str]:
    """The --set values given (a lone string is the HumanEval default, not a variant)."""
    return [str(value) for value in values] if isinstance(values, list) else []


def _usage(message: str) -> int:
    print(f"slm-lsp eval: {message}", file=sys.stderr)
    return EXIT_USAGE


def _words(text: str) -> list[str]:
    return [word.strip() for word in text.split(",") if word.strip()]


def _kinds(text: str) -> list[str]:
    kinds = _words(text)
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"kinds are {', '.join(KINDS)} (got {text!r})")
    return kinds
