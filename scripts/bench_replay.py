"""Replay benchmark: retype real code key by key through the real server, like a person.

Real files from four codebases in different styles (scripts/replay/targets.py: pathspec's
tab-indented util.py, packaging's typed specifiers.py, the untyped six.py, a JavaScript file from
node_modules) are copied into temporary git repositories. Lines are picked with ``--seed``; each is
removed from its first non-blank character to its end and typed back at the schedule
(scripts/replay/keys.py: 100-250 ms between keys with pauses at word ends, or a fixed interval),
never waiting for an answer, the way VS Code drives ``slm-lsp serve`` over stdio (didChange,
$/cancelRequest for the request in flight, inlineCompletion; ``slm/prefetch`` on cursor rest).
Each target is opened, left for ``--wait-open`` s (3), then typed. The same keystrokes go to
llama.cpp's own ``llama-server`` (built from the installed llama-cpp-python's sources,
scripts/replay/llama_server_build.py) with a llama.vim-like client; the two are interleaved
target by target (alternating which goes first), so the paired ratios share the machine's load.

Sessions, in order: the embedded Gemma 3 270M: first a first-key probe per target (open, rest
``--wait-open`` s, type one key, wait for its answer: only the prefetch has seen the file), then the
human rate (both servers), at ``--slow-rate``
ms (700) on the first target of the first ``--slow-targets`` codebases (both servers), an accept pass at the human rate
(slm-lsp only: Tab on the first right suggestion, the item's command executed, the next answer
timed), and an accept probe per target (accept whatever is suggested at the cursor, time the
next suggestion); then the 1.3B-shaped random model (scripts/realistic_model.py; timing only): one target
at the human rate on both servers and the warm share of the prompt after 3 s and 30 s of rest
(each probe in another file, so only prefetch can have warmed it).

Run: python scripts/bench_replay.py --out /tmp/replay   (writes replay.md and replay.json there)
Options: --seed, --targets N per codebase, --rate human|MS, --skip-llama, --skip-realistic,
--typing-only (the embedded model's typing pass alone), --server-option KEY=VALUE (e.g. minConfidence=0).
Reports hold paths, line numbers and figures only, never code or suggestion text.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for entry in (ROOT, ROOT / "scripts"):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from bench_latency import cpu_pressure, loadavg, log
from replay import keys, llama_replay, llama_server_build, lsp_replay, scoring
from replay.targets import Target, make_workspace, pick_targets

N_CTX = 4096


def summarize(target: Target, run: lsp_replay.TargetRun, *, server: str, model: str, rate: str) -> dict[str, Any]:
    """Per-target figures (no code text)."""
    answers = run.answers
    shown = [a for a in answers if a.shown]
    latencies = [a.latency for a in shown if a.latency is not None]
    first_shown = min((a.arrived for a in shown if a.arrived is not None), default=None)
    after_first = [a for a in answers if first_shown is not None and a.sent >= first_shown]
    right = [a for a in shown if scoring.is_right(a.text, target.typed, a.keys)]
    first = answers[0] if answers else None
    row: dict[str, Any] = {
        "server": server, "model": model, "rate": rate, "codebase": target.codebase,
        "file": target.relpath, "line": target.line + 1, "chars": len(target.typed), "keys": run.keys,
        "requests": len(answers) + len(run.after_accept), "shown": len(shown), "right": len(right),
        "cancelled": sum(a.cancelled for a in answers), "errors": sorted({a.error for a in answers if a.error}),
        "last_key": _outcome(answers[-1]) if answers else None,
        "first_suggestion_s": None if first_shown is None else first_shown - run.opened,
        "first_key_latency_s": None if first is None or first.cancelled else first.latency,
        "first_key_cancelled": bool(first and first.cancelled),
        "last_key_latency_s": answers[-1].latency if answers and answers[-1].in_time else None,
        "shown_latencies_s": latencies,
        "items_with_command": sum(1 for a in answers + run.after_accept if a.command),
        "latency_p50_s": scoring.pct(latencies, 50), "latency_p95_s": scoring.pct(latencies, 95),
        "warm_latencies_s": [a.latency for a in shown if a is not first and a.latency is not None],
        "in_time_after_first": (sum(a.in_time for a in after_first) / len(after_first)) if after_first else None,
        "tab_saved": scoring.tab_saved(answers, target.typed),
        "accepted_chars": run.accepted_chars,
        "after_accept_latencies_s": [a.latency for a in run.after_accept if a.latency is not None and not a.cancelled],
    }
    if server == "slm-lsp":
        chain = lsp_replay.cached_chain(run.jobs)
        row["stall_chain"] = scoring.longest_stall(chain)
        row["cache_reported_by_server"] = bool(run.cache_reported)
        row["jobs"] = len(chain)
        row["stop_reasons"] = dict(Counter(str(job.get("stopReason")) for job in run.jobs))
    else:
        row["prompt_tokens"] = [j.get("prompt_tokens") for j in run.jobs]
    return row


def _outcome(answer: scoring.Answer) -> str:
    """What became of one request, in a word."""
    if answer.arrived is None:
        return "unanswered"
    if answer.cancelled or answer.error:
        return "cancelled" if answer.cancelled else "error"
    return "shown" if answer.shown else ("empty" if answer.in_time else "late")


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args, self.workdir = args, workdir
        self.workspace = workdir / "workspace"
        self.workspace.mkdir()
        self.sources = make_workspace(self.workspace)
        rng = random.Random(args.seed)
        self.targets = {src.codebase: pick_targets(src, text, rel, args.targets, rng) for src, rel, text in self.sources}
        self.rows: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.warm: dict[str, Any] = {}
        self.probes: dict[str, list[dict[str, Any]]] = {}  # "MODEL first key" / "MODEL after accept" → probes
        self.load: list[tuple[str, float, float | None]] = []
        self.total = 0
        self.done = 0

    def progress(self, what: str) -> None:
        self.done += 1
        log(f"[{self.done}/{self.total}] {what} (load {loadavg():.2f})")

    def times(self, target: Target, rate: str, salt: str) -> list[float]:
        rng = random.Random(f"{self.args.seed}:{target.relpath}:{target.line}:{rate}:{salt}")
        return keys.schedule(target.typed, keys.parse_rate(rate), rng)

    async def start_lsp(self, model: Path | None, name: str) -> Any:
        command = [sys.executable, "-m", "slm_lsp", "serve", "--log-level", "info"]
        if model is not None:
            command += ["--model", str(model)]
        log_file = (self.workdir / f"slm-lsp-{name}.log").open("wb")
        options = {"nCtx": N_CTX, "nThreads": self.args.threads, **dict(self.args.server_option)}
        return await lsp_replay.start_server(command, self.workspace, options, log_file)

    async def start_llama(self, model: Path, name: str) -> llama_replay.LlamaServer | None:
        if self.args.skip_llama:
            return None
        binary = llama_server_build.binary_path()
        deadline = time.monotonic() + self.args.llama_wait
        while not binary.exists() and time.monotonic() < deadline:  # a build started elsewhere
            await asyncio.sleep(2)
        if not binary.exists():
            log("llama-server is not built yet; building it now (scripts/replay/llama_server_build.py)")
            binary = await asyncio.to_thread(llama_server_build.build, log=log)
        server = llama_replay.LlamaServer(binary, model, threads=self.args.threads, n_ctx=N_CTX,
                                          log_file=(self.workdir / f"llama-server-{name}.log").open("wb"))
        await server.ready()
        if not server.fim:
            self.notes.append(f"{name}: the model has no FIM tokens, llama-server's /infill refuses it: "
                              "the llama.vim-like client used /completion with the prefix (slm-lsp is prefix-only for it too)")
        return server

    async def pair(self, lsp: Any, llama: llama_replay.LlamaServer | None, target: Target, rate: str, model: str,
                   order: int) -> None:
        times = self.times(target, rate, "type")
        uri = (self.workspace / target.relpath).as_uri()

        async def ours() -> None:
            run = await lsp_replay.replay(lsp, target, uri, times, wait_open=self.args.wait_open)
            self.rows.append(summarize(target, run, server="slm-lsp", model=model, rate=rate))

        async def theirs() -> None:
            if llama is None:
                return
            run = await llama_replay.replay(llama, target, times, wait_open=self.args.wait_open, n_predict=48)
            self.rows.append(summarize(target, run, server="llama-server", model=model, rate=rate))

        for step in ((ours, theirs) if order % 2 == 0 else (theirs, ours)):
            await step()
        self.progress(f"{model} {rate} {target.relpath}:{target.line + 1} ({len(target.typed)} keys)")

    async def accept_pass(self, lsp: Any, target: Target, model: str) -> None:
        times = self.times(target, self.args.rate, "accept")
        uri = (self.workspace / target.relpath).as_uri()
        run = await lsp_replay.replay(lsp, target, uri, times, wait_open=self.args.wait_open, accept=True)
        row = summarize(target, run, server="slm-lsp", model=model, rate=f"{self.args.rate} + accept")
        row["pass"] = "accept"
        self.rows.append(row)
        self.progress(f"{model} accept pass {target.relpath}:{target.line + 1}")

    async def first_key(self, lsp: Any, target: Target, model: str) -> None:
        """Open, rest, type one key and wait: the first key's suggestion (run before any other
        pass on the target, so only the prefetch can have warmed the cache)."""
        uri = (self.workspace / target.relpath).as_uri()
        probe, warm = await lsp_replay.first_key_probe(lsp, target, uri, wait_open=self.args.wait_open)
        self.probes.setdefault(f"{model} first key", []).append(vars(probe) | {"file": target.relpath})
        if warm is not None:
            self.probes.setdefault(f"{model} warm key", []).append(vars(warm) | {"file": target.relpath})
        else:
            self.notes.append(f"{model} first-key probe {target.relpath}:{target.line + 1}: no later key ran the model")
        self.progress(f"{model} first-key probe {target.relpath}:{target.line + 1}")

    async def accept_probe(self, lsp: Any, target: Target, model: str) -> None:
        """Accept whatever is suggested at the cursor and time the next suggestion."""
        uri = (self.workspace / target.relpath).as_uri()
        pair = await lsp_replay.accept_probe(lsp, target, uri, wait_open=self.args.wait_open)
        if pair is None:
            self.notes.append(f"{model} accept probe {target.relpath}:{target.line + 1}: nothing suggested to accept")
        else:
            self.probes.setdefault(f"{model} after accept", []).append(vars(pair[1]) | {"file": target.relpath})
        self.progress(f"{model} accept probe {target.relpath}:{target.line + 1}")

    async def warm_probe(self, lsp: Any, target: Target, wait: float, model: str) -> None:
        """Open, rest ``wait`` s, ask once at the cursor: how much of the prompt was cached."""
        uri = (self.workspace / target.relpath).as_uri()
        doc = lsp_replay.Document(lsp, uri, target.document, target.language)
        await asyncio.sleep(0.3)
        lsp.notify("slm/prefetch", {"textDocument": {"uri": uri}, "position": doc.position(target.offset)})
        await asyncio.sleep(max(0.0, wait - 0.3))
        # What the rest warmed, read before asking: the request itself keeps the prefetch going
        # (it extends it), so the tokens it reuses say nothing about the moment the user typed.
        at_rest = ((await lsp.status()).get("cache") or {}).get("warmTokens")
        started = time.perf_counter()
        await lsp.call("textDocument/inlineCompletion", {"textDocument": {"uri": uri}, "position": doc.position(target.offset),
                                                          "context": {"triggerKind": 2}})
        latency = time.perf_counter() - started
        last = (await lsp.status()).get("last") or {}
        lsp.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        prompt = last.get("prompt_tokens") or 0
        warm = min(at_rest, prompt) if isinstance(at_rest, int) else None
        self.warm[f"{model} after {wait:g} s"] = {
            "latency_s": latency, "prompt_tokens": prompt, "warm_tokens_at_rest": warm,
            "reused_tokens": last.get("reused_tokens"), "warm_share": warm / prompt if prompt and warm is not None else None}
        self.progress(f"{model} warm probe after {wait:g} s")

    async def session(self, model_path: Path | None, model: str, llama_model: Path, plan: list[tuple[str, Any]]) -> None:
        lsp = await self.start_lsp(model_path, model)
        llama = None
        try:
            llama = await self.start_llama(llama_model, model)
            for order, (kind, item) in enumerate(plan):
                self.load.append((f"{model} {kind}", loadavg(), cpu_pressure()))
                try:
                    if kind == "warm":
                        await self.warm_probe(lsp, item[0], item[1], model)
                    elif kind == "first":
                        await self.first_key(lsp, item, model)
                    elif kind == "accept-probe":
                        await self.accept_probe(lsp, item, model)
                    elif kind == "accept":
                        await self.accept_pass(lsp, item, model)
                    else:
                        await self.pair(lsp, llama, item, kind, model, order)
                except Exception:  # noqa: BLE001 - report it, keep the other figures
                    self.notes.append(f"{model} {kind}: {traceback.format_exc().strip().splitlines()[-1]}")
                    log(traceback.format_exc())
        finally:
            if llama is not None:
                llama.close()
            await lsp.close()

    def plans(self) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
        args = self.args
        every = [t for ts in self.targets.values() for t in ts]
        firsts = [ts[0] for ts in self.targets.values() if ts]
        if args.skip_embedded:
            every, firsts_embedded = [], []
        else:
            firsts_embedded = firsts
        if args.typing_only:
            return [(args.rate, t) for t in every], []
        embedded = [("first", t) for t in every]  # first: nothing but the prefetch has seen these targets
        embedded += [(args.rate, t) for t in every] + [(args.slow_rate, t) for t in firsts_embedded[: args.slow_targets]]
        embedded += [("accept", t) for t in every] + [("accept-probe", t) for t in every]
        realistic = [] if args.skip_realistic or not firsts else [
            (args.rate, firsts[0]), ("warm", (firsts[1 % len(firsts)], 3.0)), ("warm", (firsts[2 % len(firsts)], 30.0))]
        return embedded, realistic

    async def run(self) -> None:
        from slm_lsp.models.source import ensure_embedded_model

        embedded_plan, realistic_plan = self.plans()
        self.total = len(embedded_plan) + len(realistic_plan)
        if embedded_plan:
            await self.session(None, "gemma-3-270m", ensure_embedded_model(), embedded_plan)
        if realistic_plan:
            import realistic_model

            path, _ = await asyncio.to_thread(realistic_model.ensure_model, log=log)
            await self.session(path, "1.3B-shape", path, realistic_plan)


# --------------------------------------------------------------------------- report


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "–" if a is None or not b else f"{a / b:.2f}×"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f} %"


def render(bench: Bench, wall: float) -> tuple[str, dict[str, Any]]:
    rows = bench.rows
    out = ["# Replay benchmark", "",
           (f"Seed {bench.args.seed}, {bench.args.targets} target(s) per codebase, key rate {bench.args.rate}"
           f"{''.join(f', {k}={v}' for k, v in bench.args.server_option)} "
           f"(slow pass {bench.args.slow_rate} ms), {bench.args.wait_open:g} s rest after opening, "
           f"{bench.args.threads} threads, n_ctx {N_CTX}, wall {wall / 60:.1f} min. Other work ran on this "
           f"2-core machine: load average per step {', '.join(f'{x[1]:.1f}' for x in bench.load)}; timings are noisy, "
           "ratios come from runs interleaved target by target."), "",
           ("| server | model | rate | file:line | chars | keys | req | shown | right | cancelled | open→first (s) | "
            "first key (s) | last key | p50 (s) | p95 (s) | in time after first | stall chain | Tab saved |"),
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        first_key = "cancelled" if r["first_key_cancelled"] else _s(r["first_key_latency_s"])
        stall = r.get("stall_chain", "–") if r["server"] == "slm-lsp" else "–"
        out.append(f"| {r['server']} | {r['model']} | {r['rate']} | {r['file']}:{r['line']} | {r['chars']} | {r['keys']} | "
                   f"{r['requests']} | {r['shown']} | {r['right']} | {r['cancelled']} | {_s(r['first_suggestion_s'])} | "
                   f"{first_key} | {r['last_key']} | {_s(r['latency_p50_s'])} | {_s(r['latency_p95_s'])} | {_share(r['in_time_after_first'])} | "
                   f"{'n/a' if stall is None else stall} | {r['tab_saved']} |")
    summary: dict[str, Any] = {}
    out += ["", "## Targets", "", "| | measured | target |", "| --- | --- | --- |"]
    args = bench.args

    def pick(server: str, model: str, rate: str) -> list[dict[str, Any]]:
        return [r for r in rows if r["server"] == server and r["model"] == model and r["rate"] == rate]

    gemma = "gemma-3-270m"
    ours_h = pick("slm-lsp", gemma, args.rate)
    # Two warm figures. While typing, most shown answers are the typed-ahead rest of an earlier
    # suggestion (no model call, ~10 ms), so their p50 says nothing of the model's speed; the
    # targets compare with a warm model run: the first-key probe's later key that ran the model.
    warm = [x for r in ours_h for x in r["warm_latencies_s"]]
    summary["typing_shown_p50_s"] = scoring.pct(warm, 50)
    warm_keys = [p["latency_s"] for p in bench.probes.get(f"{gemma} warm key", []) if p["latency_s"] is not None]
    warm_p50 = scoring.pct(warm_keys, 50)
    summary["warm_p50_s"] = warm_p50
    out.append(f"| warm p50, embedded: a key that runs the model on a warm cache (first-key probes, later key) | "
               f"{_s(warm_p50)} s (n={len(warm_keys)}); shown while typing on: p50 {_s(summary['typing_shown_p50_s'])} s "
               f"over {len(warm)} | denominator |")
    slow = pick("slm-lsp", gemma, args.slow_rate)
    in_time = [r["in_time_after_first"] for r in slow if r["in_time_after_first"] is not None]
    stalls = [r["stall_chain"] for r in slow if r.get("stall_chain") is not None]
    summary["slow_in_time_min"] = min(in_time) if in_time else None
    summary["slow_stall_max"] = max(stalls) if stalls else None
    out.append(f"| {args.slow_rate} ms/key, embedded: keys answered before the next key, after the first suggestion "
               f"(min over targets) | {_share(summary['slow_in_time_min'])} "
               f"({sum(r['shown'] for r in slow)} shown of {sum(r['requests'] for r in slow)} requests) | ≥ 80 % |")
    reported = any(r.get("cache_reported_by_server") for r in rows)
    out.append(f"| {args.slow_rate} ms/key: longest chain of cancelled jobs without the cached prompt growing | "
               f"{'–' if summary['slow_stall_max'] is None else summary['slow_stall_max']} "
               f"({'server reports its cache size' if reported else 'the server does not report its cache size in slm/status yet; derived from each job’s reused + evaluated tokens in slm/status “last”'}) | ≤ 2 |")
    first_probes = bench.probes.get(f"{gemma} first key", [])
    firsts = [p["latency_s"] for p in first_probes if p["latency_s"] is not None]
    summary["first_key_p50_s"] = scoring.pct(firsts, 50)
    warm_shares = [p["reused_tokens"] / p["prompt_tokens"] for p in first_probes
                   if p.get("prompt_tokens") and p.get("reused_tokens") is not None]
    cancelled_first = sum(r["first_key_cancelled"] for r in ours_h)
    out.append(f"| open, wait {args.wait_open:g} s, type one key and wait: its latency / warm p50 (embedded) | "
               f"{_ratio(summary['first_key_p50_s'], warm_p50)} ({_s(summary['first_key_p50_s'])} s / {_s(warm_p50)} s; "
               f"n={len(firsts)}, {sum(p['shown'] for p in first_probes)} with text, prompt cached at the key p50 "
               f"{_share(scoring.pct(warm_shares, 50))}; while typing on, {cancelled_first} of {len(ours_h)} first keys "
               "were cancelled by the second) | ≤ 1.5× |")
    for model in (gemma, "1.3B-shape"):
        ours, theirs = pick("slm-lsp", model, args.rate), pick("llama-server", model, args.rate)
        if not theirs:
            continue
        lat_o = scoring.pct([x for r in ours for x in r["shown_latencies_s"]], 50)
        lat_t = scoring.pct([x for r in theirs for x in r["shown_latencies_s"]], 50)
        pairs = []
        for r in ours:
            mate = next((t for t in theirs if t["file"] == r["file"] and t["line"] == r["line"]), None)
            if mate and r["latency_p50_s"] and mate["latency_p50_s"]:
                pairs.append(r["latency_p50_s"] / mate["latency_p50_s"])
        shown_o, shown_t = sum(r["shown"] for r in ours), sum(r["shown"] for r in theirs)
        summary[f"vs_llama_{model}"] = {"p50_ours_s": lat_o, "p50_llama_s": lat_t, "paired_ratios": pairs,
                                        "shown_ours": shown_o, "shown_llama": shown_t}
        out.append(f"| vs llama-server ({model}, {args.rate}): latency p50 of shown suggestions | "
                   f"{_ratio(lat_o, lat_t)} pooled ({_s(lat_o)} s vs {_s(lat_t)} s); per-target median "
                   f"{_ratio(scoring.pct(pairs, 50), 1.0)} over {len(pairs)} pairs | ≤ 0.5× |")
        out.append(f"| vs llama-server ({model}, {args.rate}): suggestions shown | {shown_o} vs {shown_t} | ≥ |")
        if model != gemma:  # random weights: the text means nothing, the time to answer does
            last_o = scoring.pct([r["last_key_latency_s"] for r in ours if r["last_key_latency_s"] is not None], 50)
            last_t = scoring.pct([r["last_key_latency_s"] for r in theirs if r["last_key_latency_s"] is not None], 50)
            summary[f"vs_llama_{model}"] |= {"last_key_ours_s": last_o, "last_key_llama_s": last_t}
            out.append(f"| vs llama-server ({model}, {args.rate}): the last key's answer, shown or empty (random weights: "
                       f"post-processing empties most of their text) | {_ratio(last_o, last_t)} ({_s(last_o)} s vs {_s(last_t)} s) | |")
        slow_t = pick("llama-server", model, args.slow_rate)
        if slow_t:
            slow_o = pick("slm-lsp", model, args.slow_rate)
            out.append(f"| vs llama-server ({model}, {args.slow_rate} ms): shown; p50 | "
                       f"{sum(r['shown'] for r in slow_o)} vs {sum(r['shown'] for r in slow_t)}; "
                       f"{_s(scoring.pct([x for r in slow_o for x in r['shown_latencies_s']], 50))} s vs "
                       f"{_s(scoring.pct([x for r in slow_t for x in r['shown_latencies_s']], 50))} s | |")
    accepts = [r for r in rows if r.get("pass") == "accept" and r["model"] == gemma]
    accept_probes = bench.probes.get(f"{gemma} after accept", [])
    after = [x for r in accepts for x in r["after_accept_latencies_s"]]
    after += [p["latency_s"] for p in accept_probes if p["latency_s"] is not None]
    summary["after_accept_p50_s"] = scoring.pct(after, 50)
    with_command = sum(r["items_with_command"] for r in accepts)
    commands = (f"{with_command} items carried a command, executed on accept" if with_command
                else "items carry no command yet: nothing told the server about the accept")
    out.append(f"| suggestion right after an accept: p50 / warm p50 | {_ratio(summary['after_accept_p50_s'], warm_p50)} "
               f"({_s(summary['after_accept_p50_s'])} s, n={len(after)}: {len(accept_probes)} probes that accept whatever "
               f"is suggested, the rest from typing; {sum(r['accepted_chars'] for r in accepts)} chars accepted while "
               f"typing; {commands}) | ≤ 0.3× |")
    for key, probe in bench.warm.items():
        out.append(f"| {key} of rest: share of the prompt already cached when the user asks | {_share(probe['warm_share'])} "
                   f"({probe['warm_tokens_at_rest']} of {probe['prompt_tokens']} tokens; answer in {_s(probe['latency_s'])} s) | report |")
    out += ["", "## Usefulness per codebase (embedded model, human rate, slm-lsp)", "",
            "| codebase | targets | chars | shown | right share of shown | Tab-saved share of chars |", "| --- | --- | --- | --- | --- | --- |"]
    per: dict[str, Any] = {}
    for r in ours_h:
        acc = per.setdefault(r["codebase"], {"targets": 0, "chars": 0, "shown": 0, "right": 0, "saved": 0})
        acc["targets"] += 1
        acc["chars"] += r["chars"]
        acc["shown"] += r["shown"]
        acc["right"] += r["right"]
        acc["saved"] += r["tab_saved"]
    for name, acc in per.items():
        out.append(f"| {name} | {acc['targets']} | {acc['chars']} | {acc['shown']} | "
                   f"{_share(acc['right'] / acc['shown'] if acc['shown'] else None)} | {_share(acc['saved'] / acc['chars'])} |")
    summary["per_codebase"] = per
    if bench.notes:
        out += ["", "## Notes", "", *(f"- {n}" for n in bench.notes)]
    return "\n".join(out) + "\n", {"args": vars(args) | {"out": str(args.out)}, "rows": rows, "summary": summary,
                                   "warm_probes": bench.warm, "probes": bench.probes, "notes": bench.notes, "load": bench.load, "wall_s": wall}


def _server_option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError("expects KEY=VALUE, e.g. minConfidence=0")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--targets", type=int, default=1, help="lines per codebase (default 1)")
    parser.add_argument("--slow-targets", type=int, default=2, help="codebases in the slow pass (default 2)")
    parser.add_argument("--rate", default="human", help="'human' (100-250 ms, pauses at word ends) or ms per key")
    parser.add_argument("--slow-rate", default="700", help="fixed ms per key for the slow pass (default 700)")
    parser.add_argument("--wait-open", type=float, default=3.0, help="seconds of rest between opening and typing")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--skip-llama", action="store_true", help="no llama-server comparison")
    parser.add_argument("--llama-wait", type=float, default=0.0,
                        help="seconds to wait for a llama-server build already running before building it")
    parser.add_argument("--skip-embedded", action="store_true", help="no embedded-model session")
    parser.add_argument("--skip-realistic", action="store_true", help="no 1.3B-shaped model session")
    parser.add_argument("--typing-only", action="store_true",
                        help="only the embedded model at --rate: no probes, slow, accept or 1.3B passes, no llama-server")
    parser.add_argument("--server-option", type=_server_option, action="append", default=[], metavar="KEY=VALUE",
                        help="an initializationOptions entry for slm-lsp, repeatable (e.g. minConfidence=0); VALUE is JSON or a string")
    parser.add_argument("--out", type=Path, help="directory for replay.md and replay.json")
    args = parser.parse_args(argv)
    if args.typing_only:
        args.skip_llama = args.skip_realistic = True
    for rate in (args.rate, args.slow_rate):
        keys.parse_rate(rate)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="slm-replay-") as temp:
        bench = Bench(args, Path(temp))
        asyncio.run(bench.run())
        text, record = render(bench, time.perf_counter() - started)
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "replay.md").write_text(text)
        (args.out / "replay.json").write_text(json.dumps(record, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
