"""A network guard for server subprocesses, loaded by Python at start-up via PYTHONPATH.

Every connect (and UDP sendto) to a non-AF_UNIX address is appended to the file named by
``SLM_NET_LOG`` as ``host:port``; those not listed in ``SLM_NET_ALLOW`` (comma-separated
``host:port``) fail with ConnectionRefusedError. tests/test_offline.py reads the log.
"""

from __future__ import annotations

import os
import socket
from typing import Any

_LOG = os.environ.get("SLM_NET_LOG")
_ALLOW = {entry for entry in os.environ.get("SLM_NET_ALLOW", "").split(",") if entry}
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_sendto = socket.socket.sendto


def _check(sock: socket.socket, address: Any) -> None:
    if sock.family == socket.AF_UNIX:
        return
    entry = f"{address[0]}:{address[1]}"
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(entry + "\n")
    if entry not in _ALLOW:
        raise ConnectionRefusedError(f"network guard: connection to {entry} refused")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(self, address)
    _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address)
    return _connect_ex(self, address)


def _guarded_sendto(self: socket.socket, data: bytes, *args: Any) -> int:
    _check(self, args[-1])
    return _sendto(self, data, *args)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.socket.sendto = _guarded_sendto  # type: ignore[method-assign,assignment]
