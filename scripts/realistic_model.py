"""A benchmark model with deepseek-coder-1.3B's real shape: random weights, Q4_K_M.

Speed on a CPU depends on the architecture, the tensor shapes and the quantization types,
not on the weight values. So instead of downloading the real model, the benchmark builds
one with the same shape as deepseek-coder-1.3b-base (llama architecture, n_embd 2048,
24 layers, 16 heads, no grouped-query attention, n_ff 5504, untied 32,256-token output,
RoPE base 100,000 with linear scaling x4, 16,384-token context) around the real
deepseek-coder tokenizer copied from llama.cpp's vocab file (``tests/data/vocab``), writes
it as f16 and quantizes it to Q4_K_M with ``llama_cpp.llama_model_quantize``.

Greedy decoding of this model always emits the token ``zz`` (``greedy_token`` in
tests.tiny_models), which contains no newline and is neither an end nor a FIM token, so
every completion generates exactly its token budget.

Q4_K and Q6_K need rows of a multiple of 256 values. ffn_down's rows are n_ff = 5504 =
21.5 x 256 values long, so llama.cpp falls back for that tensor (as it does for the real
model): Q5_0 instead of Q4_K and Q8_0 instead of Q6_K. The build records what llama.cpp
chose per tensor type.

Run standalone: python scripts/realistic_model.py [--cache-dir DIR] [--force]
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.tiny_models import VOCAB_DIR, build_tiny_model

DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "slm-lsp-bench"

# deepseek-coder-1.3b-base config.json
SHAPE: dict[str, Any] = {
    "n_embd": 2048,
    "n_layer": 24,
    "n_head": 16,
    "n_head_kv": 16,
    "n_ff": 5504,
    "n_ctx_train": 16384,
    "rope_freq_base": 100000.0,
    "tied_output": False,
}
EXTRA_METADATA: dict[str, Any] = {
    "llama.attention.layer_norm_rms_epsilon": 1e-6,
    "llama.rope.dimension_count": 128,
    "llama.rope.scaling.type": "linear",
    "llama.rope.scaling.factor": 4.0,
}
GREEDY_TOKEN = 4877  # "zz" in the deepseek-coder vocabulary
NAME = "deepseek-coder-1.3b-shape-random"


BUILD_VERSION = 1  # bump when the weights' construction (tests.tiny_models) changes in a way that matters


def _fingerprint() -> str:
    """Changes when the shape, the build version or the vocab file changes."""
    digest = hashlib.sha256(json.dumps([SHAPE, EXTRA_METADATA, GREEDY_TOKEN, BUILD_VERSION]).encode())
    digest.update((VOCAB_DIR / "ggml-vocab-deepseek-coder.gguf.gz").read_bytes())
    return digest.hexdigest()[:12]


def model_path(cache_dir: Path = DEFAULT_CACHE) -> Path:
    return cache_dir / f"{NAME}-{_fingerprint()}-Q4_K_M.gguf"


def ensure_model(cache_dir: Path = DEFAULT_CACHE, *, force: bool = False, log=print) -> tuple[Path, dict[str, Any]]:
    """The Q4_K_M file (built on first use) and its build record (times, sizes, tensor types)."""
    path = model_path(cache_dir)
    record_path = path.with_suffix(".json")
    if path.exists() and record_path.exists() and not force:
        record = json.loads(record_path.read_text())
        record["cached"] = True
        return path, record
    cache_dir.mkdir(parents=True, exist_ok=True)
    free = _free_bytes(cache_dir)
    if free < 5 << 30:
        raise RuntimeError(f"{cache_dir}: {free / 2**30:.1f} GiB free; the build needs ~4 GiB (f16 temp + Q4_K_M)")
    f16 = path.with_name(f"{path.stem}.f16.{os.getpid()}.partial")
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    record: dict[str, Any] = {"shape": SHAPE, "greedy_token": GREEDY_TOKEN}
    try:
        log(f"building {f16.name} (random weights, f16) ...")
        started = time.perf_counter()
        build_tiny_model(
            "deepseek-coder",
            f16,
            name=f"{NAME} (deepseek-coder-1.3b shape, random weights)",
            extra_metadata=EXTRA_METADATA,
            greedy_token=GREEDY_TOKEN,
            **SHAPE,
        )
        record["f16_seconds"] = round(time.perf_counter() - started, 1)
        record["f16_bytes"] = f16.stat().st_size
        log(f"  f16 written in {record['f16_seconds']} s ({record['f16_bytes'] / 2**30:.2f} GiB); quantizing to Q4_K_M ...")
        started = time.perf_counter()
        messages = quantize(f16, partial)
        record["quantize_seconds"] = round(time.perf_counter() - started, 1)
        record["bytes"] = partial.stat().st_size
        record["tensor_types"] = tensor_types(partial)
        record["fallbacks"] = [m.split("warning: ", 1)[-1] for m in messages if "falling back" in m]
        record["quantize_summary"] = [m.split(": ", 1)[-1] for m in messages if "llama_model_quantize_impl" in m and "size" in m or "required fallback" in m]
        record["build_seconds"] = round(record["f16_seconds"] + record["quantize_seconds"], 1)
        os.replace(partial, path)
        record_path.write_text(json.dumps(record, indent=1))
        log(f"  quantized in {record['quantize_seconds']} s: {path} ({record['bytes'] / 2**20:.0f} MiB)")
    finally:
        f16.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    record["cached"] = False
    return path, record


def quantize(source: Path, target: Path) -> list[str]:
    """Quantize ``source`` (f16/f32) to Q4_K_M; return llama.cpp's log lines."""
    import llama_cpp

    lines: list[str] = []

    @llama_cpp.llama_log_callback
    def _callback(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
        lines.append(text.decode("utf-8", errors="replace"))

    llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))
    try:
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M
        params.nthread = os.cpu_count() or 1
        status = llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), ctypes.byref(params))
    finally:
        llama_cpp.llama_log_set(ctypes.cast(0, llama_cpp.llama_log_callback), ctypes.c_void_p(0))
    text = "".join(lines)
    if status != 0:
        raise RuntimeError(f"llama_model_quantize failed with status {status}:\n{text[-2000:]}")
    return [line for line in text.splitlines() if line.strip()]


def tensor_types(path: Path) -> dict[str, int]:
    """How many tensors of each ggml type the file holds, e.g. {"Q4_K": 121, "Q6_K": 25, ...}."""
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    return dict(Counter(tensor.tensor_type.name for tensor in reader.tensors).most_common())


def _free_bytes(path: Path) -> int:
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = parser.parse_args()
    path, record = ensure_model(args.cache_dir, force=args.force)
    print(path)
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
