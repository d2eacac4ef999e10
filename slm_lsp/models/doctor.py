"""``slm-lsp doctor``: can this machine run completions well, and with which model?

It reports the Python and llama.cpp build, CPU, cores and RAM, loads the model exactly as
``serve`` would choose it, measures prompt and decode speed for about five seconds, and
recommends the largest catalog model whose RAM need fits and whose expected completion
latency (scaled from the measured speed by file size: CPU inference is bound by the bytes
of weights read per token) meets ``latencyTargetMs``, and the largest instruct model (role
``actions``) that fits in RAM and has its recommended cores, for ``actionsModel``: an action
is asked for and waited on, so speed only decides through the core count. Problems are reported as findings,
never as a traceback, and the command exits 0: it is a diagnosis, not a check.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

from slm_lsp.config.settings import Settings
from slm_lsp.engine.local_engine import Engine, Speed
from slm_lsp.models.catalog import CatalogEntry, CatalogError, load_catalog
from slm_lsp.models.cli import size_text
from slm_lsp.models.gguf_file import ModelFileError
from slm_lsp.models.machine import Machine, inspect_machine
from slm_lsp.models.source import choose_model, materialise

PROBE_SECONDS = 5.0
TYPICAL_PROMPT_TOKENS = 128
"""Tokens a keystroke typically makes the model evaluate: the edit plus context that moved."""
TYPICAL_GENERATED_TOKENS = 24
"""About one line of code."""
_RAM_SLACK = 0.9  # an "8 GB" machine reports a little less than 8e9 bytes of MemTotal


@dataclass(frozen=True)
class Estimate:
    """One catalog model judged for this machine."""

    entry: CatalogEntry
    fits_ram: bool
    fits_cores: bool
    latency_ms: float | None


def add_doctor_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``doctor`` (the model options come from the shared parent parser)."""
    parser.add_argument("--no-probe", action="store_true", help="skip the ~5 s speed measurement")
    parser.set_defaults(run=run_doctor)


def run_doctor(args: argparse.Namespace, settings: Settings) -> int:
    """Print the report; always exits 0 (a broken model is a finding, not a crash)."""
    machine = inspect_machine()
    print("slm-lsp doctor")
    _print_machine(machine)
    threads = settings.n_threads or max(1, os.cpu_count() or 1)
    _section("model")
    engine, model_size, model_file = _load_model(settings, threads)
    try:
        speed = None
        if engine is not None and not args.no_probe:
            _section(f"speed (about {PROBE_SECONDS:.0f} s on this model)")
            speed = _probe(engine)
        elif engine is not None:
            _section("speed")
            _row("probe", "skipped (--no-probe)")
    finally:
        if engine is not None:
            engine.close()

    _section("recommendation")
    try:
        entries = load_catalog()
    except CatalogError as exc:
        _row("catalog", f"unavailable: {exc}")
        return 0
    estimates = [_estimate(entry, machine, speed, model_size) for entry in entries]
    _print_estimates(estimates, settings)
    best = recommend(estimates, settings.latency_target_ms)
    _print_choice(best, model_file, settings, measured=speed is not None)
    _print_actions_choice(recommend_actions(estimates), settings)
    return 0


def _print_machine(machine: Machine) -> None:
    _section("system")
    _row("python", machine.python)
    _row("llama-cpp-python", machine.llama_cpp_version)
    _row("llama.cpp build", machine.llama_system_info or "unknown")
    _row("GPU offload", "supported by this build" if machine.gpu_offload else "no (CPU-only build)")
    _row("CPU", machine.cpu_model)
    _row("CPU features", " ".join(machine.cpu_flags) or "unknown")
    usable = f" ({machine.usable_cores} usable by this process)" if machine.usable_cores != machine.cores else ""
    _row("cores", f"{machine.cores}{usable}")
    _row("RAM", _ram_text(machine))


def _load_model(settings: Settings, threads: int) -> tuple[Engine | None, int | None, str | None]:
    """Resolve and load the model as serve would; report what it is or what is wrong."""
    choice = choose_model(settings.model)
    origin = {"explicit": "--model", "env": "$SLM_LSP_MODEL", "embedded": "embedded default"}.get(choice.origin, choice.origin)
    if choice.catalog_name:
        origin += f" (catalog name {choice.catalog_name})"
    try:
        path = materialise(choice)
        engine = Engine.load(
            path, n_ctx=settings.context_size(), n_threads=threads, n_batch=settings.n_batch, n_gpu_layers=settings.n_gpu_layers
        )
    except ModelFileError as exc:
        _row("chosen", origin)
        _row("problem", str(exc))
        return None, None, None
    info = engine.info
    _row("chosen", f"{origin}: {info.path}")
    _row("name", f"{info.name} ({info.architecture}, {info.size / 1e6:,.0f} MB)")
    fmt = engine.fim
    if fmt.supports_fim:
        repo = ", repository-level prompts" if fmt.has_repo_tokens else ""
        _row("completion", f"fill-in-the-middle, family {fmt.family} ({fmt.order.value} layout{repo})")
    else:
        _row("completion", "prefix only: the model has no FIM tokens, text after the cursor is not used")
    _row("context", f"{engine.n_ctx} tokens")
    _row("threads", str(threads))
    return engine, info.size, info.path.name


def _probe(engine: Engine) -> Speed | None:
    """Repeat the engine's own speed probe for about PROBE_SECONDS (at least once)."""
    deadline = time.monotonic() + PROBE_SECONDS
    try:
        engine.probe_speed()
        while time.monotonic() < deadline:
            engine.probe_speed()
    except (ValueError, RuntimeError, OSError) as exc:
        _row("probe", f"failed: {exc}")
        return None
    speed = engine.speed
    _row("prompt", f"{speed.prompt_tps:,.1f} tokens/s" if speed.prompt_tps else "not measured")
    _row("decode", f"{speed.decode_tps:,.1f} tokens/s" if speed.decode_tps else "not measured (the model stopped early)")
    latency = _latency_ms(speed, 1.0)
    if latency is not None:
        _row("typical completion", f"{latency / 1000:.2f} s ({TYPICAL_PROMPT_TOKENS} prompt + {TYPICAL_GENERATED_TOKENS} generated tokens)")
    return speed if latency is not None else None


def _latency_ms(speed: Speed, scale: float) -> float | None:
    if not speed.prompt_tps or not speed.decode_tps:
        return None
    return 1000 * scale * (TYPICAL_PROMPT_TOKENS / speed.prompt_tps + TYPICAL_GENERATED_TOKENS / speed.decode_tps)


def _estimate(entry: CatalogEntry, machine: Machine, speed: Speed | None, model_size: int | None) -> Estimate:
    fits_ram = machine.ram_total is None or entry.ram_gb * 1e9 * _RAM_SLACK <= machine.ram_total
    latency = _latency_ms(speed, entry.size_bytes / model_size) if speed and model_size else None
    return Estimate(entry, fits_ram, entry.cores <= machine.usable_cores, latency)


def recommend(estimates: list[Estimate], latency_target_ms: int) -> Estimate | None:
    """The largest FIM-capable model that fits in RAM and, when speed was measured, meets the
    latency target (else: whose recommended core count this machine has); None if none does."""

    def fits(estimate: Estimate) -> bool:
        if not estimate.fits_ram or estimate.entry.fim_family == "none" or estimate.entry.role != "completion":
            return False
        if estimate.latency_ms is not None:
            return estimate.latency_ms <= latency_target_ms
        return estimate.fits_cores

    candidates = [estimate for estimate in estimates if fits(estimate)]
    return max(candidates, key=lambda estimate: estimate.entry.size_bytes, default=None)


def recommend_actions(estimates: list[Estimate]) -> Estimate | None:
    """The largest instruct (role ``actions``) model that fits in RAM and whose recommended core
    count this machine has; None if none does."""
    candidates = [e for e in estimates if e.entry.role == "actions" and e.fits_ram and e.fits_cores]
    return max(candidates, key=lambda estimate: estimate.entry.size_bytes, default=None)


def _print_estimates(estimates: list[Estimate], settings: Settings) -> None:
    rows = [("MODEL", "ROLE", "SIZE", "RAM", "CORES", "EXPECTED")]
    for estimate in estimates:
        entry = estimate.entry
        latency = f"~{estimate.latency_ms / 1000:.1f} s" if estimate.latency_ms is not None else "-"
        rows.append((
            entry.name, entry.role, size_text(entry), f"{entry.ram_gb} GB" + ("" if estimate.fits_ram else " (too much)"),
            str(entry.cores), latency,
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    print(f"  (EXPECTED: a typical completion, scaled by file size from the measured speed; target {settings.latency_target_ms} ms)")


def _print_choice(best: Estimate | None, model_file: str | None, settings: Settings, *, measured: bool) -> None:
    basis = f"meets {settings.latency_target_ms} ms per completion here" if measured else "has the recommended cores (speed not measured)"
    if best is None:
        print("  -> no catalog coder model fits this machine; keep the embedded default (prefix-only completion)")
        return
    entry = best.entry
    print(f"  -> {entry.name}: the largest catalog model that fits in RAM and {basis}")
    if model_file == entry.file:
        print("     it is the model in use")
    elif entry.cached_path().is_file():
        print(f"     already pulled; use it with --model {entry.name}")
    else:
        print(f"     get it with: slm-lsp models pull {entry.name}")


def _print_actions_choice(best: Estimate | None, settings: Settings) -> None:
    if best is None:
        print("  -> no catalog instruct model fits this machine; code actions use the completion model")
        return
    entry = best.entry
    print(f"  -> {entry.name} for code actions: the largest instruct model that fits in RAM and has its recommended cores")
    if settings.actions_model and settings.actions_model.strip().lower() == entry.name.lower():
        print("     it is the actionsModel in use")
    elif entry.cached_path().is_file():
        print(f"     already pulled; set actionsModel to {entry.name}")
    else:
        print(f"     get it with: slm-lsp models pull {entry.name}, then set actionsModel to {entry.name}")


def _ram_text(machine: Machine) -> str:
    if machine.ram_total is None:
        return "unknown"
    text = f"{machine.ram_total / 2**30:.1f} GiB total"
    if machine.ram_available is not None:
        text += f", {machine.ram_available / 2**30:.1f} GiB available"
    return text


def _section(title: str) -> None:
    print(f"\n{title}")


def _row(label: str, value: str) -> None:
    print(f"  {label:<19} {value}")

