"""Zed's Zeta (Qwen2.5-Coder-7B fine-tuned for edit prediction): its prompt and its answer.

Read from the public sources, not guessed:

- the recent edits (``format_event``) and the excerpt (``excerpt_for_cursor_position``,
  ``push_editable_range``) and how the answer is read (``parse_edits``): zed-industries/zed,
  crates/edit_prediction/src/zeta1.rs at commit 0b96bbf139e4454391bd00c4f5f341752eb7ac8c —
  each edit is the line "User edited PATH:" and its hunk in a diff code fence, newest last,
  joined by a blank line, within ``MAX_EVENT_TOKENS`` (500) counted from the newest; the
  excerpt is a code fence titled with the path holding ``<|start_of_file|>`` (when it starts
  the file), the context lines above, ``<|editable_region_start|>`` on a line of its own, the
  region with ``<|user_cursor_is_here|>`` at the cursor, ``<|editable_region_end|>`` on a line
  of its own, and the context lines below;
- the instruction around them (Zed's server builds it, so it is not in the editor's code):
  the ``zeta_prompt`` template of vllm-project/vllm, vllm/benchmarks/datasets.py at commit
  f2e97ddaf5902a9727f48b70d001b6117b8b8b12, which formats the zed-industries/zeta training
  set "following the original implementation" (``### Instruction:`` … ``### User Edits:``
  … ``### User Excerpt:`` … ``### Response:`` and a blank line).

The markers are not special tokens of Zeta's (Qwen2.5) vocabulary — Sweep's write-up counts
7 tokens each — so they are written as text, unless a vocabulary has one as a single token.
The model writes the excerpt back; generation stops at ``<|editable_region_end|>`` and the
text after ``<|editable_region_start|>`` (its first newline dropped, the cursor marker
removed, one newline before the end dropped) is the rewritten region.

Region and context sizes: Zed grows them to syntax boundaries within token limits; here
they are whole lines (``REGION_ABOVE``/``REGION_BELOW`` around the cursor's line,
``CONTEXT_LINES`` either side), which the format allows — the region is wherever the
markers are.
"""

from __future__ import annotations

from slm_lsp.nextedit.model import Prompt, Request, Runner, Segment, Special, admitted, to_ids
from slm_lsp.nextedit.window import Lines, Redacted
from slm_lsp.privacy import PromptPiece

INSTRUCTION = (
    "### Instruction:\n"
    "You are a code completion assistant and your task is to analyze user edits and then rewrite an excerpt "
    "that the user provides, suggesting the appropriate edits within the excerpt, taking into account the "
    "cursor location.\n\n### User Edits:\n\n"
)
EXCERPT_HEADER = "\n\n### User Excerpt:\n\n"
RESPONSE = "\n\n### Response:\n\n"
CURSOR = "<|user_cursor_is_here|>"
REGION_START = "<|editable_region_start|>"
REGION_END = "<|editable_region_end|>"
START_OF_FILE = "<|start_of_file|>"
MAX_EVENT_TOKENS = 500
MAX_EVENTS = 16
REGION_ABOVE, REGION_BELOW = 3, 6
CONTEXT_LINES = 6
OUTPUT_SLACK = 64  # tokens the answer may add to the excerpt it writes back


class Zeta:
    """The Zeta format (``nextEditPredictor: "zeta"``)."""

    name = "zeta"

    def build(self, request: Request, runner: Runner, special: Special) -> Prompt | None:
        text, cursor = request.text, request.cursor
        lines = Lines(text)
        line = lines.line_of(cursor)
        first, last = max(0, line - REGION_ABOVE), min(lines.count() - 1, line + REGION_BELOW)
        start, end = lines.line_start(first), lines.line_end(last)
        context_start = lines.line_start(max(0, first - CONTEXT_LINES))
        context_end = lines.line_end(min(lines.count() - 1, last + CONTEXT_LINES))
        redacted = Redacted(request.gate, request.uri, text)
        if not redacted.unchanged(start, end):
            return None  # a secret in the region: its rewrite would be diffed against a placeholder
        header = admitted(request.gate, f"```{request.path}\n", request.uri, "path")
        if header is None:
            return None

        def marker(value: str) -> Segment:
            found = special(value)
            return found if found is not None else _literal(request, value)

        excerpt: list[Segment] = [header]
        if context_start == 0:
            excerpt += [marker(START_OF_FILE), _literal(request, "\n")]
        excerpt += [redacted.piece(context_start, start), marker(REGION_START), _literal(request, "\n"),
                    redacted.piece(start, cursor), marker(CURSOR), redacted.piece(cursor, end),
                    _literal(request, "\n"), marker(REGION_END), redacted.piece(end, context_end),
                    _literal(request, "\n```")]
        excerpt_ids = to_ids(request.gate, runner, excerpt)
        max_tokens = len(excerpt_ids) + OUTPUT_SLACK
        fixed = len(runner.tokenize(INSTRUCTION + EXCERPT_HEADER + RESPONSE)) + len(excerpt_ids)
        budget = min(MAX_EVENT_TOKENS, runner.n_ctx - max_tokens - fixed - 8)
        if budget < 0:
            return None
        events = self._events(request, runner, budget)
        segments: list[Segment] = [_literal(request, INSTRUCTION), *events, _literal(request, EXCERPT_HEADER),
                                   *excerpt, _literal(request, RESPONSE)]
        ids = to_ids(request.gate, runner, segments)
        if len(ids) + max_tokens > runner.n_ctx:
            return None
        stop = (REGION_END,)
        return Prompt(ids, start, end, max_tokens, stop)

    def _events(self, request: Request, runner: Runner, budget: int) -> list[Segment]:
        """``User edited PATH:`` + fenced diff per hunk, newest last, within ``budget`` tokens."""
        chosen: list[PromptPiece] = []
        for hunk in reversed(request.history.recent(MAX_EVENTS)):
            header, _, body = _split_headers(hunk.diff.text)
            if not body:
                continue
            event = admitted(request.gate, f"User edited {header}:\n```diff\n{body}\n```", hunk.uri, "edit")
            if event is None:
                continue
            cost = len(runner.tokenize(event.text)) + 2
            if cost > budget:
                break
            budget -= cost
            chosen.insert(0, event)
        out: list[Segment] = []
        for index, event in enumerate(chosen):
            if index:
                out.append(_literal(request, "\n\n"))
            out.append(event)
        return out

    def parse(self, output: str, region: str) -> str | None:
        """The rewritten region in the model's answer (``parse_edits``), or None if malformed."""
        content = output.replace(CURSOR, "")
        if content.count(REGION_START) > 1 or content.count(REGION_END) > 1 or content.count(START_OF_FILE) > 1:
            return None
        at = content.find(REGION_START)
        begin = 0 if at < 0 else at + len(REGION_START)
        if content.startswith("\n", begin):
            begin += 1
        end_at = content.find(REGION_END)
        if end_at >= 0:
            finish = end_at - 1 if end_at > 0 and content[end_at - 1] == "\n" else end_at
        else:
            finish = len(content) - 1 if content.endswith("\n") else len(content)
        return content[min(begin, finish):finish]


def _literal(request: Request, text: str) -> PromptPiece:
    """Format text of our own (no user content) as an admitted piece."""
    return request.gate.admit(PromptPiece(text=text, source=None, kind="format"))


def _split_headers(diff: str) -> tuple[str, str, str]:
    """(path, ``---``/``+++`` headers, the ``@@`` body) of one admitted unified diff."""
    lines = diff.split("\n", 2)
    if len(lines) < 3 or not lines[0].startswith("--- a/") or not lines[1].startswith("+++ b/"):
        return "", "", ""
    return lines[1][len("+++ b/"):], "\n".join(lines[:2]), lines[2]
