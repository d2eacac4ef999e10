"""The two git settings the gate needs: ``core.excludesFile`` and ``core.ignoreCase``.

Asked of ``git config`` when git is installed, because only git knows every config file,
``include``/``includeIf`` and the environment overrides. Without git (or when git refuses,
e.g. a repository with "dubious ownership"), a small parser reads the files git would read
— system, global (``$GIT_CONFIG_GLOBAL``, or ``$XDG_CONFIG_HOME/git/config`` then
``~/.gitconfig``) and the repository's ``config`` — later files winning, as in git.
Includes are not followed by the fallback parser.

The default for ``core.excludesFile`` is ``$XDG_CONFIG_HOME/git/ignore`` (or
``~/.config/git/ignore``), as in git.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

_GIT_TIMEOUT = 5.0
_CONFIG_CAP = 1 << 20
# Variables that would make git look at another repository than the one we ask about.
_GIT_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX")


def xdg_config_home() -> Path:
    value = os.environ.get("XDG_CONFIG_HOME")
    if value and os.path.isabs(value):
        return Path(value)
    return Path(os.path.expanduser("~")) / ".config"


def default_excludes_file() -> Path:
    return xdg_config_home() / "git" / "ignore"


class GitSettings:
    """``core.excludesFile`` and ``core.ignoreCase`` for a repository (or none)."""

    def __init__(self, *, use_git: bool = True) -> None:
        self._git = shutil.which("git") if use_git else None

    def excludes_file(self, top: Path | None, git_dir: Path | None) -> Path:
        value = self._get(top, git_dir, "core.excludesFile", path=True)
        if value is None or value == "":
            return default_excludes_file()
        expanded = Path(os.path.expanduser(value))
        if not expanded.is_absolute() and top is not None:
            expanded = top / expanded
        return expanded

    def ignore_case(self, top: Path | None, git_dir: Path | None) -> bool:
        value = self._get(top, git_dir, "core.ignoreCase", path=False)
        return value is not None and value.strip().lower() in ("true", "yes", "on", "1")

    def _get(self, top: Path | None, git_dir: Path | None, key: str, *, path: bool) -> str | None:
        if self._git is not None:
            answer = self._ask_git(top, key, path=path)
            if answer is not _UNKNOWN:
                return answer  # type: ignore[return-value]
        return _read_config_files(git_dir).get(key.lower())

    def _ask_git(self, top: Path | None, key: str, *, path: bool) -> object:
        env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARS}
        command = [self._git or "git"]
        if top is not None:
            command += ["-C", str(top)]
        command += ["config", "--get"] + (["--path"] if path else []) + [key]
        try:
            done = subprocess.run(
                command, capture_output=True, env=env, timeout=_GIT_TIMEOUT, stdin=subprocess.DEVNULL, check=False
            )
        except (OSError, subprocess.SubprocessError) as exc:
            log.debug("git config unavailable (%s); reading config files directly", type(exc).__name__)
            return _UNKNOWN
        if done.returncode == 0:
            return os.fsdecode(done.stdout.rstrip(b"\r\n"))
        if done.returncode == 1:  # not set
            return None
        log.debug("git config refused (exit %d); reading config files directly", done.returncode)
        return _UNKNOWN


_UNKNOWN = object()


def _read_config_files(git_dir: Path | None) -> dict[str, str]:
    files: list[Path] = []
    if not os.environ.get("GIT_CONFIG_NOSYSTEM"):
        files.append(Path(os.environ.get("GIT_CONFIG_SYSTEM") or "/etc/gitconfig"))
    global_file = os.environ.get("GIT_CONFIG_GLOBAL")
    if global_file is not None:
        if global_file:
            files.append(Path(global_file))
    else:
        files.append(xdg_config_home() / "git" / "config")
        files.append(Path(os.path.expanduser("~")) / ".gitconfig")
    if git_dir is not None:
        files.append(git_dir / "config")
    values: dict[str, str] = {}
    for file in files:
        try:
            with open(file, "rb") as handle:
                data = handle.read(_CONFIG_CAP)
        except OSError:
            continue
        values.update(parse_config(data.decode("utf-8", "replace")))
    return values


_SECTION = re.compile(r'^\s*\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]\s*(.*)$')
_ENTRY = re.compile(r"^\s*([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$")


def parse_config(text: str) -> dict[str, str]:
    """Flatten a git config file to ``section[.subsection].name`` (lower-cased) -> value.

    Handles comments (``#``/``;`` outside quotes), quotes, backslash escapes, line
    continuations and booleans written without a value, which covers what git writes.
    """
    values: dict[str, str] = {}
    section = ""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        header = _SECTION.match(line)
        if header:
            name, sub, rest = header.groups()
            section = name.lower() + (f".{sub}" if sub is not None else "")
            line = rest
            if not line.strip():
                continue
        entry = _ENTRY.match(line)
        if not entry or not section:
            continue
        key, raw = entry.group(1).lower(), entry.group(2)
        if raw is None:
            values[f"{section}.{key}"] = "true"
            continue
        while raw.endswith("\\") and not raw.endswith("\\\\") and index < len(lines):
            raw = raw[:-1] + lines[index]
            index += 1
        values[f"{section}.{key}"] = _unquote(raw)
    return values


def _unquote(raw: str) -> str:
    out: list[str] = []
    quoted = False
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == '"':
            quoted = not quoted
        elif c == "\\" and i + 1 < len(raw):
            i += 1
            out.append({"n": "\n", "t": "\t", "b": "\b"}.get(raw[i], raw[i]))
        elif c in "#;" and not quoted:
            break
        else:
            out.append(c)
        i += 1
    return "".join(out).strip() if not quoted else "".join(out)
