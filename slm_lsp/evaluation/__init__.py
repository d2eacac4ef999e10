"""``slm-lsp eval``: HumanEval infilling through the completion pipeline, scored.

Problems come from the vendored human-eval-infilling sets (``data/``, MIT). A completer
(``Problem -> Completion``) is run on each; the pipeline's text and the baseline (raw
model output cut at the first newline) are scored by executing the tests in a sandboxed
subprocess (pass@1) and by exact match and edit similarity against the canonical solution.
"""

from slm_lsp.evaluation.problems import SETS, Problem, load_problems, select
from slm_lsp.evaluation.runner import (
    Completer,
    Completion,
    EvalReport,
    Scores,
    baseline_text,
    run_eval,
)
from slm_lsp.evaluation.sandbox import ExecResult, run_program
from slm_lsp.evaluation.selftest import SelfTestResult, self_test

__all__ = [
    "SETS",
    "Completer",
    "Completion",
    "EvalReport",
    "ExecResult",
    "Problem",
    "Scores",
    "SelfTestResult",
    "baseline_text",
    "load_problems",
    "run_eval",
    "run_program",
    "select",
    "self_test",
]
