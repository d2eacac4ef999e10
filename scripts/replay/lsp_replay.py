"""Retype one target through the real slm-lsp server the way VS Code drives it.

Per key: an incremental ``didChange``, ``$/cancelRequest`` for the inline request still in flight,
and a new ``textDocument/inlineCompletion`` (VS Code's order). On cursor rest (no key for the
debounce interval, and once after the file is opened) an ``slm/prefetch`` notification, as the
extension sends it; a server that does not know it ignores it. In accept mode the user presses
Tab on the first right suggestion shown: the suggestion is inserted, the item's ``command`` (if
the server sent one) is executed, and the request VS Code makes at the new cursor is timed as
the "after accept" answer. The key times are fixed before typing starts; nothing waits for an
answer. ``slm/status`` is read without waiting after each key to follow the cached prompt.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_latency import Document, LspClient

from replay.scoring import Answer, accepted_length, is_right
from replay.targets import Target


@dataclass
class TargetRun:
    """Everything the client saw while retyping one target."""

    opened: float
    started: float
    answers: list[Answer] = field(default_factory=list)
    after_accept: list[Answer] = field(default_factory=list)
    accepted_chars: int = 0
    keys: int = 0
    jobs: list[dict[str, Any]] = field(default_factory=list)  # distinct slm/status "last" values, in order
    cache_reported: list[int] = field(default_factory=list)  # server-reported cache sizes, if any


def cache_size(status: dict[str, Any]) -> int | None:
    """The cached prompt length, if this server reports it in slm/status."""
    for key in ("cache", "kvCache", "promptCache"):
        value = status.get(key)
        if isinstance(value, dict):
            for name in ("tokens", "cachedTokens", "size"):
                if isinstance(value.get(name), int):
                    return value[name]
    return None


def _on_answer(answer: Answer) -> Any:
    def done(arrived: float, message: dict[str, Any]) -> None:
        answer.arrived = arrived
        if "error" in message:
            answer.cancelled = message["error"].get("code") == -32800
            answer.error = None if answer.cancelled else str(message["error"].get("message", ""))[:200]
            return
        result = message.get("result") or {}
        items = result.get("items") if isinstance(result, dict) else result
        if items:
            insert = items[0].get("insertText")
            answer.text = insert if isinstance(insert, str) else str((insert or {}).get("value", ""))
            answer.command = items[0].get("command")
    return done


async def replay(client: LspClient, target: Target, uri: str, times: list[float], *,
                 wait_open: float, debounce: float = 0.3, accept: bool = False, final_wait: float = 120.0) -> TargetRun:
    """Open the document with the target cut out, wait ``wait_open`` s, then type it at ``times``."""
    doc = Document(client, uri, target.document, target.language)
    run = TargetRun(opened=time.perf_counter(), started=0.0)
    run.started = run.opened + wait_open

    def status_seen(arrived: float, message: dict[str, Any]) -> None:
        status = message.get("result") or {}
        last = status.get("last") or {}
        if last and (not run.jobs or run.jobs[-1] != last):
            run.jobs.append(last)
        size = cache_size(status)
        if size is not None:
            run.cache_reported.append(size)

    def prefetch(offset: int) -> None:
        client.notify("slm/prefetch", {"textDocument": {"uri": uri}, "position": doc.position(offset)})

    await asyncio.sleep(min(debounce, wait_open))
    prefetch(target.offset)  # the editor became active with the cursor here
    await _sleep_until(run.started)
    position, previous, event = 0, None, 0
    while position < len(target.typed) and event < len(times):
        await _sleep_until(run.started + times[event])
        now = time.perf_counter()
        if previous is not None and previous.next_key is None:
            previous.next_key = now
        chosen = previous if accept and previous is not None and previous.shown else None
        if chosen is not None and is_right(chosen.text, target.typed, position):
            take = accepted_length(chosen.text, target.typed, position)
            doc.insert(target.offset + position, target.typed[position : position + take])
            if isinstance(chosen.command, dict) and chosen.command.get("command"):
                client.request("workspace/executeCommand",
                               {"command": chosen.command["command"], "arguments": chosen.command.get("arguments") or []})
            position += take
            run.accepted_chars += take
            bucket = run.after_accept
        else:
            doc.insert(target.offset + position, target.typed[position])
            position += 1
            run.keys += 1
            bucket = run.answers
        if previous is not None and previous.arrived is None:
            client.cancel(previous.request_id)
        answer = Answer(keys=position, sent=0.0)
        pending = doc.complete(target.offset + position, _on_answer(answer))
        answer.sent = pending.t_sent
        answer.request_id = pending.id
        bucket.append(answer)
        client.request("slm/status", None, status_seen)
        previous = answer
        event += 1
        following = run.started + times[event] if event < len(times) else None
        if following is None or following - time.perf_counter() > debounce:
            asyncio.get_running_loop().call_later(debounce, _rest, previous, prefetch, target.offset + position)
    deadline = time.perf_counter() + final_wait
    while previous is not None and previous.arrived is None and time.perf_counter() < deadline:
        await asyncio.sleep(0.02)
    await client.call("slm/status", None)  # everything before it has been handled
    seen = await client.call("slm/status", None)
    status_seen(time.perf_counter(), seen)
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    return run


def _rest(answer: Answer, prefetch: Any, offset: int) -> None:
    """The cursor rested after ``answer``'s key: prefetch unless another key came meanwhile."""
    if answer.next_key is None:
        prefetch(offset)


async def _sleep_until(moment: float) -> None:
    delay = moment - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


def cached_chain(jobs: list[dict[str, Any]]) -> list[tuple[bool, int | None]]:
    """(cancelled, tokens left in the cache) per job, from the jobs' own timings: a cancelled job
    reports what it kept as reused + evaluated tokens."""
    chain = []
    for job in jobs:
        if job.get("stopReason") in ("cache", "typed-ahead"):
            continue  # no model work: says nothing about the cache
        reused, evaluated = job.get("reused_tokens"), job.get("evaluated_tokens")
        tokens = reused + evaluated if isinstance(reused, int) and isinstance(evaluated, int) else None
        chain.append((job.get("stopReason") == "cancelled", tokens))
    return chain


async def start_server(command: list[str], workspace: Path, options: dict[str, Any], log_file: Any) -> LspClient:
    """Start ``slm-lsp serve`` and wait until its model is loaded."""
    client = await LspClient.start(command, log_file, workspace)
    await client.call("initialize", {
        "processId": None, "rootUri": workspace.as_uri(),
        "capabilities": {"textDocument": {"inlineCompletion": {}}, "general": {"positionEncodings": ["utf-16"]}},
        "initializationOptions": options,
    })
    client.notify("initialized", {})
    while (status := await client.status()).get("state") not in ("ready", "failed"):
        await asyncio.sleep(0.1)
    if status.get("state") != "ready":
        raise RuntimeError(f"the server could not load the model: {status.get('error')}")
    return client


@dataclass
class Probe:
    """One timed question in a probe: latency, whether it had text, and the cache it met."""

    latency_s: float | None
    shown: bool
    prompt_tokens: int | None = None
    reused_tokens: int | None = None
    stop_reason: str | None = None

    @property
    def model_run(self) -> bool:
        """Whether the model was run for it (not the rest of an earlier suggestion, not a cache hit)."""
        return self.stop_reason not in (None, "cache", "typed-ahead")


async def _ask(client: LspClient, doc: Document, offset: int) -> tuple[float, dict[str, Any]]:
    """One inline request, waited for (a probe's user pauses after its key)."""
    answer = Answer(keys=0, sent=0.0)
    done = asyncio.Event()
    handler = _on_answer(answer)

    def arrived(at: float, message: dict[str, Any]) -> None:
        handler(at, message)
        done.set()

    pending = doc.complete(offset, arrived)
    answer.sent = pending.t_sent
    await asyncio.wait_for(done.wait(), timeout=120)
    return answer.latency or 0.0, {"text": answer.text, "command": answer.command}


async def _settled_status(client: LspClient) -> dict[str, Any]:
    """slm/status once the answered job's figures are in (they land just after the answer)."""
    await client.call("slm/status", None)
    return await client.status()


def _probe(latency: float, text: str, status: dict[str, Any]) -> Probe:
    last = status.get("last") or {}
    return Probe(latency_s=latency, shown=bool(text.strip()), prompt_tokens=last.get("prompt_tokens"),
                 reused_tokens=last.get("reused_tokens"), stop_reason=last.get("stopReason"))


async def first_key_probe(client: LspClient, target: Target, uri: str, *, wait_open: float,
                          debounce: float = 0.3, think: float = 0.3, warm_keys: int = 6) -> tuple[Probe, Probe | None]:
    """Open the file, rest ``wait_open`` s (the editor's prefetch at the cursor after
    ``debounce``), type the first key of the target and wait for its answer: the first key's
    suggestion a user who starts typing after reading sees. Then type on, one key every
    ``think`` s after each answer, until a key makes the model run again (a key that continues
    the shown suggestion is answered from memory): that answer is the warm latency the first
    key is compared with — a model run after a one-key edit, on the same file and machine.
    Returns (the first key, the warm key or None when no key within ``warm_keys`` ran the model)."""
    doc = Document(client, uri, target.document, target.language)
    await asyncio.sleep(min(debounce, wait_open))
    client.notify("slm/prefetch", {"textDocument": {"uri": uri}, "position": doc.position(target.offset)})
    await asyncio.sleep(max(0.0, wait_open - debounce))
    doc.insert(target.offset, target.typed[0])
    latency, seen = await _ask(client, doc, target.offset + 1)
    first = _probe(latency, seen["text"], await _settled_status(client))
    warm = None
    for position in range(1, min(len(target.typed), warm_keys + 1)):
        await asyncio.sleep(think)
        doc.insert(target.offset + position, target.typed[position])
        latency, seen = await _ask(client, doc, target.offset + position + 1)
        probe = _probe(latency, seen["text"], await _settled_status(client))
        if probe.model_run:
            warm = probe
            break
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    return first, warm


async def accept_probe(client: LspClient, target: Target, uri: str, *, wait_open: float,
                       think: float = 0.3) -> tuple[Probe, Probe] | None:
    """Ask at the cursor, accept whatever is suggested (Tab: insert it, run the item's
    command), look at it for ``think`` s, then ask at the new cursor. Returns (the accepted
    answer, the answer after the accept), or None when nothing was suggested to accept."""
    doc = Document(client, uri, target.document, target.language)
    client.notify("slm/prefetch", {"textDocument": {"uri": uri}, "position": doc.position(target.offset)})
    await asyncio.sleep(wait_open)
    latency, seen = await _ask(client, doc, target.offset)
    first = _probe(latency, seen["text"], await _settled_status(client))
    if not first.shown:
        client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        return None
    doc.insert(target.offset, seen["text"])
    command = seen["command"]
    if isinstance(command, dict) and command.get("command"):
        client.request("workspace/executeCommand",
                       {"command": command["command"], "arguments": command.get("arguments") or []})
    await asyncio.sleep(think)
    latency, after = await _ask(client, doc, target.offset + len(seen["text"]))
    second = _probe(latency, after["text"], await _settled_status(client))
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    return first, second
