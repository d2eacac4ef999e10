"""Run code-server (the real VS Code workbench) isolated from the user's home directory.

Why each flag: `--auth none` on 127.0.0.1 so the browser opens the workbench directly; its
own user-data, extensions, config and XDG directories (code-server writes under $HOME
otherwise); telemetry and update checks off and the extension gallery pointed at a closed
local port (the machine is offline); a short reconnection grace time so the extension host,
and the `slm-lsp serve` it started, exit soon after the browser closes. It runs as its own
process group because its file watcher outlives the parent; stop() ends the whole group.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.editors.workbench.install import CODE_SERVER_VERSION, code_server_entry, node24_dir

GRACE_SECONDS = 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class CodeServer:
    """One code-server instance under ``root``; ``machine_settings`` go to Machine/settings.json
    (where machine-scoped settings such as slmLsp.server.command count in code-server)."""

    root: Path
    env: dict[str, str]
    version: str = CODE_SERVER_VERSION
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def user_data(self) -> Path:
        return self.root / "user-data"

    @property
    def extensions(self) -> Path:
        return self.root / "extensions"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _base(self) -> list[str]:
        node = node24_dir(self.version) / "bin" / "node"
        return [
            str(node), str(code_server_entry(self.version)),
            "--user-data-dir", str(self.user_data), "--extensions-dir", str(self.extensions),
            "--config", str(self.root / "config.yaml"),
        ]

    def _env(self) -> dict[str, str]:
        env = dict(self.env)
        for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
            env[name] = str(self.root / "xdg" / name.lower())
        closed = f"http://127.0.0.1:{free_port()}"
        env["EXTENSIONS_GALLERY"] = json.dumps({"serviceUrl": f"{closed}/gallery", "itemUrl": f"{closed}/item"})
        env.pop("VSCODE_IPC_HOOK_CLI", None)
        return env

    def write_settings(self, machine: dict[str, Any], user: dict[str, Any]) -> None:
        (self.user_data / "Machine").mkdir(parents=True, exist_ok=True)
        (self.user_data / "User").mkdir(parents=True, exist_ok=True)
        (self.user_data / "Machine" / "settings.json").write_text(json.dumps(machine, indent=2))
        (self.user_data / "User" / "settings.json").write_text(json.dumps(user, indent=2))
        (self.root / "config.yaml").write_text("bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n")

    def install_extension(self, vsix: Path) -> None:
        result = subprocess.run(
            [*self._base(), "--install-extension", str(vsix), "--force"],
            env=self._env(), capture_output=True, text=True, timeout=300,
        )
        if result.returncode != 0 or "successfully installed" not in result.stdout.lower():
            raise RuntimeError(f"code-server --install-extension failed:\n{result.stdout}\n{result.stderr}")

    def start(self, folder: Path, timeout: float = 120) -> None:
        log = open(self.root / "code-server.log", "wb")
        self.process = subprocess.Popen(
            [
                *self._base(), "--bind-addr", f"127.0.0.1:{self.port}", "--auth", "none",
                "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
                "--disable-getting-started-override", "--reconnection-grace-time", str(GRACE_SECONDS),
                "--ignore-last-opened", "--log", "trace", str(folder),
            ],
            env=self._env(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"code-server exited with {self.process.returncode}: {self.log_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"code-server did not answer on {self.url} within {timeout:.0f} s: {self.log_text()[-2000:]}")

    def log_text(self) -> str:
        path = self.root / "code-server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def output_channel_log(self) -> str:
        """The extension's "slm-lsp" log output channel, as the workbench wrote it to disk."""
        logs = sorted((self.user_data / "logs").rglob("*slm-lsp*.log"))
        return "\n".join(path.read_text(errors="replace") for path in logs)

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # the file watcher and any straggler
        except ProcessLookupError:
            pass
