"""Whether a process still runs: for the editor named in ``initialize`` (lifecycle) and the
owners of partial model files (model_source)."""

from __future__ import annotations

import os


def process_exists(pid: int) -> bool:
    """True while ``pid`` runs (also under another user); False once it is gone or a zombie
    (a dead child its parent has not reaped still answers ``kill(pid, 0)``)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # it exists under another user (or is not a pid we can judge)
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False
