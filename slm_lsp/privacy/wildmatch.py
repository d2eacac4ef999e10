"""Git ignore patterns, compiled to regular expressions that match exactly what git matches.

Why not pathspec: its regexes emulate "everything under a matched directory" by matching
path prefixes, and its GitIgnoreSpec resolves conflicts with a priority heuristic. Git
instead tests every path on its own and prunes excluded directories (see ``ignore.py``).
Mixing the two is what leaks ``build/keep.log`` for ``build`` + ``!keep.log``. This module
therefore ports git's own rules (``dir.c`` parse_path_pattern / match_basename /
match_pathname and ``wildmatch.c``) one to one, working on bytes as git does:

- a line is trimmed of one trailing CR and of unescaped trailing spaces; ``#`` starts a
  comment; ``!`` negates; a trailing ``/`` means "directories only";
- a pattern without ``/`` (other than a trailing one) is matched against the basename,
  anywhere below the file that defines it; any other pattern is matched against the path
  relative to that file's directory (a leading ``/`` only anchors);
- ``*`` and ``?`` never match ``/``; ``**`` matches across directories only when it is a
  whole path segment (``**/x``, ``x/**``, ``a/**/b``), otherwise it is a plain ``*``;
- git compares the literal prefix of a pathname pattern (up to its first wildcard)
  separately and runs wildmatch on the rest, so the rest starts a "new pattern": ``a**/b``
  matches ``a/x/y/b``. We reproduce that quirk instead of "fixing" it;
- character classes (``[a-z]``, ``[!x]``, ``[^x]``, ``[[:digit:]]``, escapes, a leading
  ``]``) are evaluated byte by byte exactly as wildmatch does; an unterminated class or an
  unknown ``[:name:]`` makes the pattern match nothing; so does a trailing backslash.

Case folding (git's ``core.ignoreCase``, and our own user patterns) is done by expanding
letters, never with ``re.IGNORECASE``, so that class semantics stay git's.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_UTF8_BOM = b"\xef\xbb\xbf"
_NEVER = re.compile(rb"(?!)")

_SPACE = frozenset(b" \t\n\r")  # git's sane_ctype: \v and \f are not spaces
_CLASSES: dict[bytes, frozenset[int]] = {
    b"alnum": frozenset(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    b"alpha": frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    b"blank": frozenset(b" \t"),
    b"cntrl": frozenset([*range(32), 127]),
    b"digit": frozenset(b"0123456789"),
    b"graph": frozenset(range(0x21, 0x7F)),
    b"lower": frozenset(b"abcdefghijklmnopqrstuvwxyz"),
    b"print": frozenset(range(0x20, 0x7F)),
    b"punct": frozenset(c for c in range(0x21, 0x7F) if not chr(c).isalnum()),
    b"space": _SPACE,
    b"upper": frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    b"xdigit": frozenset(b"0123456789abcdefABCDEF"),
}
_GLOB_SPECIAL = frozenset(b"*?[\\")


def _is_upper(c: int) -> bool:
    return 65 <= c <= 90


def _is_lower(c: int) -> bool:
    return 97 <= c <= 122


def _lower(c: int) -> int:
    return c + 32 if _is_upper(c) else c


@dataclass(frozen=True)
class IgnorePattern:
    """One pattern line of an ignore file, ready to test paths relative to the file's layer.

    ``base`` is the directory holding the defining file, relative to the layer's top
    (``b""`` for the top, info/exclude, global excludes and configured patterns).
    """

    text: str  # the pattern as written (for explanations), without the trailing newline
    source: str  # where it came from: a file path or a label such as "config"
    line: int  # 1-based line number in ``source``
    base: bytes
    negated: bool
    dir_only: bool
    basename_only: bool
    regex: re.Pattern[bytes]  # fullmatch against the basename or the base-relative path

    def matches(self, rel: bytes, basename: bytes, is_dir: bool) -> bool:
        """Whether this pattern matches ``rel`` (relative to the layer top), like git."""
        if self.dir_only and not is_dir:
            return False
        if self.basename_only:
            return self.regex.fullmatch(basename) is not None
        if self.base:
            if not rel.startswith(self.base + b"/"):
                return False
            rel = rel[len(self.base) + 1 :]
        return self.regex.fullmatch(rel) is not None

    def describe(self) -> str:
        """``source:line: pattern``, the same shape as ``git check-ignore -v``."""
        return f"{self.source}:{self.line}:{self.text}"


def split_lines(data: bytes) -> list[tuple[int, bytes]]:
    """Pattern lines of an ignore file as (line number, pattern), as git's
    add_patterns_from_buffer reads them: BOM skipped, CR before LF dropped, comments and
    empty lines skipped, unescaped trailing spaces trimmed."""
    data = data.removeprefix(_UTF8_BOM)
    out: list[tuple[int, bytes]] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line or line.startswith(b"#"):
            continue
        line = line.split(b"\0", 1)[0]  # git keeps patterns as C strings
        if not line:
            continue
        line = _trim_trailing_spaces(line)
        if line:
            out.append((number, line))
    return out


def _trim_trailing_spaces(line: bytes) -> bytes:
    last_space: int | None = None
    i = 0
    while i < len(line):
        c = line[i]
        if c == 0x20:
            if last_space is None:
                last_space = i
        elif c == 0x5C:  # backslash: the next byte is kept, whatever it is
            i += 1
            if i >= len(line):
                return line
            last_space = None
        else:
            last_space = None
        i += 1
    return line if last_space is None else line[:last_space]


def parse_pattern(line: bytes, *, source: str, number: int, base: bytes, casefold: bool) -> IgnorePattern:
    """Compile one (already trimmed) pattern line as git's parse_path_pattern does."""
    text = line.decode("utf-8", "backslashreplace")
    negated = line.startswith(b"!")
    body = line[1:] if negated else line
    dir_only = body.endswith(b"/")
    if dir_only:
        body = body[:-1]
    basename_only = b"/" not in body
    return IgnorePattern(
        text=text,
        source=source,
        line=number,
        base=base,
        negated=negated,
        dir_only=dir_only,
        basename_only=basename_only,
        regex=_compile(body, basename_only, casefold),
    )


def parse_lines(data: bytes, *, source: str, base: bytes, casefold: bool = False) -> list[IgnorePattern]:
    """All patterns of one ignore file's content, in file order (the last match wins)."""
    return [
        parse_pattern(line, source=source, number=number, base=base, casefold=casefold)
        for number, line in split_lines(data)
    ]


@functools.lru_cache(maxsize=8192)
def _compile(body: bytes, basename_only: bool, casefold: bool) -> re.Pattern[bytes]:
    if basename_only:
        source = _translate(body, pathname=False, casefold=casefold)
    else:
        if body.startswith(b"/"):
            body = body[1:]
        prefix = _simple_length(body)
        literal = b"".join(_literal(c, casefold) for c in body[:prefix])
        rest = _translate(body[prefix:], pathname=True, casefold=casefold)
        source = None if rest is None else literal + rest
    if source is None:
        return _NEVER
    return re.compile(source, re.DOTALL)


def _simple_length(body: bytes) -> int:
    for i, c in enumerate(body):
        if c in _GLOB_SPECIAL:
            return i
    return len(body)


def _literal(c: int, casefold: bool) -> bytes:
    if casefold and (_is_upper(c) or _is_lower(c)):
        low = _lower(c)
        return b"[" + bytes([low, low - 32]) + b"]"
    return re.escape(bytes([c]))


def _translate(p: bytes, *, pathname: bool, casefold: bool) -> bytes | None:
    """wildmatch as a regex body; None when git would never match (malformed pattern)."""
    out: list[bytes] = []
    n = len(p)
    i = 0
    while i < n:
        c = p[i]
        if c == 0x5C:  # backslash escapes the next byte; a trailing one never matches
            if i + 1 >= n:
                return None
            out.append(_literal(p[i + 1], casefold))
            i += 2
        elif c == 0x3F:  # ?
            out.append(b"[^/]" if pathname else b".")
            i += 1
        elif c == 0x2A:  # *
            j = i
            while j < n and p[j] == 0x2A:
                j += 1
            if not pathname:
                out.append(b".*")
            elif j - i >= 2 and (i == 0 or p[i - 1] == 0x2F) and (
                j == n or p[j] == 0x2F or (p[j] == 0x5C and j + 1 < n and p[j + 1] == 0x2F)
            ):
                if j < n and p[j] == 0x2F:
                    out.append(b"(?:.*/)?")  # "**/": zero or more whole directories
                    j += 1
                else:
                    out.append(b".*")
            else:
                out.append(b"[^/]*")
            i = j
        elif c == 0x5B:  # [
            parsed = _char_class(p, i, pathname=pathname, casefold=casefold)
            if parsed is None:
                return None
            members, i = parsed
            out.append(_byte_set(members))
        else:
            out.append(_literal(c, casefold))
            i += 1
    return b"".join(out)


def _char_class(p: bytes, i: int, *, pathname: bool, casefold: bool) -> tuple[frozenset[int], int] | None:
    """Evaluate a bracket expression starting at ``p[i] == '['`` the way wildmatch.c does.

    Returns the set of text bytes it matches and the index after the closing ``]``, or
    None where wildmatch returns WM_ABORT_ALL.
    """
    n = len(p)
    i += 1
    if i >= n:
        return None
    p_ch = p[i]
    negated = p_ch in (0x21, 0x5E)  # ! or ^
    if negated:
        i += 1
        if i >= n:
            return None
        p_ch = p[i]
    chars: set[int] = set()
    ranges: list[tuple[int, int]] = []
    classes: list[bytes] = []
    prev_ch = 0
    while True:
        if p_ch == 0:
            return None
        if p_ch == 0x5C:
            i += 1
            if i >= n:
                return None
            p_ch = p[i]
            chars.add(p_ch)
        elif p_ch == 0x2D and prev_ch and i + 1 < n and p[i + 1] != 0x5D:
            i += 1
            p_ch = p[i]
            if p_ch == 0x5C:
                i += 1
                if i >= n:
                    return None
                p_ch = p[i]
            ranges.append((prev_ch, p_ch))
            p_ch = 0
        elif p_ch == 0x5B and i + 1 < n and p[i + 1] == 0x3A:
            start = i + 2
            j = start
            while j < n and p[j] != 0x5D:
                j += 1
            if j >= n:
                return None
            if j - start - 1 < 0 or p[j - 1] != 0x3A:
                i = start - 2  # not "[:name:]": a literal '[' and go on after it
                p_ch = 0x5B
                chars.add(p_ch)
            else:
                name = p[start : j - 1]
                if name not in _CLASSES:
                    return None
                classes.append(name)
                i = j
                p_ch = 0
        else:
            chars.add(p_ch)
        prev_ch = p_ch
        i += 1
        if i >= n:
            return None
        p_ch = p[i]
        if p_ch == 0x5D:
            break
    members = set()
    for b in range(256):
        t = _lower(b) if casefold else b
        matched = t in chars
        if not matched:
            for lo, hi in ranges:
                if lo <= t <= hi or (casefold and _is_lower(t) and lo <= t - 32 <= hi):
                    matched = True
                    break
        if not matched:
            for name in classes:
                if t in _CLASSES[name] or (name == b"upper" and casefold and _is_lower(t)):
                    matched = True
                    break
        if matched != negated and not (pathname and b == 0x2F):
            members.add(b)
    return frozenset(members), i + 1


def _byte_set(members: frozenset[int]) -> bytes:
    if not members:
        return b"(?!)"
    return b"[" + b"".join(b"\\x%02x" % b for b in sorted(members)) + b"]"
