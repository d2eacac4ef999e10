"""JSON-RPC robustness that pygls 2.1 lacks: malformed requests get an error response.

pygls logs a request whose params fail validation (a negative position, a string where
a number belongs) and never answers it, so the client waits forever; then it shows the
user an "Error in server" popup. Here such a request is answered at once with
``InvalidParams`` and a readable reason, and out-of-band errors go to the log instead
of the user's screen.
"""

from __future__ import annotations

import logging
from typing import Any

import cattrs
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger(__name__)


class AlreadyAnswered(Exception):
    """A malformed request that has been answered with an error; nothing more to do."""


class SlmProtocol(LanguageServerProtocol):
    """LanguageServerProtocol that answers requests it cannot deserialize."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if not (isinstance(data, dict) and "id" in data and "method" in data):
                raise
            reason = _reason(exc)
            error = JsonRpcInvalidParams(f"invalid params for {data['method']}: {reason}")
            self._send_response(data["id"], error=error.to_response_error())
            raise AlreadyAnswered(data["method"]) from exc


def _reason(exc: JsonRpcException) -> str:
    """The first validation problem as one line, e.g. 'Position.line should be ... @ $.params.position'."""
    cause = exc.__cause__
    if isinstance(cause, cattrs.ClassValidationError):
        messages = cattrs.transform_error(cause, path="$", format_exception=lambda error, _type: str(error))
        if messages:
            return messages[0]
    return str(cause or exc) or "could not be read"
