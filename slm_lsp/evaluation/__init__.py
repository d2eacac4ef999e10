"""``slm-lsp eval``: HumanEval infilling through the completion pipeline, scored.

Problems come from the vendored human-eval-infilling sets (``data/``, MIT). A completer
(``Problem -> Completion``) is run on each; the pipeline's text and the baseline (raw
model output cut at the first newline) are scored by executing the tests in a sandboxed
subprocess (pass@1) and by exact match and edit similarity against the canonical solution.

``slm-lsp eval --workspace DIR`` scores on the user's own code instead: ``workspace_holes``
cuts holes from the files the privacy gate admits, ``workspace_runner`` completes them
through the pipeline per settings variant, ``workspace_scores`` and ``compare`` score and
compare runs (sign test, baseline gate), ``workspace_tests`` runs ``--test-cmd`` in the
sandbox, ``workspace_report`` renders markdown and ``workspace_command`` is the command.
The HumanEval modules import nothing of slm_lsp; the workspace modules import ``config``,
``context``, ``privacy`` and ``pipeline`` (the main CLI still loads the model).

``slm-lsp eval --next-edit --repo DIR`` replays a repository's history through the next-edit
history and predictor (``nextedit_history``, ``nextedit_command``; they import ``nextedit``).
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
