"""``python -m slm_lsp.evaluation --self-test [--set S]``: the scorer's self-test without a model.

Model runs go through ``slm-lsp eval``, which builds the real pipeline; this entry point
only has the self-test, for checking the harness on a machine (e.g. the whole
single-line set, which takes too long for the unit tests).
"""

from __future__ import annotations

import argparse
import sys

from slm_lsp.evaluation.cli import add_eval_arguments, run_from_args
from slm_lsp.evaluation.runner import Completer


def _no_model(args: argparse.Namespace) -> Completer:
    raise SystemExit("python -m slm_lsp.evaluation only runs --self-test; use `slm-lsp eval` for model runs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m slm_lsp.evaluation", description=__doc__)
    add_eval_arguments(parser)
    return run_from_args(parser.parse_args(argv), _no_model)


if __name__ == "__main__":
    sys.exit(main())
