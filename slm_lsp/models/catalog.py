"""The catalog of known coder models (``catalog.toml``) and where a pulled one lives.

This module owns the cache directory (models pulled, the embedded one assembled), so
model resolution (``source``) imports the catalog and never the other way round.

The catalog ships inside the package so ``pip install`` carries it; ``models/catalog.toml``
at the top of the repository points at the same file. Teams with their own model list set
``SLM_LSP_CATALOG`` to another file of the same format. Entries are validated strictly on
load (an unknown key is a typo, not something to ignore), so a broken catalog is reported
with the entry and key at fault instead of failing later during a download.

Each entry has a ``role``: ``completion`` (the default: a base coder model for inline
completions, the ``model`` setting), ``actions`` (an instruct model with a chat template,
for ``actionsModel``) or ``next-edit`` (a model trained to predict the next edit, used as
``model``: it completes through its FIM tokens and its ``next_edit`` prompt format, ``zeta``
or ``sweep``, drives the model predictor of ``textDocument/copilotInlineEdit``). ``doctor``
recommends a completion and an actions model.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import platformdirs

ENV_CATALOG = "SLM_LSP_CATALOG"
ENV_CACHE_DIR = "SLM_LSP_CACHE_DIR"
HUB_URL = "https://huggingface.co"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}")
ROLES = ("completion", "actions", "next-edit")
NEXT_EDIT_FORMATS = ("zeta", "sweep")  # slm_lsp/nextedit's model formats (it may not be imported here)
_REQUIRED = {
    "name": str, "description": str, "file": str, "quantization": str, "size_bytes": int,
    "size_exact": bool, "architecture": str, "fim_family": str, "license": str,
    "ram_gb": int, "cores": int,
}  # fmt: skip
_OPTIONAL = {"repository": str, "revision": str, "package": str, "sha256": str, "sha256_source": str, "role": str,
             "next_edit": str}


class CatalogError(Exception):
    """The catalog file is unreadable or an entry is incomplete; the message says which."""


@dataclass(frozen=True)
class CatalogEntry:
    """One downloadable model file and what is known about it before downloading."""

    name: str
    description: str
    file: str
    quantization: str
    size_bytes: int
    size_exact: bool
    architecture: str
    fim_family: str
    license: str
    ram_gb: int
    cores: int
    repository: str | None = None
    revision: str | None = None
    package: str | None = None
    sha256: str | None = None
    sha256_source: str | None = None
    role: str = "completion"
    next_edit: str | None = None  # the next-edit prompt format the model was trained on (role "next-edit")

    @property
    def pinned(self) -> bool:
        """Whether the download names an immutable commit (40 hex digits), not a branch such as
        ``main`` that its publisher can move: a moved branch changes the bytes under the same URL."""
        return self.is_embedded or (self.revision is not None and _COMMIT.fullmatch(self.revision) is not None)

    @property
    def is_embedded(self) -> bool:
        """Shipped as a Python package (the default model), not downloaded over HTTP."""
        return self.package is not None

    @property
    def verified(self) -> bool:
        """Whether a published sha256 exists to check the download against."""
        return self.sha256 is not None

    def url(self, mirror: str | None = None) -> str:
        """Where to fetch the file: ``{mirror}/{file}``, else its Hugging Face URL."""
        if mirror:
            return f"{mirror.rstrip('/')}/{self.file}"
        return f"{HUB_URL}/{self.repository}/resolve/{self.revision}/{self.file}"

    def cached_path(self) -> Path:
        """Where ``models pull`` puts the file (the same directory as the embedded model)."""
        return cache_dir() / self.file


def cache_dir() -> Path:
    """The user cache directory for assembled models (``SLM_LSP_CACHE_DIR`` overrides)."""
    override = os.environ.get(ENV_CACHE_DIR)
    return Path(override) if override else Path(platformdirs.user_cache_dir("slm-lsp")) / "models"


def catalog_path() -> Path:
    """The catalog in use: ``$SLM_LSP_CATALOG``, else the one shipped in the package."""
    override = os.environ.get(ENV_CATALOG)
    return Path(override) if override else Path(str(files("slm_lsp.models").joinpath("catalog.toml")))


def load_catalog(path: Path | None = None) -> list[CatalogEntry]:
    """Read and validate every entry; raises CatalogError naming the file and the problem."""
    path = path or catalog_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"cannot read the model catalog {path}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"model catalog {path} is not valid TOML: {exc}") from exc
    raw = data.get("model")
    if not isinstance(raw, list) or not raw:
        raise CatalogError(f"model catalog {path} has no [[model]] entries")
    entries = [_entry(item, number, path) for number, item in enumerate(raw, start=1)]
    names = [entry.name for entry in entries]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise CatalogError(f"model catalog {path} lists {', '.join(duplicates)} more than once")
    return entries


def find(name: str, entries: list[CatalogEntry] | None = None) -> CatalogEntry | None:
    """The entry called ``name`` (case-insensitive), or None."""
    wanted = name.strip().lower()
    return next((e for e in (entries if entries is not None else load_catalog()) if e.name.lower() == wanted), None)


def _entry(item: object, number: int, path: Path) -> CatalogEntry:
    where = f"model catalog {path}, entry {number}"
    if not isinstance(item, dict):
        raise CatalogError(f"{where}: not a table")
    where = f"{where} ({item.get('name', 'unnamed')})"
    unknown = sorted(set(item) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {', '.join(unknown)}")
    for key, kind in {**_REQUIRED, **_OPTIONAL}.items():
        if key not in item:
            if key in _REQUIRED:
                raise CatalogError(f"{where}: missing '{key}'")
            continue
        value = item[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise CatalogError(f"{where}: '{key}' must be a {kind.__name__}")
        if kind is str and not value.strip():
            raise CatalogError(f"{where}: '{key}' is empty")
    if ("package" in item) == ("repository" in item):
        raise CatalogError(f"{where}: give either 'repository' (with 'revision') or 'package'")
    if "repository" in item and "revision" not in item:
        raise CatalogError(f"{where}: 'repository' needs a 'revision' (a commit or branch)")
    if "sha256" in item:
        if not _SHA256.fullmatch(item["sha256"]):
            raise CatalogError(f"{where}: 'sha256' must be 64 lower-case hex digits")
        if "sha256_source" not in item:
            raise CatalogError(f"{where}: a 'sha256' needs a 'sha256_source' saying where it was published")
    if item.get("role", "completion") not in ROLES:
        raise CatalogError(f"{where}: 'role' must be one of {', '.join(ROLES)}")
    if (item.get("role") == "next-edit") != ("next_edit" in item):
        raise CatalogError(f"{where}: role \"next-edit\" and 'next_edit' (the prompt format) go together")
    if "next_edit" in item and item["next_edit"] not in NEXT_EDIT_FORMATS:
        raise CatalogError(f"{where}: 'next_edit' must be one of {', '.join(NEXT_EDIT_FORMATS)}")
    if "/" in item["file"] or item["file"] in (".", ".."):
        raise CatalogError(f"{where}: 'file' must be a plain file name")
    if item["size_bytes"] <= 0 or item["ram_gb"] <= 0 or item["cores"] <= 0:
        raise CatalogError(f"{where}: sizes, RAM and cores must be positive")
    return CatalogEntry(**item)
