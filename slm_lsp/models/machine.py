"""What this machine offers a local model: memory, cores, CPU features, llama.cpp's build.

``slm-lsp doctor`` reports these because they decide which model is usable: weights must
fit in RAM, decode speed follows memory bandwidth and the SIMD features llama.cpp was
compiled with, and a GPU only helps if the wheel was built with offload support. Every
probe degrades to "unknown" instead of failing: doctor must work on any machine.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

# CPU flags that change llama.cpp's speed (x86 /proc/cpuinfo "flags", Arm "Features").
_INTERESTING_FLAGS = (
    "sse3", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "bmi2",
    "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni", "amx_tile",
    "neon", "asimd", "asimddp", "sve", "i8mm",
)  # fmt: skip


@dataclass(frozen=True)
class Machine:
    """A snapshot of the host, as doctor prints it."""

    python: str
    llama_cpp_version: str
    llama_system_info: str
    gpu_offload: bool
    cpu_model: str
    cpu_flags: tuple[str, ...]
    cores: int
    usable_cores: int
    ram_total: int | None
    ram_available: int | None


def inspect_machine() -> Machine:
    """Collect the snapshot; llama.cpp is imported here, so this is not free (~0.2 s)."""
    import llama_cpp

    cpuinfo = _read("/proc/cpuinfo")
    meminfo = _meminfo()
    cores = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    return Machine(
        python=platform.python_version(),
        llama_cpp_version=str(getattr(llama_cpp, "__version__", "unknown")),
        llama_system_info=llama_cpp.llama_print_system_info().decode("utf-8", errors="replace").strip(" |"),
        gpu_offload=bool(llama_cpp.llama_supports_gpu_offload()),
        cpu_model=_cpu_model(cpuinfo),
        cpu_flags=_cpu_flags(cpuinfo),
        cores=cores,
        usable_cores=usable,
        ram_total=meminfo.get("MemTotal") or _sysconf_ram(),
        ram_available=meminfo.get("MemAvailable"),
    )


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _meminfo() -> dict[str, int]:
    """/proc/meminfo in bytes (Linux); empty elsewhere."""
    values: dict[str, int] = {}
    for line in _read("/proc/meminfo").splitlines():
        key, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            values[key] = int(fields[0]) * (1024 if fields[1:2] == ["kB"] else 1)
    return values


def _sysconf_ram() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _cpu_model(cpuinfo: str) -> str:
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Hardware", "Processor") and value.strip():
            return value.strip()
    return platform.processor() or platform.machine() or "unknown"


def _cpu_flags(cpuinfo: str) -> tuple[str, ...]:
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            present = set(value.split())
            return tuple(flag for flag in _INTERESTING_FLAGS if flag in present)
    return ()
