"""``postprocess``: raw generated text in, the text to insert at the cursor out.

The rules run in a fixed order, each one only ever shortening the text (except for
dropping leading blank lines), so their effects compose predictably:

1. whitespace-only output is nothing;
2. leading blank lines on a blank cursor line are dropped;
3. single-line mode keeps the first line; a multi-line completion that hit the token
   limit loses its unfinished last line;
   when code follows the block (a rejoin target, see ``rejoin``), a completion that
   reached it keeps everything before it (and skips rule 7: the lines between may close
   and reopen blocks); one that did not keeps its first statement in FILL mode;
4. the end that duplicates the rest of the cursor line is removed (``)`` of ``foo(|)``);
5. repetition loops are cut;
6. a generated line that repeats the first line of the suffix ends the completion;
7. a line indented out of the cursor's block ends it;
8. an unbalanced closing bracket ends it;
9. comment-only lines trailing after code are dropped, and so is a last line opening a
   block (Python) whose body neither the completion nor the code below supplies;
10. trailing whitespace is tidied;
11. tree-sitter validation prefers the longest cut that adds no syntax error.

Rules 7, 8, 9 and 11 need the language (lexer and grammar); unknown languages get the
text-only rules.
"""

from __future__ import annotations

from slm_lsp.postprocess.blocks import cut_at_dedent, drop_bodyless_opener
from slm_lsp.postprocess.brackets import cut_at_unbalanced_closer
from slm_lsp.postprocess.cursor import CursorContext
from slm_lsp.postprocess.languages import rules_for
from slm_lsp.postprocess.mode import CompletionMode
from slm_lsp.postprocess.rejoin import cut_at_target, first_statement, rejoin_target, target_stop
from slm_lsp.postprocess.suffix_rules import cut_at_suffix_repeat, trim_suffix_overlap
from slm_lsp.postprocess.syntax import window
from slm_lsp.postprocess.text_rules import (
    cut_repetition,
    drop_leading_blank_lines,
    drop_trailing_comments,
    drop_unfinished_line,
    first_line,
    tidy_whitespace,
)
from slm_lsp.postprocess.validate import validate


def postprocess(
    raw: str,
    prefix: str,
    suffix: str,
    language: str | None,
    mode: CompletionMode | str,
    *,
    truncated: bool = False,
    stopped_at: str = "",
) -> str:
    """Turn ``raw`` model output into the text to insert between ``prefix`` and ``suffix``.

    ``raw`` is the model's text for the cursor position, already stopped at end/FIM
    tokens and stop sequences. ``prefix``/``suffix`` are the document's text around
    the cursor (the real text, not what fitted in the prompt: a prefix-only model never
    sees the suffix, but post-processing must). ``truncated`` says that generation ended
    at its token limit (engine stop reason "length"), ``stopped_at`` which of
    ``stop_sequences(language, mode, prefix=prefix, suffix=suffix)`` ended it ("" for none).
    Returns "" when nothing should be offered.
    """
    text = raw.replace("\r\n", "\n")
    if not text.strip():
        return ""
    rules = rules_for(language)
    cursor = CursorContext.of(prefix, suffix)
    text = drop_leading_blank_lines(text, cursor)
    reached = False
    if mode == CompletionMode.SINGLE:
        text = first_line(text)
    else:
        target = rejoin_target(cursor, rules, fill=mode == CompletionMode.FILL)
        if target is not None and stopped_at == target_stop(target):
            reached = True
        elif target is not None and (before_target := cut_at_target(text, cursor, target)) is not None:
            text, reached = before_target, True
        if truncated and not reached:
            text = drop_unfinished_line(text)
        if mode == CompletionMode.FILL and not reached:
            text = first_statement(text, cursor, rules)
    text = trim_suffix_overlap(text, cursor)
    text = cut_repetition(text, cursor)
    text = cut_at_suffix_repeat(text, cursor)
    region = window(prefix, suffix, rules) if rules.lexed else None
    if region is not None:
        if not reached:
            text = cut_at_dedent(text, cursor, rules)
        text = cut_at_unbalanced_closer(text, region, rules)
        text = drop_trailing_comments(text, cursor, rules)
        if mode != CompletionMode.SINGLE:
            text = drop_bodyless_opener(text, cursor, rules)
    text = tidy_whitespace(text, cursor)
    if not text.strip():
        return ""
    if region is not None:
        text = validate(text, region, rules.grammar)
    return text if text.strip() else ""
