"""A progress line on stderr for long runs, without a dependency.

On a terminal one line is redrawn in place (``\\r``) at most five times a second; when
stderr is a file or a CI log, a plain line is written every 10% or every 30 seconds,
so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

_REDRAW_SECONDS = 0.2
_LOG_SECONDS = 30.0
_WIDTH = 24


class Progress:
    """Reports ``done`` out of ``total`` with a rate and an estimate of the time left."""

    def __init__(self, total: int, label: str, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.total = total
        self.label = label
        self.enabled = enabled and total > 0
        self.stream = stream if stream is not None else sys.stderr
        self._interactive = self.stream.isatty()
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._last_decile = 0
        self._drawn = False

    def update(self, done: int, note: str = "") -> None:
        """Record that ``done`` items are finished; ``note`` is shown after the counts."""
        if not self.enabled:
            return
        now = time.monotonic()
        finished = done >= self.total
        if self._interactive:
            if finished or now - self._last_draw >= _REDRAW_SECONDS:
                self.stream.write("\r" + self._line(done, note, now) + "\x1b[K")
                self.stream.flush()
                self._last_draw = now
                self._drawn = True
            return
        decile = done * 10 // self.total
        if finished or decile > self._last_decile or now - self._last_draw >= _LOG_SECONDS:
            self.stream.write(self._line(done, note, now) + "\n")
            self.stream.flush()
            self._last_draw, self._last_decile = now, decile

    def close(self) -> None:
        """End the redrawn line so that later output starts on a fresh line."""
        if self.enabled and self._interactive and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def _line(self, done: int, note: str, now: float) -> str:
        elapsed = now - self._started
        filled = _WIDTH * done // self.total
        bar = "#" * filled + "." * (_WIDTH - filled)
        remaining = elapsed / done * (self.total - done) if done else None
        eta = f" ETA {_duration(remaining)}" if remaining is not None and done < self.total else ""
        extra = f" {note}" if note else ""
        return f"{self.label} [{bar}] {done}/{self.total}{extra} {_duration(elapsed)}{eta}"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
