"""``slm-lsp models list | pull NAME | verify PATH | path NAME``: the model catalog commands.

``pull`` downloads a catalog model into the cache (resumable, sha256-checked, atomic);
``verify`` is the offline path: a file copied from elsewhere is checked (GGUF header,
sha256 against the catalog, FIM family) and ``--install`` puts it where ``pull`` would.
``path`` prints where a pulled model lives, for scripts and editor settings. Results go
to stdout, progress and notes to stderr. Exit codes: 0 done, 1 a transfer or file that
failed its checks, 2 a usage or environment problem (unknown name, offline, disk full).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import urllib.parse
from pathlib import Path

from slm_lsp.config.settings import Settings
from slm_lsp.models.catalog import (
    CatalogEntry,
    CatalogError,
    cache_dir,
    catalog_path,
    find,
    load_catalog,
)
from slm_lsp.models.download import (
    DiskFullError,
    DownloadError,
    OfflineError,
    ProgressPrinter,
    download,
)
from slm_lsp.models.gguf_file import ModelFileError, read_gguf_info
from slm_lsp.models.source import ensure_embedded_model, sha256_of

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
ENV_MIRROR = "SLM_LSP_MODEL_MIRROR"


class UsageError(Exception):
    """A problem the user fixes by changing the command or the environment (exit 2)."""


def add_models_arguments(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    """Register ``models`` and its actions on the top-level command parser."""
    models = commands.add_parser("models", parents=[common], help="list, download and check catalog models")
    actions = models.add_subparsers(dest="models_command", required=True, metavar="{list,pull,verify,path}")
    actions.add_parser("list", help="the catalog, with what is pulled")
    pull = actions.add_parser("pull", help="download a catalog model into the cache")
    pull.add_argument("name", help="catalog name (see 'slm-lsp models list')")
    pull.add_argument("--mirror", help=f"base URL holding the files (default: ${ENV_MIRROR}, else Hugging Face)")
    verify = actions.add_parser("verify", help="check a GGUF file: header, sha256 against the catalog, FIM family")
    verify.add_argument("path", type=Path)
    verify.add_argument("--install", action="store_true", help="copy a catalog model into the cache, as 'pull' would")
    path = actions.add_parser("path", help="print where a pulled model is")
    path.add_argument("name")
    models.set_defaults(run=run_models)


def run_models(args: argparse.Namespace, settings: Settings) -> int:
    """Dispatch one ``models`` action; every failure becomes one line on stderr."""
    action = {"list": _list, "pull": _pull, "verify": _verify, "path": _path}[args.models_command]
    try:
        return action(args)
    except (UsageError, CatalogError, OfflineError, DiskFullError) as exc:
        print(f"slm-lsp: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (DownloadError, ModelFileError) as exc:
        print(f"slm-lsp: {exc}", file=sys.stderr)
        return EXIT_FAILED


def size_text(entry: CatalogEntry) -> str:
    """``874 MB``, with ``~`` when the catalog only knows a rounded size."""
    megabytes = entry.size_bytes / 1e6
    shown = f"{megabytes / 1000:.2f} GB" if megabytes >= 1000 else f"{megabytes:.0f} MB"
    return shown if entry.size_exact else f"~{shown}"


def _list(args: argparse.Namespace) -> int:
    entries = load_catalog()
    header = ("NAME", "ROLE", "SIZE", "QUANT", "FIM", "LICENCE", "RAM", "CORES", "SHA256", "STATUS")
    rows = [header]
    for entry in entries:
        pulled = entry.cached_path().is_file()
        status = "pulled" if pulled else "-"
        if entry.is_embedded:
            status = "embedded" + (", assembled" if pulled else "")
        rows.append((
            entry.name, entry.role, size_text(entry), entry.quantization, entry.fim_family, entry.license,
            f"{entry.ram_gb} GB", str(entry.cores), "verified" if entry.verified else "unverified", status,
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    print(f"\ncatalog: {catalog_path()}\ncache:   {cache_dir()}")
    for entry in entries:
        if not entry.pinned:
            consequence = "the download then fails its sha256 check" if entry.verified else "nothing would notice"
            print(f"warning: {entry.name} is not pinned to a commit (revision '{entry.revision}'): "
                  f"its publisher can replace the file, and {consequence}", file=sys.stderr)
    return EXIT_OK


def _entry(name: str) -> CatalogEntry:
    entry = find(name)
    if entry is None:
        raise UsageError(f"unknown model '{name}'; 'slm-lsp models list' shows the catalog")
    return entry


def _path(args: argparse.Namespace) -> int:
    entry = _entry(args.name)
    path = entry.cached_path()
    if not path.is_file():
        raise UsageError(f"model '{entry.name}' is not pulled; run 'slm-lsp models pull {entry.name}'")
    print(path)
    return EXIT_OK


def _mirror(flag: str | None) -> str | None:
    mirror = flag or os.environ.get(ENV_MIRROR) or None
    if mirror and urllib.parse.urlsplit(mirror).scheme not in ("http", "https"):
        raise UsageError(f"the mirror must be an http:// or https:// URL, got '{mirror}'")
    return mirror


def _pull(args: argparse.Namespace) -> int:
    entry = _entry(args.name)
    if entry.is_embedded:
        path = ensure_embedded_model()
        print(f"{entry.name} is the embedded model, assembled from its Python package and sha256-checked", file=sys.stderr)
        print(path)
        return EXIT_OK
    mirror = _mirror(args.mirror)
    if not entry.pinned and not mirror:
        print(f"note: {entry.name} is downloaded from the branch '{entry.revision}', not a pinned commit", file=sys.stderr)
    target = entry.cached_path()
    if target.is_file():
        if not entry.verified:
            print(f"{entry.name} is already pulled (no published sha256 to check it against)", file=sys.stderr)
            print(target)
            return EXIT_OK
        if sha256_of(target) == entry.sha256:
            print(f"{entry.name} is already pulled and matches its sha256", file=sys.stderr)
            print(target)
            return EXIT_OK
        print(f"the cached {target.name} does not match its sha256; downloading it again", file=sys.stderr)
        target.unlink()
    if not entry.verified:
        print(
            f"note: the catalog has no published sha256 for {entry.name}; the download's sha256 will be "
            "computed and reported, but it cannot be verified",
            file=sys.stderr,
        )
    progress = ProgressPrinter(entry.file)
    try:
        result = download(
            entry.url(mirror),
            target,
            expected_sha256=entry.sha256,
            expected_size=entry.size_bytes,
            progress=progress,
        )
    except KeyboardInterrupt:
        raise DownloadError(f"download of {entry.file} interrupted; run the same command again to resume it") from None
    finally:
        progress.close()
    try:
        read_gguf_info(result.path)
    except ModelFileError as exc:  # e.g. a mirror that answered with an HTML page
        result.path.unlink(missing_ok=True)
        raise DownloadError(f"the downloaded {entry.file} is not a usable model ({exc.problem}); it was deleted") from exc
    resumed = f", resumed at byte {result.resumed_from}" if result.resumed_from else ""
    if entry.verified:
        print(f"pulled {entry.name}: sha256 verified{resumed}", file=sys.stderr)
    else:
        print(f"pulled {entry.name}: sha256 {result.sha256} (unverified: no published checksum){resumed}", file=sys.stderr)
    print(result.path)
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    path: Path = args.path.expanduser()
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    info = read_gguf_info(path)  # a file that is not a complete GGUF fails the check: exit 1
    print(f"file:     {path} ({info.size:,} bytes)")
    print(f"gguf:     version {info.version}, {info.tensor_count} tensors, architecture {info.architecture}, name \"{info.name}\"")
    progress = ProgressPrinter("sha256") if sys.stderr.isatty() else None
    try:
        actual = sha256_of(path, progress)
    finally:
        if progress:
            progress.close()
    print(f"sha256:   {actual}")
    entries = load_catalog()
    entry, status = _match(entries, path.name, actual)
    print(f"catalog:  {status}")
    failed = entry is not None and entry.verified and entry.sha256 != actual
    family_line, family = _fim_report(path)
    print(f"fim:      {family_line}")
    if entry is not None and family is not None and family != entry.fim_family and not failed:
        print(f"warning:  the catalog lists {entry.name} as FIM family {entry.fim_family}, the file's tokenizer says {family}")
    if failed:
        print(f"slm-lsp: {path} does not match the published sha256 of {entry.name}; it is corrupt or a different file", file=sys.stderr)
        return EXIT_FAILED
    if args.install:
        if entry is None:
            raise UsageError(f"{path.name} is not a catalog model; use it directly with --model {path}")
        print(f"installed: {_install(path, entry, actual)}")
    elif entry is not None and entry.cached_path().resolve() != path.resolve():
        print(f"to use it as --model {entry.name}: slm-lsp models verify {path} --install")
    return EXIT_OK


def _match(entries: list[CatalogEntry], file_name: str, actual: str) -> tuple[CatalogEntry | None, str]:
    """Find the file's catalog entry: by published sha256 first, else by file name."""
    for entry in entries:
        if entry.sha256 == actual:
            return entry, f"{entry.name} (sha256 verified)"
    for entry in entries:
        if entry.file == file_name:
            if entry.sha256 is None:
                return entry, f"{entry.name} by file name; unverified (the catalog has no published sha256 for it)"
            return entry, f"{entry.name} by file name, but the sha256 differs from the published {entry.sha256}"
    return None, "not in the catalog (usable with --model PATH; nothing to verify it against)"


def _fim_report(path: Path) -> tuple[str, str | None]:
    """Load the model's tokenizer through llama.cpp, as the server will, and name its format."""
    from slm_lsp.engine.local_engine import Engine

    try:
        engine = Engine.load(path, n_ctx=256, n_threads=1, n_batch=256)
    except ModelFileError as exc:
        return f"unknown: {exc.problem}", None
    try:
        fmt = engine.fim
        if not fmt.supports_fim:
            return "none: no fill-in-the-middle tokens, completes from the text before the cursor only", fmt.family
        repo = "yes" if fmt.has_repo_tokens else "no"
        return f"{fmt.family} (fill-in-the-middle, {fmt.order.value} layout; repository-level prompts: {repo})", fmt.family
    finally:
        engine.close()


def _install(path: Path, entry: CatalogEntry, actual: str) -> Path:
    """Copy ``path`` to the entry's cache path atomically (a temp file, then a rename)."""
    target = entry.cached_path()
    if target.is_file() and target.resolve() == path.resolve():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    needed = path.stat().st_size
    if shutil.disk_usage(target.parent).free < needed:
        raise DiskFullError(f"not enough disk space in {target.parent} to install {path.name} ({needed / 1e6:,.1f} MB)")
    fd, tmp = tempfile.mkstemp(prefix=f".{entry.file}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, path.open("rb") as source:
            shutil.copyfileobj(source, out, 4 << 20)
            out.flush()
            os.fsync(out.fileno())
        if sha256_of(Path(tmp)) != actual:
            raise DownloadError(f"the copy of {path} in {target.parent} does not match the original; not installed")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
