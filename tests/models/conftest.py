"""A real HTTP server on 127.0.0.1 serving tiny GGUF models, and a catalog that names them.

The server honours ``Range: bytes=N-`` (206 with Content-Range, 416 past the end) and can
be told to cut the next response in half and close the connection, which is exactly
what a dropped network does to a large download. It records every request's headers so
tests can see that a resume really asked for the missing bytes only.
"""

from __future__ import annotations

import hashlib
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.tiny_models import tiny_model_path

CLI = [sys.executable, "-m", "slm_lsp"]


@dataclass
class ServerState:
    """What the test controls and observes on the server."""

    files: dict[str, bytes]
    truncate_next: int = 0
    requests: list[dict[str, str]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        state = self.server.state
        state.requests.append({"path": self.path, **dict(self.headers.items())})
        if self.path.startswith("/redirect/"):  # like Hugging Face sending a download to its CDN
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{self.server.server_address[1]}/{self.path.split('/', 2)[2]}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = state.files.get(self.path.lstrip("/"))
        if data is None:
            self.send_error(404)
            return
        start = 0
        requested = self.headers.get("Range")
        if requested:
            match = re.fullmatch(r"bytes=(\d+)-", requested)
            assert match, requested
            start = int(match.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if state.truncate_next:
            state.truncate_next -= 1
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: ServerState


@dataclass(frozen=True)
class Mirror:
    url: str
    state: ServerState


TINY_FILE = "tiny-deepseek-coder.gguf"
UNVERIFIED_FILE = "tiny-unverified.gguf"
WRONG_FILE = "tiny-wrong.gguf"


@pytest.fixture(scope="session")
def tiny_bytes() -> bytes:
    return tiny_model_path("deepseek-coder").read_bytes()


@pytest.fixture(scope="session")
def other_bytes() -> bytes:
    """A second model (StarCoder tokenizer), so the unverified entry is not matched by hash."""
    return tiny_model_path("starcoder").read_bytes()


@pytest.fixture
def mirror(tiny_bytes: bytes, other_bytes: bytes) -> Iterator[Mirror]:
    state = ServerState(files={TINY_FILE: tiny_bytes, UNVERIFIED_FILE: other_bytes, WRONG_FILE: tiny_bytes})
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = state
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Mirror(f"http://127.0.0.1:{server.server_address[1]}", state)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _entry(name: str, file: str, sha256: str | None, size: int, family: str = "deepseek-coder", arch: str = "llama") -> str:
    lines = [
        "[[model]]",
        f'name = "{name}"',
        f'description = "tiny random-weight test model with the {family} tokenizer"',
        f'repository = "example/{name}"',
        'revision = "main"',
        f'file = "{file}"',
        'quantization = "F16"',
        f"size_bytes = {size}",
        "size_exact = true",
        f'architecture = "{arch}"',
        f'fim_family = "{family}"',
        'license = "mit"',
        "ram_gb = 1",
        "cores = 1",
    ]
    if sha256:
        lines += [f'sha256 = "{sha256}"', 'sha256_source = "computed by the test from the bytes it serves"']
    return "\n".join(lines) + "\n"


@pytest.fixture
def catalog(tmp_path: Path, tiny_bytes: bytes, other_bytes: bytes) -> Path:
    """Three entries for the served file: a correct sha256, none, and a wrong one."""
    path = tmp_path / "catalog.toml"
    good = hashlib.sha256(tiny_bytes).hexdigest()
    wrong = hashlib.sha256(b"some other file").hexdigest()
    path.write_text(
        "schema = 1\n\n"
        + _entry("tiny-verified", TINY_FILE, good, len(tiny_bytes))
        + "\n"
        + _entry("tiny-unverified", UNVERIFIED_FILE, None, len(other_bytes), "starcoder2", "starcoder2")
        + "\n"
        + _entry("tiny-wrong", WRONG_FILE, wrong, len(tiny_bytes))
    )
    return path


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def env(catalog: Path, cache: Path) -> dict[str, str]:
    """Subprocess environment: the test catalog and cache, no proxies, no model override."""
    import os

    skip = {"SLM_LSP_MODEL", "SLM_LSP_MODEL_MIRROR", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"}
    values = {k: v for k, v in os.environ.items() if k not in skip}
    values.update(SLM_LSP_CATALOG=str(catalog), SLM_LSP_CACHE_DIR=str(cache), NO_PROXY="*", no_proxy="*")
    return values


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=300, check=False)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
