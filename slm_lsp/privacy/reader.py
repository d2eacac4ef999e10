"""Reading a file's text safely: never lossy, never hanging, never through a swapped link.

The file is opened with O_NOFOLLOW (a symlink swapped in after the gate's check is
refused) and O_NONBLOCK (a FIFO cannot block the server), must be a regular file, and is
read up to its size cap plus one byte. Text is returned only if it is plain UTF-8: a NUL
byte in the first 8 KB means binary, a UTF-16/32 byte-order mark or any invalid UTF-8
means "not text we can use" — decoding with replacement characters would feed the model
garbage and could split a secret into pieces that no longer look like one.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass

BINARY_SNIFF_BYTES = 8192
_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


@dataclass(frozen=True)
class ReadOutcome:
    text: str | None
    reason: str | None = None  # why there is no text (for logs and explanations)


def read_utf8(path: str, *, max_bytes: int, max_line_chars: int) -> ReadOutcome:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return ReadOutcome(None, "is a symlink (changed after the check)")
        return ReadOutcome(None, f"cannot open ({errno.errorcode.get(exc.errno or 0, 'error')})")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return ReadOutcome(None, "not a regular file")
        if info.st_size > max_bytes:
            return ReadOutcome(None, f"larger than {max_bytes} bytes")
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        return ReadOutcome(None, f"cannot read ({errno.errorcode.get(exc.errno or 0, 'error')})")
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        return ReadOutcome(None, f"larger than {max_bytes} bytes")
    return decode_text(data, max_line_chars=max_line_chars)


def decode_text(data: bytes, *, max_line_chars: int) -> ReadOutcome:
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        return ReadOutcome(None, "binary (NUL byte)")
    if data.startswith(_BOMS):
        return ReadOutcome(None, "UTF-16/32 text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ReadOutcome(None, "not valid UTF-8")
    if _longest_line(text) > max_line_chars:
        return ReadOutcome(None, f"a line is longer than {max_line_chars} characters")
    return ReadOutcome(text)


def _longest_line(text: str) -> int:
    longest = 0
    start = 0
    while True:
        end = text.find("\n", start)
        if end < 0:
            return max(longest, len(text) - start)
        longest = max(longest, end - start)
        start = end + 1
