"""One document's edits as hunks: each a replacement of ``old`` by ``new`` at ``start``.

Keystrokes are too small to learn from ("c", "co", "cou" …) and an editor's undo or a
multi-cursor edit arrives as several changes, so changes are coalesced: a change touching
(overlapping or adjacent to) an existing hunk merges with it, in the current document's
coordinates, and the merged hunk becomes the newest. A hunk that returns to the original
text disappears (a hunk keeps the whole merged span; readers trim it with ``trimmed``). Positions of later hunks shift with every change, so a hunk's ``start``
always refers to the current text. Pure data and arithmetic: the history adds the privacy
gate, the bounds and the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from slm_lsp.context.syntax import common_prefix_length, common_suffix_length


@dataclass(frozen=True)
class Hunk:
    """``new`` occupies ``text[start:start + len(new)]`` of the current text; it replaced ``old``."""

    start: int
    old: str
    new: str
    order: int  # larger is newer
    first_seen: float  # wall-clock seconds of the first change merged into it
    last_seen: float  # ... and of the newest

    @property
    def end(self) -> int:
        return self.start + len(self.new)

    def size(self) -> int:
        return len(self.old) + len(self.new)


def apply_change(hunks: list[Hunk], before: str, start: int, end: int, text: str, order: int,
                 now: float) -> tuple[list[Hunk], Hunk | None]:
    """The hunks after ``before[start:end]`` was replaced by ``text``, and the hunk that change
    is now part of (None when the change undid itself). ``hunks`` are in ``before``'s
    coordinates and disjoint; the result is in the new text's coordinates, oldest first."""
    delta = len(text) - (end - start)
    touching = sorted((h for h in hunks if h.start <= end and start <= h.end), key=lambda h: h.start)
    kept: list[Hunk] = []
    for hunk in hunks:
        if hunk in touching:
            continue
        kept.append(replace(hunk, start=hunk.start + delta) if hunk.start >= end else hunk)
    low = min([start, *(h.start for h in touching)])
    high = max([end, *(h.end for h in touching)])
    old_parts: list[str] = []
    cursor = low
    for hunk in touching:  # the original text of [low, high): the hunks' old texts, the gaps as they are
        old_parts.append(before[cursor:hunk.start])
        old_parts.append(hunk.old)
        cursor = hunk.end
    old_parts.append(before[cursor:high])
    old = "".join(old_parts)
    new = before[low:start] + text + before[end:high]
    if old == new:
        return kept, None
    # Not trimmed to the differing middle: "count" -> "t" (backspaces, then the first key) would
    # shrink to "coun" -> "" before the "t", and the next key would no longer touch it.
    hunk = Hunk(low, old, new, order, min([now, *(h.first_seen for h in touching)]), now)
    return [*kept, hunk], hunk


def trimmed(start: int, old: str, new: str) -> tuple[int, str, str] | None:
    """``old`` → ``new`` at ``start`` without the text both share at either end; None if equal."""
    if old == new:
        return None
    head = common_prefix_length(old, new)
    tail = common_suffix_length(old, new, head)
    return start + head, old[head:len(old) - tail], new[head:len(new) - tail]


def unified_diff(path: str, text: str, hunk: Hunk, old_line: int, context: int = 2) -> str:
    """The hunk as a unified diff (``---``/``+++`` headers, one ``@@`` block) against ``text``,
    the current document, with ``context`` unchanged lines either side. ``old_line`` is the
    0-based line where the hunk's region started before this and later hunks moved it."""
    line_start = text.rfind("\n", 0, hunk.start) + 1
    newline = text.find("\n", hunk.end)
    line_end = len(text) if newline < 0 else newline
    head, tail = text[line_start:hunk.start], text[hunk.end:line_end]
    old_lines = (head + hunk.old + tail).split("\n")
    new_lines = (head + hunk.new + tail).split("\n")
    above = line_start
    for _ in range(context):  # (found by searching, not by splitting the whole text on every keystroke)
        if above == 0:
            break
        above = text.rfind("\n", 0, above - 1) + 1
    before = text[above:line_start].split("\n")[:-1]
    below = line_end
    for _ in range(context):
        if below >= len(text) - 1:
            break
        found = text.find("\n", below + 1)
        below = len(text) if found < 0 else found
    after = text[line_end + 1:below].split("\n") if below > line_end else []
    first_old = old_line - len(before) + 1
    first_new = text.count("\n", 0, line_start) - len(before) + 1
    body = [*(f" {line}" for line in before), *(f"-{line}" for line in old_lines),
            *(f"+{line}" for line in new_lines), *(f" {line}" for line in after)]
    old_count = len(before) + len(old_lines) + len(after)
    new_count = len(before) + len(new_lines) + len(after)
    return "\n".join([f"--- a/{path}", f"+++ b/{path}",
                      f"@@ -{first_old},{old_count} +{first_new},{new_count} @@", *body]) + "\n"
