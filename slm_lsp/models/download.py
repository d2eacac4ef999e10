"""Fetch one large file over HTTP(S) safely: resumable, checksummed, placed atomically.

Model files are gigabytes and laptops drop off networks, so a transfer writes to
``TARGET.part`` and continues it with an HTTP Range request on the next attempt. The file
reaches its final name (``os.replace``, atomic on one file system) only after its sha256
is known and, when one was published, matches; a mismatching file is deleted so a retry
starts clean. Everything uses the standard library (urllib) so no extra dependency is
needed on machines that must stay minimal. Messages never include URL credentials.
"""

from __future__ import annotations

import base64
import errno
import http.client
import os
import shutil
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from slm_lsp import __version__
from slm_lsp.models.source import sha256_of

_BLOCK = 1 << 20
_TIMEOUT_SECONDS = 30


class DownloadError(Exception):
    """A transfer that failed; the message is one line a user can act on."""


class OfflineError(DownloadError):
    """The host could not be reached at all (DNS failure, refused or unreachable)."""


class DiskFullError(DownloadError):
    """Not enough space for the file in the cache directory."""


class ChecksumError(DownloadError):
    """The downloaded bytes do not match the published sha256 (the file was deleted)."""


@dataclass(frozen=True)
class Downloaded:
    """The placed file and its sha256, whether or not it could be checked."""

    path: Path
    sha256: str
    size: int
    resumed_from: int


Progress = Callable[[int, int | None], None]
"""Called with (bytes so far, total bytes or None when the server does not say)."""


def display_url(url: str) -> str:
    """``url`` without user name, password or query string, for messages and logs."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def download(
    url: str,
    target: Path,
    *,
    expected_sha256: str | None,
    expected_size: int | None = None,
    progress: Progress | None = None,
) -> Downloaded:
    """Download ``url`` to ``target``, resuming ``target.part`` if an earlier run left one.

    ``expected_size`` (approximate is fine) is used to refuse early when the disk is too
    full. Raises OfflineError, DiskFullError, ChecksumError or DownloadError.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    offset = part.stat().st_size if part.is_file() else 0
    if expected_size is not None:
        _check_space(target.parent, expected_size - offset, part)
    response = _open(url, offset)
    if response is None:  # 416: the partial file already holds every byte
        return _finish(part, target, expected_sha256, offset, url)
    with response:
        if offset and response.status == 206:
            start = _content_range_start(response)
            if start != offset:
                raise DownloadError(f"{display_url(url)}: the server resumed at byte {start}, not {offset}; delete {part} and retry")
        elif offset:
            offset = 0  # the server ignored Range: start over
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else None
        if total is not None and expected_size is None:
            _check_space(target.parent, total - offset, part)
        received = _receive(response, part, offset, total, progress, url)
    if total is not None and received < total:
        raise DownloadError(
            f"the download of {target.name} was interrupted after {received} of {total} bytes; "
            "run the same command again to resume it"
        )
    return _finish(part, target, expected_sha256, offset, url)


def _open(url: str, offset: int) -> http.client.HTTPResponse | None:
    clean, authorization = _split_credentials(url)
    headers = {"User-Agent": f"slm-lsp/{__version__}", "Accept-Encoding": "identity"}
    if authorization:
        headers["Authorization"] = authorization
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(clean, headers=headers)
    shown = display_url(url)
    try:
        return urllib.request.build_opener(_CredentialSafeRedirects()).open(request, timeout=_TIMEOUT_SECONDS)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            return None
        if exc.code in (401, 403):
            raise DownloadError(f"{shown}: access denied (HTTP {exc.code}); check the mirror's credentials") from exc
        if exc.code == 404:
            raise DownloadError(f"{shown}: not found (HTTP 404); is the file on this server or mirror?") from exc
        raise DownloadError(f"{shown}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise _network_error(exc.reason, url) from exc
    except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
        raise _network_error(exc, url) from exc


class _CredentialSafeRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects (Hugging Face sends downloads to a CDN) but never carry a mirror's
    credentials to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


def _split_credentials(url: str) -> tuple[str, str | None]:
    """Move ``user:password@`` out of the URL into a Basic Authorization header (urllib
    would otherwise try to read the password as a port)."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return url, None
    user = urllib.parse.unquote(parts.username)
    password = urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, "")), f"Basic {token}"


def _network_error(reason: object, url: str) -> DownloadError:
    """Name the host; call it offline when the host cannot be reached at all."""
    host = urllib.parse.urlsplit(url).hostname or display_url(url)
    port = urllib.parse.urlsplit(url).port
    where = f"{host}:{port}" if port else host
    unreachable = isinstance(reason, (socket.gaierror, ConnectionRefusedError, TimeoutError)) or (
        isinstance(reason, OSError) and reason.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ECONNREFUSED)
    )
    if unreachable:
        return OfflineError(
            f"cannot reach {where}: you appear to be offline; copy the file onto this machine "
            "and run `slm-lsp models verify PATH --install`"
        )
    return DownloadError(f"cannot download from {where}: {reason}")


def _content_range_start(response: http.client.HTTPResponse) -> int | None:
    value = response.headers.get("Content-Range", "")  # "bytes START-END/TOTAL"
    unit, _, span = value.partition(" ")
    start = span.split("-", 1)[0]
    return int(start) if unit == "bytes" and start.isdigit() else None


def _check_space(directory: Path, needed: int, part: Path) -> None:
    free = shutil.disk_usage(directory).free
    if needed > free:
        raise DiskFullError(
            f"not enough disk space in {directory}: {_megabytes(needed)} needed, {_megabytes(free)} free"
            + (f" (the partial download {part.name} is kept for later)" if part.exists() else "")
        )


def _receive(
    response: http.client.HTTPResponse, part: Path, offset: int, total: int | None, progress: Progress | None, url: str
) -> int:
    """Append the body to ``part``; return how many bytes the file holds afterwards."""
    received = offset
    mode = "ab" if offset else "wb"
    try:
        with part.open(mode) as out:
            while True:
                try:
                    block = response.read(_BLOCK)
                except (http.client.IncompleteRead, ConnectionError, TimeoutError):
                    break  # what arrived is kept; the caller reports the shortfall
                if not block:
                    break
                out.write(block)
                received += len(block)
                if progress:
                    progress(received, total)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFullError(
                f"the disk holding {part.parent} is full after {_megabytes(received)} of {_size_text(total)}; "
                f"free some space and run the same command again to resume"
            ) from exc
        raise DownloadError(f"cannot write {part}: {exc.strerror or exc}") from exc
    if total is None and received == offset:
        raise DownloadError(f"{display_url(url)} sent an empty file")
    return received


def _size_text(total: int | None) -> str:
    return _megabytes(total) if total is not None else "an unknown size"


def _finish(part: Path, target: Path, expected: str | None, offset: int, url: str) -> Downloaded:
    actual = sha256_of(part)
    if expected is not None and actual != expected:
        part.unlink(missing_ok=True)
        raise ChecksumError(
            f"{target.name} from {display_url(url)} has sha256 {actual}, but the catalog expects {expected}; "
            "the download was deleted (corrupted transfer, or the file changed upstream)"
        )
    size = part.stat().st_size
    os.replace(part, target)
    return Downloaded(path=target, sha256=actual, size=size, resumed_from=offset)


def _megabytes(count: int) -> str:
    return f"{count / 1e6:,.1f} MB"


class ProgressPrinter:
    """A progress bar on an interactive stderr; otherwise a line every 10 %.

    Logs and CI output stay short when nobody watches, and the bar never reaches stdout,
    which scripts parse.
    """

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self._label = label
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty()
        self._started = time.monotonic()
        self._last_decile = -1
        self._last_draw = 0.0
        self._first: int | None = None  # bytes already on disk when this run started

    def __call__(self, done: int, total: int | None) -> None:
        if self._first is None:
            self._first = done
        if self._tty:
            now = time.monotonic()
            if now - self._last_draw < 0.1 and done != total:
                return
            self._last_draw = now
            self._stream.write("\r" + self._bar(done, total, now))
            self._stream.flush()
            return
        if not total:
            return
        decile = done * 10 // total
        if decile > self._last_decile:
            self._last_decile = decile
            self._stream.write(f"{self._label}: {decile * 10}% ({_megabytes(done)} of {_megabytes(total)})\n")
            self._stream.flush()

    def close(self) -> None:
        """End the bar's line so the next message starts on its own line."""
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()

    def _bar(self, done: int, total: int | None, now: float) -> str:
        rate = (done - (self._first or 0)) / max(now - self._started, 1e-3)
        if not total:
            return f"{self._label}: {_megabytes(done)} ({rate / 1e6:.1f} MB/s)"
        width = 30
        filled = width * done // total
        return (
            f"{self._label}: [{'#' * filled}{'.' * (width - filled)}] {100 * done // total:3d}% "
            f"{_megabytes(done)} / {_megabytes(total)} ({rate / 1e6:.1f} MB/s)"
        )
