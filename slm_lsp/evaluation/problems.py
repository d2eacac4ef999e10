"""HumanEval infilling problems, and how a benchmark hole maps to an editor buffer.

In the single-line and multi-line sets the hole is whole lines: the prompt ends with a
newline and the canonical solution ends with one. A developer completing such a hole has
the cursor on an empty line between the code above and the code below, so that is the
document the completer sees: ``prompt + "\\n" + suffix`` with the cursor after the
prompt, and the completion is the text typed on that line (no trailing newline). The
program scored is then ``prompt + completion + "\\n" + suffix``, which is exactly the
benchmark's own ``prompt + canonical_solution + suffix`` for the canonical answer. The
random-span set is used as is: ``prompt + suffix``, cursor between them.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

SETS: dict[str, str] = {
    "single": "HumanEval-SingleLineInfilling.jsonl.gz",
    "multi": "HumanEval-MultiLineInfilling.jsonl.gz",
    "random-span": "HumanEval-RandomSpanInfillingLight.jsonl.gz",
}
_WHOLE_LINE_SETS = frozenset({"single", "multi"})


@dataclass(frozen=True)
class Problem:
    """One benchmark problem plus its editor view (``document`` and ``cursor``)."""

    task_id: str
    entry_point: str
    prompt: str
    suffix: str
    canonical_solution: str
    test: str
    whole_lines: bool  # the hole is whole lines: the cursor sits on an empty line of its own

    @property
    def document(self) -> str:
        """The editor buffer the completer works on."""
        return self.prompt + ("\n" if self.whole_lines else "") + self.suffix

    @property
    def cursor(self) -> int:
        """Cursor offset in ``document`` (code points)."""
        return len(self.prompt)

    @property
    def reference(self) -> str:
        """The canonical solution as the text a completer should insert at the cursor."""
        if self.whole_lines and self.canonical_solution.endswith("\n"):
            return self.canonical_solution[:-1]
        return self.canonical_solution

    def program(self, completion: str) -> str:
        """The test program for ``completion`` inserted at the cursor."""
        filled = self.document[: self.cursor] + completion + self.document[self.cursor :]
        return f"{filled}\n{self.test}\ncheck({self.entry_point})\n"


def load_problems(set_name: str) -> list[Problem]:
    """All problems of ``set_name`` ("single", "multi" or "random-span"), in file order."""
    if set_name not in SETS:
        raise ValueError(f"unknown problem set {set_name!r}; choose one of {', '.join(SETS)}")
    source = resources.files("slm_lsp.evaluation") / "data" / SETS[set_name]
    with source.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        return [_problem(json.loads(line), set_name in _WHOLE_LINE_SETS) for line in lines if line.strip()]


def _problem(row: dict[str, str], whole_lines: bool) -> Problem:
    return Problem(
        task_id=row["task_id"],
        entry_point=row["entry_point"],
        prompt=row["prompt"],
        suffix=row["suffix"],
        canonical_solution=row["canonical_solution"],
        test=row["test"],
        whole_lines=whole_lines,
    )


def select(problems: Sequence[Problem], n: int | None, seed: int) -> list[Problem]:
    """``n`` problems drawn with ``seed`` (all of them when ``n`` is None or too large).

    The sample keeps file order: consecutive problems share most of their prompt, which
    lets the engine reuse its KV cache and makes runs faster.
    """
    if n is None or n >= len(problems):
        return list(problems)
    if n < 0:
        raise ValueError("the number of problems must not be negative")
    chosen = sorted(random.Random(seed).sample(range(len(problems)), n))
    return [problems[index] for index in chosen]
