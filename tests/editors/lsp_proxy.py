"""A logging stdio proxy between an editor and the language server.

    python lsp_proxy.py LOG -- SERVER_COMMAND...

Forwards bytes unchanged both ways and appends every JSON-RPC message to LOG as one
JSON line: {"t": seconds, "from": "client" | "server", "message": {...}}. The editor
tests read it to see what a real client sent (requests, $/cancelRequest) and what the
server answered.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from typing import BinaryIO


def pump(source: BinaryIO, sink: BinaryIO, log: BinaryIO, lock: threading.Lock, origin: str) -> None:
    buffer = b""
    while True:
        chunk = source.read1(65536) if hasattr(source, "read1") else source.read(65536)
        if not chunk:
            break
        sink.write(chunk)
        sink.flush()
        buffer += chunk
        while True:
            head, sep, rest = buffer.partition(b"\r\n\r\n")
            if not sep:
                break
            length = None
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length is None or len(rest) < length:
                break
            body, buffer = rest[:length], rest[length:]
            try:
                message = json.loads(body)
            except ValueError:
                message = {"unparsable": body.decode("utf-8", "replace")}
            record = json.dumps({"t": time.monotonic(), "from": origin, "message": message})
            with lock:
                log.write(record.encode() + b"\n")
                log.flush()
    try:
        sink.close()
    except OSError:
        pass


def main() -> int:
    log_path, separator, *command = sys.argv[1:]
    assert separator == "--" and command, __doc__
    server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    lock = threading.Lock()
    with open(log_path, "ab") as log:
        inbound = threading.Thread(
            target=pump, args=(sys.stdin.buffer, server.stdin, log, lock, "client"), daemon=True
        )
        outbound = threading.Thread(
            target=pump, args=(server.stdout, sys.stdout.buffer, log, lock, "server"), daemon=True
        )
        inbound.start()
        outbound.start()
        code = server.wait()
        outbound.join(timeout=5)
    return code


if __name__ == "__main__":
    sys.exit(main())
