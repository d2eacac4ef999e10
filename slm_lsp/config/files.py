"""The two configuration files: the user's ``config.toml`` and the project's.

The user file lives in ``platformdirs.user_config_dir("slm-lsp")`` (``SLM_LSP_CONFIG_DIR``
overrides the directory, so tests never read the developer's own file). The project file
is ``.slm-lsp.toml`` at the workspace root or, when that does not exist, the
``[tool.slm-lsp]`` table of the root ``pyproject.toml`` — like ruff, the dedicated file
wins outright and the two are never merged, so one file always tells the whole story.

A project file comes with a cloned repository, which is not trusted the way the user's own
files are: it may tune budgets and limits, but it may not choose the model file that
llama.cpp parses, nor where code is sent (backend, remoteUrl, remoteApiKeyEnv).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs

from slm_lsp.config.layers import Layer
from slm_lsp.config.settings import SettingsError, _camel, _snake

ENV_CONFIG_DIR = "SLM_LSP_CONFIG_DIR"
USER_FILE_NAME = "config.toml"
PROJECT_FILE_NAME = ".slm-lsp.toml"
PYPROJECT_TABLE = ("tool", "slm-lsp")

# Settings a repository must not choose: they decide what code runs or where prompts go.
USER_ONLY = frozenset({"model", "actions_model", "backend", "remote_url", "remote_api_key_env"})


def user_config_path() -> Path:
    """Where the user's config.toml is (it need not exist)."""
    override = os.environ.get(ENV_CONFIG_DIR)
    directory = Path(override) if override else Path(platformdirs.user_config_dir("slm-lsp"))
    return directory / USER_FILE_NAME


def file_layers(project_root: Path | None) -> tuple[list[Layer], list[SettingsError]]:
    """The user layer, then the project layer (each only if its file exists).

    A file that cannot be read or parsed, or that holds a key a project may not set, is
    left out as a whole and reported; the layers that remain are returned.
    """
    layers: list[Layer] = []
    problems: list[SettingsError] = []
    for read in (read_user_file, lambda: read_project_file(project_root)):
        try:
            layer = read()
        except SettingsError as exc:
            problems.append(exc)
            continue
        if layer is not None:
            layers.append(layer)
    return layers, problems


def read_user_file(path: Path | None = None) -> Layer | None:
    """The user's config.toml as a layer. A relative model path ("models/x.gguf") is taken
    from the file's folder; a bare catalog name ("qwen2.5-coder-1.5b") stays as it is."""
    path = path or user_config_path()
    table = _load_toml(path)
    if table is None:
        return None
    values = dict(table)
    model = values.get("model")
    if isinstance(model, str) and ("/" in model or model.endswith(".gguf")) and not Path(model).expanduser().is_absolute():
        values["model"] = str(path.parent / model)
    return Layer("user", str(path), values)


def read_project_file(root: Path | None) -> Layer | None:
    """``.slm-lsp.toml`` at ``root``, else ``[tool.slm-lsp]`` of ``root/pyproject.toml``."""
    if root is None:
        return None
    dedicated = root / PROJECT_FILE_NAME
    table = _load_toml(dedicated)
    source = dedicated
    if table is None:
        pyproject = root / "pyproject.toml"
        document = _load_toml(pyproject)
        if document is None:
            return None
        table = document
        for part in PYPROJECT_TABLE:
            table = table.get(part) if isinstance(table, Mapping) else None
        if table is None:
            return None
        if not isinstance(table, Mapping):
            raise SettingsError(f"{pyproject}: [tool.slm-lsp] must be a table")
        source = pyproject
    for key in table:
        if _snake(key) in USER_ONLY:
            raise SettingsError(
                f"{source}: setting '{_camel(_snake(key))}' cannot be set by a project file "
                f"(a repository must not choose the model or where code is sent); set it in {user_config_path()}"
            )
    return Layer("project", str(source), dict(table))


def _load_toml(path: Path) -> Mapping[str, Any] | None:
    """The parsed file, or None when it does not exist; a clear SettingsError otherwise."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: is not valid TOML ({exc})") from None
