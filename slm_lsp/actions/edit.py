"""Edit a selection with an instruction: gate → prompt → generate → re-parse → proposal.

The rewrite is never applied here. It comes back as a proposal (the smallest whole-line
edit, a unified diff, and whether the file still parses) that the editor shows and the
user accepts: small models break code often enough that silently applying it would be
wrong, and saying "this does not parse" is better than hiding the rewrite.

A selection holding a secret-shaped string is refused rather than sent redacted: the model
would rewrite ``<redacted:…>`` into the file. The diff's context lines come from the
selection only, so nothing outside the checked span is printed.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Callable
from typing import Any

from slm_lsp.actions import syntax
from slm_lsp.actions.core import (
    ActionError,
    Document,
    OnText,
    Outcome,
    _generate,
    line_edit,
    line_of,
    parses_as_before,
    whole_lines,
)
from slm_lsp.actions.privacy import Gate, admit, admit_span, final_check, scan_output
from slm_lsp.actions.prompts import COMPLETION, EditParts, PromptBuilder
from slm_lsp.actions.text import code_block
from slm_lsp.postprocess.repetition import CodeRepetitionGuard

MAX_INSTRUCTION_CHARS = 500
_MAX_EDIT_TOKENS = 1024
_MARGIN = 16


def edit_span(document: Document, start: int, end: int) -> tuple[int, int]:
    """Whole lines to rewrite: the selection's lines, or at a cursor the definition around it."""
    text = document.text
    if start == end:
        parsed = syntax.parse(text, document.language)
        found = syntax.definitions_at(parsed, start, end) if parsed is not None else []
        if not found:
            raise ActionError("select the code to edit")
        return whole_lines(text, *parsed.span(found[0].outer))  # type: ignore[union-attr]
    if not text[start:end].strip():
        raise ActionError("the selection is empty")
    return whole_lines(text, start, end)


def _indent_of(lines: list[str]) -> str:
    """The longest leading whitespace that every non-blank line shares."""
    indents = [line[: len(line) - len(line.lstrip(" \t"))] for line in lines if line.strip()]
    if not indents:
        return ""
    common = indents[0]
    for indent in indents[1:]:
        while not indent.startswith(common):
            common = common[:-1]
    return common


def _dedent(text: str) -> tuple[str, str]:
    lines = text.splitlines(keepends=True)
    indent = _indent_of(lines)
    return "".join(line[len(indent):] if line.strip() else line.lstrip(" \t") for line in lines), indent


def _reindent(code: str, indent: str) -> str:
    """The model's code dedented to its own margin and moved to the selection's indentation."""
    code, _ = _dedent(code)
    return "".join(indent + line if line.strip() else line for line in code.splitlines(keepends=True))


def _rewrite_from(raw: str, style: str) -> str:
    """The code in the model's reply: completion style stops at the fence; a chat reply's first
    code block, or the whole reply when it has no fence at all."""
    if style == COMPLETION:
        return raw
    block = code_block(raw)
    if block is not None:
        return block
    return "" if "```" in raw else raw


def edit_selection(engine: Any, document: Document, start: int, end: int, instruction: str, gate: Gate, *,
                   cancelled: Callable[[], bool] = lambda: False, on_text: OnText | None = None,
                   force_style: str | None = None) -> Outcome:
    """Rewrite the lines of ``start..end`` following ``instruction``; ``Outcome.edit`` is the proposal."""
    started = time.perf_counter()
    instruction = " ".join(instruction.split())
    if not instruction:
        raise ActionError("say what to change: the instruction is empty")
    if len(instruction) > MAX_INSTRUCTION_CHARS:
        raise ActionError(f"the instruction is too long (at most {MAX_INSTRUCTION_CHARS} characters)")
    text = document.text
    span_start, span_end = edit_span(document, start, end)
    snippet = text[span_start:span_end]
    source = document.uri or document.source
    piece = admit_span(gate, text, span_start, span_end, source, "selection")
    if piece.text != snippet:
        raise ActionError("the selection contains a secret-shaped string; it is not sent to the model")
    instruction_piece = admit(gate, instruction, source, "instruction")
    if instruction_piece.text != instruction:
        raise ActionError("the instruction contains a secret-shaped string; it is not sent to the model")
    final_check(gate, [piece, instruction_piece])
    code, indent = _dedent(snippet)
    parts = EditParts(language=document.language, source=document.source, code=code,
                      instruction=instruction_piece.text)
    builder = PromptBuilder(engine, force_style=force_style)
    prompt = builder.edit(parts, max_tokens=min(_MAX_EDIT_TOKENS, builder.count(code) * 2 + 64))
    if len(prompt.ids) + _MARGIN + 8 > engine.n_ctx:
        raise ActionError("the selection is too large for the model's context window")

    def shown(generated: str) -> str:
        return scan_output(gate, generated)

    raw, reason, timings = _generate(engine, prompt, cancelled, on_text, shown, guard=CodeRepetitionGuard(code))
    timings = {**timings, "total_ms": round((time.perf_counter() - started) * 1000, 1)}
    lines = (line_of(text, span_start), line_of(text, max(span_start, span_end - 1)))
    outcome = Outcome("edit", "", prompt.style, reason, lines, timings, title=f"{document.source}, lines {lines[0]}–{lines[1]}")
    if reason == "cancelled":
        return outcome
    if reason == "repetition":
        raise ActionError("the model's rewrite kept repeating itself; try a smaller selection or another instruction")
    if reason == "length":
        raise ActionError("the model's rewrite did not finish within its token budget; try a smaller selection")
    rewrite = _rewrite_from(raw, prompt.style).strip("\n")
    if not rewrite.strip():
        raise ActionError("the model did not produce a rewrite")
    replacement = _reindent(rewrite, indent) + ("\n" if snippet.endswith("\n") else "")
    if scan_output(gate, replacement, prose=False) != replacement:
        raise ActionError("the rewrite contains a secret-shaped string; it was discarded")
    edit, _removed, _added = line_edit(text, span_start, span_end, replacement)
    outcome.text = replacement
    outcome.edit = edit
    outcome.parses = parses_as_before(text, edit.result, document.language)
    return outcome


_HUNK = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def unified_diff(outcome: Outcome, original: str, source: str) -> str:
    """The proposal as a unified diff against ``source``, with context taken from the
    rewritten lines only (nothing outside the span the gate checked)."""
    edit = outcome.edit
    assert edit is not None
    span_start, span_end = _line_span(original, outcome.lines)
    before = original[span_start:span_end].splitlines(keepends=True)
    after = edit.result[span_start : span_end + len(edit.result) - len(original)].splitlines(keepends=True)
    shift = outcome.lines[0] - 1
    out: list[str] = []
    for line in difflib.unified_diff(before, after, f"a/{source}", f"b/{source}", n=3):
        match = _HUNK.match(line)
        if match:
            a, b = int(match.group(1)) + shift, int(match.group(3)) + shift
            line = f"@@ -{a}{match.group(2) or ''} +{b}{match.group(4) or ''} @@\n"
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _line_span(text: str, lines: tuple[int, int]) -> tuple[int, int]:
    """Offsets of 1-based lines ``lines[0]..lines[1]`` (inclusive, with their newlines)."""
    all_lines = text.splitlines(keepends=True)
    start = sum(len(line) for line in all_lines[: lines[0] - 1])
    return start, start + sum(len(line) for line in all_lines[lines[0] - 1 : lines[1]])
