"""JSON-RPC robustness that pygls 2.1 lacks: every request gets a readable answer.

pygls logs a request whose params fail validation (a negative position, a string where
a number belongs) and never answers it, so the client waits forever; it answers a
handler's crash with the Python traceback in the error's ``data``; it runs requests
sent before ``initialize`` (which then crash) and lets a second ``initialize`` reset
the workspace. Here malformed requests are answered at once with ``InvalidParams`` and
a reason, internal errors reach the client as one sentence (the traceback goes to the
log), the LSP lifecycle is enforced, and out-of-band errors go to the log instead of
the user's screen. Text from the client is made well-formed Unicode on arrival: a lone
surrogate (JavaScript strings may hold one) becomes U+FFFD, which occupies the same
number of UTF-16 and UTF-32 units, so positions stay valid and no later stage (the
tokenizer, tree-sitter, the privacy gate) meets a string it cannot encode. Documents are
kept with LSP's notion of lines (see ``lsp_text``).

``FramedReader`` makes the stdio framing forgiving in the same spirit: a frame with a
lost or malformed header costs only that frame, not the rest of the session.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Generator
from typing import Any, BinaryIO, cast

import cattrs
from lsprotocol import types
from lsprotocol.types import ResponseError
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcServerNotInitialized,
)
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.protocol.json_rpc import MsgId, RPCNotification, RPCRequest

from slm_lsp.lsp.lifecycle import Stoppable, watch_parent
from slm_lsp.lsp.text import LspWorkspace

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 << 20
"""Frames larger than this are skipped unread: a 10 MB document fits even as escaped JSON,
while a bogus ``Content-Length`` cannot make the server allocate gigabytes."""
_MAX_HEADER_LINE = 64 << 10
_CONTENT_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*(\d{1,15})[ \t]*\r?\n\Z", re.IGNORECASE)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class AlreadyAnswered(Exception):
    """A malformed request that has been answered with an error; nothing more to do."""


class SlmProtocol(LanguageServerProtocol):
    """LanguageServerProtocol that answers requests it cannot deserialize or must refuse."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._initialize_seen = False
        self._initialized_seen = False

    @property
    def shut_down(self) -> bool:
        """Whether the client sent ``shutdown`` (then exiting is a success)."""
        return self._shutdown

    def structure_message(self, data: dict[str, Any]) -> Any:
        data = {key: _well_formed(value) for key, value in data.items()}
        is_request = "id" in data and "method" in data
        try:
            message = super().structure_message(data)
        except JsonRpcException as exc:
            if not is_request:
                raise
            error: JsonRpcException = JsonRpcInvalidParams(f"invalid params for {data['method']}: {_reason(exc)}")
            self._send_response(data["id"], error=error.to_response_error())
            raise AlreadyAnswered(data["method"]) from exc
        if is_request and "jsonrpc" in data and not hasattr(message, "id"):  # a notification sent with an id
            error = JsonRpcInvalidRequest(f"{data['method']} is a notification: send it without an id")
            self._send_response(data["id"], error=error.to_response_error())
            raise AlreadyAnswered(data["method"])
        return message

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, types.InitializeResult]:
        """pygls' initialize, then its new (empty) workspace swapped for an LspWorkspace."""
        result = yield from super().lsp_initialize(params)
        self._workspace = LspWorkspace.replacing(self.workspace)
        experimental = getattr(self._server, "experimental_capabilities", None)  # pygls has no hook for these
        if experimental:
            result.capabilities.experimental = {**(result.capabilities.experimental or {}), **experimental}
        return result

    def handle_message(self, message: Any) -> None:
        """Enforce the lifecycle: ``initialize`` once and first, nothing but ``exit`` after
        ``shutdown``; then let pygls dispatch."""
        if not hasattr(message, "jsonrpc"):
            log.warning("ignored a message that is not a JSON-RPC object")
            return
        method = getattr(message, "method", None)
        if isinstance(message, RPCRequest):
            refusal = self._refusal(method)
            if refusal is not None:
                self._send_response(message.id, error=refusal.to_response_error())
                return
            if method == types.INITIALIZE:
                self._initialize_seen = True
                watch_parent(getattr(message.params, "process_id", None), cast(Stoppable, self._server))
        elif isinstance(message, RPCNotification) and method != types.EXIT:
            if not self._initialize_seen:
                log.warning("ignored %s sent before initialize", method)
                return
            if method == types.INITIALIZED:
                if self._initialized_seen:
                    log.warning("ignored a repeated initialized notification")
                    return
                self._initialized_seen = True
        super().handle_message(message)

    def _refusal(self, method: str | None) -> JsonRpcException | None:
        if method == types.INITIALIZE and self._initialize_seen:
            return JsonRpcInvalidRequest("initialize was already received; it may be sent only once")
        if method != types.INITIALIZE and not self._initialize_seen:
            return JsonRpcServerNotInitialized("the server is not initialized yet: send initialize first")
        if self._shutdown:
            return JsonRpcInvalidRequest("the server is shutting down: only exit is accepted")
        return None

    def _send_response(self, msg_id: MsgId, result: Any | None = None, error: ResponseError | None = None) -> None:
        """Send a response, replacing pygls' traceback-bearing internal errors by one sentence."""
        if error is not None and isinstance(error.data, dict) and "traceback" in error.data:
            log.error("request %s failed: %s\n%s", msg_id, error.message, "".join(error.data["traceback"]))
            error = ResponseError(
                code=JsonRpcInternalError.CODE,
                message=f"slm-lsp could not handle this request ({_plain(error.message)}); the server log has details",
            )
        super()._send_response(msg_id, result=result, error=error)


class FramedReader:
    """Stdin as pygls reads it, but with every frame re-framed canonically.

    A header block counts when it ends with a blank line and names a length (the last
    ``Content-Length`` wins, matched case-insensitively, also at the end of a line that
    starts with the leftovers of a frame whose length was wrong); blocks without one
    are dropped, and a frame over ``max_bytes`` is read and discarded in pieces. pygls
    then only ever sees ``Content-Length: N``, a blank line and the body.
    """

    def __init__(self, raw: BinaryIO, max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self._raw = raw
        self._max_bytes = max_bytes
        self._pending: list[bytes] = []

    def readline(self) -> bytes:
        if not self._pending:
            length = self._next_length()
            if length is None:
                return b""
            self._pending = [b"Content-Length: %d\r\n" % length, b"\r\n"]
        return self._pending.pop(0)

    def read(self, size: int) -> bytes:
        return self._raw.read(size)

    def _next_length(self) -> int | None:
        """The body length of the next usable frame; None at the end of input."""
        length: int | None = None
        while line := self._raw.readline(_MAX_HEADER_LINE):
            if line.endswith(b"\n") and not line.strip():
                if length is not None and length > self._max_bytes:
                    log.warning("skipped a message of %d bytes (the limit is %d)", length, self._max_bytes)
                    if not self._discard(length):
                        return None
                elif length:
                    return length
                length = None
            elif match := _CONTENT_LENGTH.search(line):
                length = int(match.group(1))
        return None

    def _discard(self, size: int) -> bool:
        while size > 0:
            chunk = self._raw.read(min(size, 1 << 20))
            if not chunk:
                return False
            size -= len(chunk)
        return True


def _well_formed(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value) if _LONE_SURROGATE.search(value) else value
    if isinstance(value, list):
        return [_well_formed(item) for item in value]
    return value


def _plain(message: str) -> str:
    """'ValueError: cursor offset 5 is outside' -> 'cursor offset 5 is outside'."""
    name, separator, rest = message.partition(": ")
    return rest if separator and name.isidentifier() else message


def _reason(exc: JsonRpcException) -> str:
    """The first validation problem as one line, e.g. 'Position.line should be ... @ $.params.position'."""
    cause = exc.__cause__
    if isinstance(cause, cattrs.BaseValidationError):
        messages = cattrs.transform_error(cause, path="$", format_exception=lambda error, _type: str(error))
        if messages:
            return messages[0]
    return str(cause or exc) or "could not be read"
