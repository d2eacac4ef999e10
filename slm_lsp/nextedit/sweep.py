"""Sweep's next-edit model (sweepai/sweep-next-edit-1.5B, Qwen2.5-Coder based): prompt and answer.

Read from the public sources, not guessed:

- the publisher's ``run_model.py`` in huggingface.co/sweepai/sweep-next-edit-1.5B (as copied
  into public GitHub repositories): ``<|file_sep|>`` blocks for context files, then one
  ``<|file_sep|>{path}.diff`` block per recent change (``original:`` / ``updated:``), then
  ``<|file_sep|>original/{path}`` (the window before the most recent change),
  ``<|file_sep|>current/{path}`` (the window now) and ``<|file_sep|>updated/{path}``, after
  which the model writes the window as it will be; stops ``<|file_sep|>`` and ``</s>``;
- how an editor fills it: zed-industries/zed, crates/edit_prediction/src/sweep_prompt.rs at
  commit 24e24d84ea0b7406810cb5a00d5a6ecc8c6d3e88 (its test
  ``test_build_prompt_uses_run_model_ordering``) — a fixed window of 10 lines above and 10
  below the cursor's line (Sweep's write-up: 21-line windows train better than syntax
  boundaries), the last 3 changes of the edit history as ``original``/``updated`` line
  blocks read from their unified diffs (context lines in both, at most 40 lines each), every
  block ending in a newline and the prompt ending with ``<|file_sep|>updated/{path}\\n``
  (``run_model.py`` joins with newlines and leaves the last one off; Zed's form is used, so
  the answer starts with the window's first line).

``<|file_sep|>`` is a special token of the Qwen2.5 vocabulary and goes in by id; without it
(not a Qwen2.5-Coder vocabulary) the format is not used. No context files are sent (the
open file's window and the edits are what the model was shown in ``run_model.py``'s
example too; cross-file context is a later step). The answer is the new window; the newline
that ends its block (one more trailing newline than the window has) is dropped before diffing.
"""

from __future__ import annotations

from slm_lsp.nextedit.model import Prompt, Request, Runner, Segment, Special, admitted, to_ids
from slm_lsp.nextedit.window import Redacted, line_window, map_to_before
from slm_lsp.privacy import GateError, PromptPiece

FILE_SEP = "<|file_sep|>"
WINDOW_ABOVE, WINDOW_BELOW = 10, 10
MAX_CHANGES = 3
MAX_CHANGE_LINES = 40
OUTPUT_SLACK = 48
STOP = ("</s>",)  # <|file_sep|> and <|endoftext|> are control tokens: the engine stops on them


class Sweep:
    """The Sweep next-edit format (``nextEditPredictor: "sweep"``)."""

    name = "sweep"

    def build(self, request: Request, runner: Runner, special: Special) -> Prompt | None:
        sep = special(FILE_SEP)
        if sep is None:
            return None
        text, gate, uri = request.text, request.gate, request.uri
        start, end = line_window(text, request.cursor, WINDOW_ABOVE, WINDOW_BELOW)
        current = Redacted(gate, uri, text)
        if not current.unchanged(start, end):
            return None
        window = current.piece(start, end)
        original = self._original(request, start, end) or window
        changes = self._changes(request, sep)

        def block(path: str, body: PromptPiece) -> list[Segment]:
            title = admitted(gate, f"{path}\n", uri, "path")
            if title is None:
                raise GateError(f"the path of {uri} was refused")
            return [sep, title, body, *([] if body.text.endswith("\n") else [_literal(request, "\n")])]

        segments: list[Segment] = [*changes, *block(f"original/{request.path}", original),
                                   *block(f"current/{request.path}", window)]
        updated = admitted(gate, f"updated/{request.path}\n", uri, "path")
        if updated is None:
            return None
        segments += [sep, updated]
        ids = to_ids(gate, runner, segments)
        max_tokens = len(runner.tokenize(window.text)) * 3 // 2 + OUTPUT_SLACK
        if len(ids) + max_tokens > runner.n_ctx:
            return None
        return Prompt(ids, start, end, max_tokens, STOP)

    def parse(self, output: str, region: str) -> str | None:
        """The new window: the answer up to a stop, without the newline that ends its block
        (one trailing newline more than ``region`` has)."""
        for stop in (FILE_SEP, *STOP):
            at = output.find(stop)
            if at >= 0:
                output = output[:at]
        if _trailing_newlines(output) > _trailing_newlines(region):
            output = output[:-1]
        return output

    def _original(self, request: Request, start: int, end: int) -> PromptPiece | None:
        """The window as it was before the document's latest hunk (None: the same as now)."""
        hunk = request.history.latest(request.uri)
        if hunk is None or hunk.sensitive or hunk.old is None or hunk.new is None:
            return None
        before = request.text[:hunk.start] + hunk.old + request.text[hunk.start + len(hunk.new):]
        old_start = map_to_before(start, hunk.start, hunk.old, hunk.new)
        old_end = map_to_before(end, hunk.start, hunk.old, hunk.new)
        return Redacted(request.gate, request.uri, before).piece(old_start, max(old_start, old_end))

    def _changes(self, request: Request, sep: int) -> list[Segment]:
        """The last hunks as ``{path}.diff`` blocks of original and updated lines."""
        out: list[Segment] = []
        for hunk in request.history.recent(MAX_CHANGES):
            path, original, updated = _blocks(hunk.diff.text)
            if path is None:
                continue
            body = f"{path}.diff\noriginal:\n{_line_block(original)}updated:\n{updated}"
            body += "" if body.endswith("\n") else "\n"
            piece = admitted(request.gate, body, hunk.uri, "edit")
            if piece is not None:
                out += [sep, piece]
        return out


def _blocks(diff: str) -> tuple[str | None, str, str]:
    """(path, original lines, updated lines) of one admitted unified diff (Zed's
    ``parse_unified_diff``: context lines in both), each cut to ``MAX_CHANGE_LINES``."""
    lines = diff.split("\n")
    if len(lines) < 3 or not lines[1].startswith("+++ b/"):
        return None, "", ""
    path = lines[1][len("+++ b/"):]
    original: list[str] = []
    updated: list[str] = []
    for line in lines[2:]:
        if line.startswith(("@@", "---", "+++")):
            continue
        if line.startswith("-"):
            original.append(line[1:])
        elif line.startswith("+"):
            updated.append(line[1:])
        elif line.startswith(" "):
            original.append(line[1:])
            updated.append(line[1:])
    if not original and not updated:
        return None, "", ""
    return path, _limit(original), _limit(updated)


def _limit(lines: list[str]) -> str:
    if len(lines) <= MAX_CHANGE_LINES:
        return "\n".join(lines)
    head = MAX_CHANGE_LINES // 2
    tail = MAX_CHANGE_LINES - head - 1
    return "\n".join([*lines[:head], "...", *lines[len(lines) - tail:]])


def _trailing_newlines(text: str) -> int:
    return len(text) - len(text.rstrip("\n"))


def _line_block(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def _literal(request: Request, text: str) -> PromptPiece:
    return request.gate.admit(PromptPiece(text=text, source=None, kind="format"))
