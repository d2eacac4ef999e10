"""Command-line glue for ``slm-lsp eval``: the options, and running a parsed command.

The main CLI owns model loading, so it passes a ``complete_factory`` that turns the parsed
arguments into a completer running the real pipeline; this module never imports the
engine. ``--self-test`` needs no model at all. ``--workspace DIR`` switches to scoring on
the workspace's own files (``workspace_command``); ``--set`` then names settings variants
instead of a HumanEval set.

Exit codes: 0 done (or self-test passed), 1 self-test failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

from slm_lsp.evaluation.nextedit_command import ModelFactory, add_next_edit_arguments, run_next_edit
from slm_lsp.evaluation.problems import SETS, load_problems, select
from slm_lsp.evaluation.runner import Completer, run_eval
from slm_lsp.evaluation.sandbox import DEFAULT_TIMEOUT
from slm_lsp.evaluation.selftest import SelfTestResult, self_test
from slm_lsp.evaluation.workspace_command import add_workspace_arguments

CompleterFactory = Callable[[argparse.Namespace], Completer]


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``eval`` options to ``parser`` (``--model`` only if the parser lacks it)."""
    parser.add_argument(
        "--set", action=_Repeatable, default="single", metavar="SET",
        help=f"HumanEval problem set ({', '.join(SETS)}; default: single); with --workspace a settings "
             "variant to compare, repeatable (e.g. promptTokens=512, model=PATH)",
    )
    parser.add_argument("--n", type=_count, default=None,
                        help="number of problems (default: the whole set) or holes (--workspace; default: 40)")
    parser.add_argument("--seed", type=int, default=0, help="seed for choosing --n problems or holes (default: 0)")
    parser.add_argument(
        "--exclude-sample", type=_sample, metavar="N:SEED",
        help="leave out the N problems --n N --seed SEED would choose (a held-out run after tuning on that sample)",
    )
    parser.add_argument("--out", type=Path,
                        help="write every completion with its scores and timings as JSONL (--workspace: the JSON report)")
    parser.add_argument("--self-test", action="store_true", help="check the scorer: canonical pass, empty fail")
    parser.add_argument("--jobs", type=_count, default=2, help="test programs run in parallel (default: 2)")
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help=f"seconds per test program (default: {DEFAULT_TIMEOUT:g})"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--shipped-budgets", action="store_true",
        help="keep the time limits and adaptive budgets users get (maxGenerationSeconds, maxPromptSeconds, "
             "adaptiveBudgets); by default they are off, so scores do not depend on the machine's speed",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    with contextlib.suppress(argparse.ArgumentError):
        parser.add_argument("--model", help="GGUF model file")
    add_workspace_arguments(parser)
    add_next_edit_arguments(parser)


def run_from_args(args: argparse.Namespace, complete_factory: CompleterFactory,
                  next_edit_model: ModelFactory | None = None, min_confidence: float | None = None) -> int:
    """Run the evaluation (or the self-test) that ``args`` describe; print the report, with the
    gating curve (``min_confidence``, the threshold in force, is marked in it)."""
    if getattr(args, "next_edit", False):
        return run_next_edit(args, next_edit_model)  # a model only with --next-edit-predictor
    names = args.set if isinstance(args.set, list) else [args.set]
    if len(names) > 1 or names[0] not in SETS:
        print(f"slm-lsp eval: --set is one of {', '.join(SETS)} without --workspace (got {' '.join(names)})",
              file=sys.stderr)
        return 2
    args.set = names[0]
    problems = load_problems(args.set)
    if args.exclude_sample is not None:
        tuned = {problem.task_id for problem in select(problems, *args.exclude_sample)}
        problems = [problem for problem in problems if problem.task_id not in tuned]
    problems = select(problems, args.n, args.seed)
    progress = not args.no_progress
    if args.self_test:
        result = self_test(problems, jobs=args.jobs, timeout=args.timeout, progress=progress)
        print(json.dumps(_self_test_dict(result), indent=2) if args.json else result.summary())
        return 0 if result.ok else 1
    complete = complete_factory(args)
    report = run_eval(problems, complete, out_jsonl=args.out, progress=progress, jobs=args.jobs, timeout=args.timeout)
    if args.json:
        print(json.dumps({"set": args.set, "seed": args.seed, "min_confidence": min_confidence, **report.as_dict()}, indent=2))
    else:
        print(f"set: {args.set}  seed: {args.seed}")
        print(report.summary())
        print()
        print(report.gating_summary(min_confidence))
    if args.out is not None:
        print(f"completions written to {args.out}", file=sys.stderr)
    return 0


class _Repeatable(argparse.Action):
    """Keeps its (string) default until given; then a list of every value given, in order."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        current = getattr(namespace, self.dest, None)
        setattr(namespace, self.dest, [*(current if isinstance(current, list) else []), values])


def _self_test_dict(result: SelfTestResult) -> dict[str, object]:
    fields = ("n", "ok", "canonical_pass_at_1", "empty_pass_at_1", "seconds", "canonical_failures", "unexpected_empty_passes")
    return {name: getattr(result, name) for name in fields}


def _sample(text: str) -> tuple[int, int]:
    count, _, seed = text.partition(":")
    try:
        n, s = int(count), int(seed)
    except ValueError:
        raise argparse.ArgumentTypeError("expects N:SEED, e.g. 120:20") from None
    if n < 1:
        raise argparse.ArgumentTypeError("N must be a positive integer")
    return n, s


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value
