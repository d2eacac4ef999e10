"""Build llama.cpp's own ``llama-server`` from the sources inside the llama-cpp-python sdist.

The comparison in bench_replay must run the same llama.cpp version the project links, so the
binary is built from the sdist of the installed llama-cpp-python (fetched with pip, the
ordinary client) and cached under the user cache directory keyed by that version: the ~8 min
build happens once per version.

Run standalone (e.g. in the background before the benchmark):
    python scripts/replay/llama_server_build.py [--cache-dir DIR] [--jobs N]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "slm-lsp-bench"


def installed_version() -> str:
    """The llama-cpp-python version the project runs with."""
    return importlib.metadata.version("llama-cpp-python")


def binary_path(cache_dir: Path = DEFAULT_CACHE, version: str | None = None) -> Path:
    """Where the binary for ``version`` lives (whether or not it is built yet)."""
    return cache_dir / f"llama-server-{version or installed_version()}" / "llama-server"


def _download_sdist(version: str, into: Path, log) -> Path:
    log(f"downloading llama-cpp-python=={version} sdist")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
         f"llama-cpp-python=={version}", "-d", str(into), "-q"],
        check=True,
    )
    found = sorted(into.glob("llama_cpp_python-*.tar.gz")) + sorted(into.glob("llama-cpp-python-*.tar.gz"))
    if not found:
        raise RuntimeError(f"pip download left no sdist in {into}")
    return found[0]


def build(cache_dir: Path = DEFAULT_CACHE, *, jobs: int = 2, log=print) -> Path:
    """The cached binary, building it first if needed; raises RuntimeError with the reason."""
    version = installed_version()
    target = binary_path(cache_dir, version)
    if target.is_file() and os.access(target, os.X_OK):
        return target
    with tempfile.TemporaryDirectory(prefix="llama-server-build-") as tmp:
        work = Path(tmp)
        sdist = _download_sdist(version, work, log)
        with tarfile.open(sdist) as tar:
            tar.extractall(work, filter="data")
        roots = [p for p in work.glob("*/vendor/llama.cpp") if (p / "CMakeLists.txt").is_file()]
        if not roots:
            raise RuntimeError("the sdist holds no vendor/llama.cpp/CMakeLists.txt")
        src, out = roots[0], work / "build"
        log(f"configuring {src}")
        generator = ["-G", "Ninja"] if shutil.which("ninja") else []
        subprocess.run(
            ["cmake", "-S", str(src), "-B", str(out), *generator, "-DCMAKE_BUILD_TYPE=Release",
             "-DLLAMA_CURL=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
             "-DLLAMA_BUILD_SERVER=ON", "-DBUILD_SHARED_LIBS=OFF"],
            check=True, stdout=subprocess.DEVNULL,
        )
        log(f"building llama-server with {jobs} jobs (several minutes)")
        subprocess.run(["cmake", "--build", str(out), "--target", "llama-server", "-j", str(jobs)],
                       check=True, stdout=subprocess.DEVNULL)
        built = next(iter(out.rglob("bin/llama-server")), None)
        if built is None:
            raise RuntimeError("the build finished without a bin/llama-server")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        shutil.copy2(built, partial)
        partial.replace(target)
    log(f"llama-server cached at {target}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    try:
        print(build(args.cache_dir, jobs=args.jobs, log=lambda m: print(m, file=sys.stderr, flush=True)))
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"llama-server build failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
