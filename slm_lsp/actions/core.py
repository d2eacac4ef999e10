"""The three actions end to end on the model's thread: gate → prompt → generate → shape.

Shared by the language server (which runs them through ``CompletionService.run``) and the
``slm-lsp explain`` command. Every piece of document text is admitted by the privacy gate
before it is tokenized, and everything returned for display has passed ``scan_output``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from slm_lsp.actions import docstrings, syntax
from slm_lsp.actions.privacy import (
    Gate,
    admit,
    admit_span,
    final_check,
    scan_output,
    shorten,
)
from slm_lsp.actions.prompts import (
    COMPLETION,
    ExplainParts,
    Extra,
    FixParts,
    Prompt,
    PromptBuilder,
)
from slm_lsp.actions.text import (
    clean_explanation,
    code_block,
    summary_sentence,
)
from slm_lsp.postprocess.repetition import RepetitionGuard

log = logging.getLogger(__name__)

OnText = Callable[[str], None]
_MARGIN = 16  # tokens kept free in the context window
COULD_NOT_EXPLAIN = "The model could not explain this code: its answer kept repeating itself."
_ENCLOSING_MAX_LINES = 80
_FIX_CONTEXT_LINES = 6


class ActionError(Exception):
    """An action that cannot run here; the message is shown to the user as it is."""


@dataclass(frozen=True)
class Document:
    """A document as the action sees it (offsets are Python string offsets)."""

    text: str
    uri: str | None
    language: str | None
    source: str  # workspace-relative path shown to the model


@dataclass
class Outcome:
    action: str
    text: str  # explanation, docstring summary, or replacement code
    style: str
    stop_reason: str
    lines: tuple[int, int]  # 1-based lines the action is about
    timings: dict[str, Any] = field(default_factory=dict)
    edit: docstrings.Edit | None = None
    title: str = ""
    model: str = ""  # the engine's name (the actions model's when one is set)
    parses: bool | None = None  # edits: the result parses where the original did (None: no grammar)

    def as_dict(self) -> dict[str, Any]:
        shown = {"action": self.action, "text": self.text, "promptStyle": self.style, "stopReason": self.stop_reason,
                 "lines": list(self.lines), "timings": self.timings}
        if self.action == "edit":
            shown["parses"] = self.parses
        return {**shown, "model": self.model} if self.model else shown


def line_of(text: str, offset: int) -> int:
    """1-based line number of ``offset``."""
    return text.count("\n", 0, offset) + 1


def whole_lines(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` widened to whole lines (an end at a line start stays there)."""
    line_start = text.rfind("\n", 0, start) + 1
    if end > start and text[end - 1 : end] == "\n":
        return line_start, end
    newline = text.find("\n", end)
    return line_start, len(text) if newline < 0 else newline + 1


def _generate(engine: Any, prompt: Prompt, cancelled: Callable[[], bool], on_text: OnText | None,
              shown: Callable[[str], str], guard: Any = None) -> tuple[str, str, dict[str, Any]]:
    """Run the model; ``on_text`` gets the displayable text so far; stops early on a loop
    (``guard``: a ``RepetitionGuard`` for prose unless the caller passes one for code)."""
    guard = guard if guard is not None else RepetitionGuard()

    def streamed(text: str) -> None:
        guard.feed(text)
        if on_text is not None:
            on_text(shown(text))

    budget = engine.n_ctx - len(prompt.ids) - _MARGIN
    if budget < 8:
        raise ActionError("the selection is too large for the model's context window")
    generation = engine.generate(
        prompt.ids, max_tokens=min(prompt.max_tokens, budget), stop=prompt.stop,
        cancelled=lambda: cancelled() or guard.tripped, on_text=streamed,
    )
    reason = generation.stop_reason
    if reason == "cancelled" and guard.tripped and not cancelled():
        reason = "repetition"
    return generation.text, reason, generation.timings.as_dict()


def _fit(builder: PromptBuilder, build: Callable[[ExplainParts], Prompt], parts: ExplainParts,
         n_ctx: int) -> Prompt:
    """Build the prompt, dropping context (then the selection's tail) until it fits ``n_ctx``."""
    while True:
        prompt = build(parts)
        if len(prompt.ids) + min(prompt.max_tokens, 64) + _MARGIN <= n_ctx:
            return prompt
        if parts.extras:
            parts.extras = parts.extras[:-1]
        elif parts.enclosing:
            parts.enclosing = None
        else:
            lines = parts.selection.splitlines(keepends=True)
            if len(lines) <= 1:
                raise ActionError("the selection is too large for the model's context window")
            keep = max(1, len(lines) * 3 // 4)
            parts.selection = "".join(lines[:keep])
            parts.last_line = parts.first_line + keep - 1
            parts.truncated = True


def _selection(document: Document, start: int, end: int) -> tuple[int, int, syntax.Definition | None,
                                                                    syntax.Parsed | None]:
    """The span to explain: the selection, or at a cursor the innermost definition around it."""
    parsed = syntax.parse(document.text, document.language)
    if start == end:
        found = syntax.definitions_at(parsed, start, end) if parsed is not None else []
        if not found:
            raise ActionError("select some code to explain")
        span = parsed.span(found[0].outer)  # type: ignore[union-attr]
        return *whole_lines(document.text, *span), found[0], parsed
    text = document.text[start:end]
    if not text.strip():
        raise ActionError("the selection is empty")
    # Trim surrounding blank space so line numbers name the code.
    start += len(text) - len(text.lstrip())
    end -= len(text) - len(text.rstrip())
    exact = None
    if parsed is not None:
        inside = syntax.definitions_inside(parsed, start, end)
        if len(inside) == 1:
            span = parsed.span(inside[0].outer)
            if span[0] <= start + 2 and span[1] >= end - 2:
                exact = inside[0]
    return start, end, exact, parsed


def explain(engine: Any, document: Document, start: int, end: int, gate: Gate, *,
            cancelled: Callable[[], bool] = lambda: False, on_text: OnText | None = None,
            max_tokens: int | None = None, extras: Sequence[Extra] = (), force_style: str | None = None) -> Outcome:
    """Explain ``document.text[start:end]`` (or the definition at a cursor)."""
    started = time.perf_counter()
    start, end, exact, parsed = _selection(document, start, end)
    text = document.text
    source = document.uri or document.source
    selection = admit_span(gate, text, start, end, source, "selection")
    extra_pieces = [admit(gate, extra.text, extra.source, "definition") for extra in extras]
    parts = ExplainParts(
        language=document.language, source=document.source, selection=selection.text,
        first_line=line_of(text, start), last_line=line_of(text, max(start, end - 1)),
        noun=exact.noun if exact else "code", name=exact.name if exact else None,
        extras=[Extra(extra.source, piece.text) for extra, piece in zip(extras, extra_pieces)],
    )
    enclosing_piece = None
    if parsed is not None and exact is None:
        enclosing = syntax.definitions_at(parsed, start, end)
        if enclosing:
            outer_start, outer_end = whole_lines(text, *parsed.span(enclosing[0].outer))
            body = text[outer_start:outer_end]
            if body.strip() != text[start:end].strip() and body.count("\n") <= _ENCLOSING_MAX_LINES:
                enclosing_piece = admit_span(gate, text, outer_start, outer_end, source, "context")
                parts.enclosing = enclosing_piece.text
                parts.enclosing_noun = enclosing[0].noun
    builder = PromptBuilder(engine, force_style=force_style)
    prompt = _fit(builder, lambda p: builder.explain(p, max_tokens), parts, engine.n_ctx)
    pieces = [selection if len(parts.selection) == len(selection.text) else shorten(gate, selection, len(parts.selection))]
    pieces += extra_pieces[: len(parts.extras)]
    if parts.enclosing is not None and enclosing_piece is not None:
        pieces.append(enclosing_piece)
    final_check(gate, pieces)
    lead = prompt.lead

    def shown(generated: str) -> str:
        return scan_output(gate, (lead + generated) if lead else generated.lstrip())

    raw, reason, timings = _generate(engine, prompt, cancelled, on_text, shown)
    explanation = clean_explanation((lead + raw) if lead else raw)
    if lead and explanation.strip() == lead:
        explanation = ""
    explanation = scan_output(gate, explanation)
    if reason == "repetition" and not _says_something(explanation):
        explanation = COULD_NOT_EXPLAIN
    timings = {**timings, "total_ms": round((time.perf_counter() - started) * 1000, 1)}
    return Outcome("explain", explanation, prompt.style, reason, (parts.first_line, parts.last_line), timings,
                   title=_title(document, parts))


def _says_something(explanation: str) -> bool:
    """Whether what is left after cutting a loop holds one complete sentence of a few words (a
    heading such as "The key steps:" whose list was cut says nothing)."""
    return re.search(r"\w+(?:\W+\w+){3,}[^.!?:\n]*[.!?](?:\s|$)", explanation) is not None


def _title(document: Document, parts: ExplainParts) -> str:
    lines = f"line {parts.first_line}" if parts.first_line == parts.last_line else \
        f"lines {parts.first_line}–{parts.last_line}"
    what = f"`{parts.name}` " if parts.name else ""
    return f"{what}{document.source}, {lines}".strip()


def docstring_target(document: Document, start: int, end: int) -> docstrings.DocTarget | None:
    if not docstrings.supports(document.language):
        return None
    try:
        return docstrings.find_target(document.text, document.language, start, end)
    except docstrings.DocstringError:
        return None


def write_docstring(engine: Any, document: Document, start: int, end: int, gate: Gate, *,
                    cancelled: Callable[[], bool] = lambda: False, on_text: OnText | None = None,
                    force_style: str | None = None) -> Outcome:
    """A documentation comment for the definition at ``start..end``, as a verified edit."""
    started = time.perf_counter()
    target = docstring_target(document, start, end)
    if target is None:
        raise ActionError("there is no function or class here to document")
    parsed = syntax.parse(document.text, document.language)
    assert parsed is not None
    def_start, def_end = whole_lines(document.text, *parsed.span(target.definition.outer))
    piece = admit_span(gate, document.text, def_start, def_end, document.uri or document.source, "selection")
    parts = ExplainParts(
        language=document.language, source=document.source, selection=piece.text,
        first_line=line_of(document.text, def_start), last_line=line_of(document.text, max(def_start, def_end - 1)),
        noun=target.noun, name=target.name,
    )
    builder = PromptBuilder(engine, force_style=force_style)
    prompt = _fit(builder, builder.docstring, parts, engine.n_ctx)
    final_check(gate, [piece if len(parts.selection) == len(piece.text) else shorten(gate, piece, len(parts.selection))])
    lead = prompt.lead

    def shown(generated: str) -> str:
        return scan_output(gate, summary_sentence(lead + generated) if lead else generated.strip())

    raw, reason, timings = _generate(engine, prompt, cancelled, on_text, shown)
    summary = scan_output(gate, summary_sentence((lead + raw) if lead else raw))
    timings = {**timings, "total_ms": round((time.perf_counter() - started) * 1000, 1)}
    outcome = Outcome("docstring", summary, prompt.style, reason, (parts.first_line, parts.last_line), timings,
                      title=f"`{target.name}`" if target.name else target.noun)
    if reason == "cancelled" or not summary:
        return outcome
    try:
        outcome.edit = docstrings.build_edit(document.text, document.language, target, summary)
    except docstrings.DocstringError as exc:
        raise ActionError(f"could not insert the documentation: {exc}") from exc
    return outcome


def suggest_fix(engine: Any, document: Document, start: int, end: int, message: str, gate: Gate, *,
                cancelled: Callable[[], bool] = lambda: False, on_text: OnText | None = None,
                force_style: str | None = None) -> Outcome:
    """A corrected version of the code around a diagnostic at ``start..end``, as a verified edit."""
    started = time.perf_counter()
    text = document.text
    snippet_start, snippet_end = _fix_snippet(document, start, end)
    problem_line_start = text.rfind("\n", 0, start) + 1
    problem_line_start = max(problem_line_start, snippet_start)
    snippet = text[snippet_start:snippet_end]
    head = text[snippet_start:problem_line_start]
    source = document.uri or document.source
    snippet_piece = admit_span(gate, text, snippet_start, snippet_end, source, "selection")
    message_piece = admit(gate, " ".join(message.split())[:500], source, "diagnostic")
    if snippet_piece.text != snippet:
        raise ActionError("the code around this problem contains a secret; it is not sent to the model")
    head_piece = shorten(gate, snippet_piece, len(head))
    parts = FixParts(
        language=document.language, source=document.source, snippet=snippet_piece.text, head=head_piece.text,
        message=message_piece.text, line_in_snippet=text.count("\n", snippet_start, problem_line_start) + 1,
    )
    final_check(gate, [snippet_piece, head_piece, message_piece])
    builder = PromptBuilder(engine, force_style=force_style)
    tail_tokens = builder.count(text[problem_line_start:snippet_end])
    prompt = builder.fix(parts, max_tokens=min(1024, tail_tokens * 2 + 48))
    if len(prompt.ids) + _MARGIN + 8 > engine.n_ctx:
        raise ActionError("the code around this problem is too large for the model's context window")

    def shown(generated: str) -> str:
        return scan_output(gate, generated)

    raw, reason, timings = _generate(engine, prompt, cancelled, on_text, shown)
    timings = {**timings, "total_ms": round((time.perf_counter() - started) * 1000, 1)}
    lines = (line_of(text, snippet_start), line_of(text, max(snippet_start, snippet_end - 1)))
    outcome = Outcome("fix", "", prompt.style, reason, lines, timings)
    if reason == "cancelled":
        return outcome
    if prompt.style == COMPLETION:
        replacement = head + raw
    else:
        block = code_block(raw)
        replacement = block if block is not None else ""
    if reason in ("length", "repetition") or not replacement.strip():
        raise ActionError("the model did not produce a complete fix")
    if not replacement.endswith("\n") and snippet.endswith("\n"):
        replacement += "\n"
    if scan_output(gate, replacement, prose=False) != replacement:
        raise ActionError("the suggested fix contains a secret-shaped string; it was discarded")
    outcome.text = replacement
    outcome.edit = _fix_edit(document, snippet_start, snippet_end, replacement)
    return outcome


def _fix_snippet(document: Document, start: int, end: int) -> tuple[int, int]:
    """Whole lines to rewrite: the enclosing definition when small, else lines around the problem."""
    text = document.text
    parsed = syntax.parse(text, document.language)
    if parsed is not None:
        for definition in syntax.definitions_at(parsed, start, end):
            span = whole_lines(text, *parsed.span(definition.outer))
            if text.count("\n", *span) <= 40:
                return span
    line_start, line_end = whole_lines(text, start, end)
    for _ in range(_FIX_CONTEXT_LINES):
        line_start = text.rfind("\n", 0, max(0, line_start - 1)) + 1 if line_start > 0 else 0
    for _ in range(_FIX_CONTEXT_LINES):
        if line_end < len(text):
            newline = text.find("\n", line_end)
            line_end = len(text) if newline < 0 else newline + 1
    return line_start, line_end


def line_edit(text: str, start: int, end: int, replacement: str) -> tuple[docstrings.Edit, list[str], list[str]]:
    """The smallest whole-line edit turning ``text[start:end]`` into ``replacement``, with the
    removed and added non-blank lines. ActionError when nothing changes."""
    old_lines = text[start:end].splitlines(keepends=True)
    new_lines = replacement.splitlines(keepends=True)
    head = 0
    while head < min(len(old_lines), len(new_lines)) and old_lines[head] == new_lines[head]:
        head += 1
    tail = 0
    while tail < min(len(old_lines), len(new_lines)) - head and old_lines[-1 - tail] == new_lines[-1 - tail]:
        tail += 1
    if head == len(old_lines) == len(new_lines):
        raise ActionError("the model suggested no change")
    edit_start = start + sum(len(line) for line in old_lines[:head])
    edit_end = end - sum(len(line) for line in old_lines[len(old_lines) - tail :])
    new_text = "".join(new_lines[head : len(new_lines) - tail])
    result = text[:edit_start] + new_text + text[edit_end:]
    removed = [line for line in old_lines[head : len(old_lines) - tail] if line.strip()]
    added = [line for line in new_lines[head : len(new_lines) - tail] if line.strip()]
    return docstrings.Edit(edit_start, edit_end, new_text, result), removed, added


def parses_as_before(before_text: str, after_text: str, language: str | None) -> bool | None:
    """Whether ``after_text`` parses where ``before_text`` did: no syntax error added, none
    left where there were none. None when tree-sitter has no grammar for the language."""
    before, after = syntax.parse(before_text, language), syntax.parse(after_text, language)
    if before is None or after is None:
        return None
    return after.error_count() <= before.error_count()


def _fix_edit(document: Document, start: int, end: int, replacement: str) -> docstrings.Edit:
    """The smallest whole-line edit turning ``text[start:end]`` into ``replacement``, verified."""
    text = document.text
    edit, removed, added = line_edit(text, start, end, replacement)
    result = edit.result
    if len(removed) >= 2 and len(added) * 2 < len(removed):
        raise ActionError("the suggested fix drops code; it was discarded")
    before, after = syntax.parse(text, document.language), syntax.parse(result, document.language)
    if before is not None and after is not None:
        errors_before, errors_after = before.error_count(), after.error_count()
        if errors_after > errors_before or 0 < errors_before <= errors_after:
            raise ActionError("the suggested fix does not parse")
    return edit
