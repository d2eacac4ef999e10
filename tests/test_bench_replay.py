"""The replay benchmark's pieces (scripts/bench_replay.py, scripts/replay/): functional, not timed.

Target choice is a function of the seed; the key schedule is fixed before typing and the client
never waits for an answer (checked against a server that never answers); cancels follow VS Code's
order; the right/Tab-saved scoring is checked on hand-made cases; a short real run on a tiny model
goes through the real server; no code text or secret reaches the report.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import bench_replay
from replay import keys, llama_replay, lsp_replay, scoring
from replay.scoring import Answer
from replay.targets import SOURCES, Source, Target, make_workspace, pick_targets

from tests.hardening.wire import UNTIMED, greedy_model
from tests.tiny_models import tiny_model_path

CANARY = "AKIAZ7CANARY4KEYQ2XW"
SAMPLE = textwrap.dedent(f"""\
    import os


    def load(path):
        with open(path) as handle:
            data = handle.read()
        key = "{CANARY}"
        values = [line.split('=') for line in data.splitlines()]
        return dict(values)


    def save(path, values):
        lines = [f"{{k}}={{v}}" for k, v in values.items()]
        with open(path, "w") as handle:
            handle.write("\\n".join(lines))
    """)
SOURCE = Source("sample", "spaces, untyped", "python", ())


# --------------------------------------------------------------------------- targets


def test_target_choice_is_a_function_of_the_seed() -> None:
    first = pick_targets(SOURCE, SAMPLE, "s/x.py", 3, random.Random(7))
    again = pick_targets(SOURCE, SAMPLE, "s/x.py", 3, random.Random(7))
    assert [(t.line, t.typed) for t in first] == [(t.line, t.typed) for t in again]
    seeds = {tuple(t.line for t in pick_targets(SOURCE, SAMPLE, "s/x.py", 2, random.Random(s))) for s in range(20)}
    assert len(seeds) > 1  # the seed does choose


def test_a_target_is_the_rest_of_its_line_cut_from_the_document() -> None:
    for target in pick_targets(SOURCE, SAMPLE, "s/x.py", 10, random.Random(0)):
        line = SAMPLE.splitlines()[target.line]
        assert line.strip() == target.typed
        assert target.document[: target.offset] + target.typed + target.document[target.offset :] == SAMPLE
        assert target.document.splitlines()[target.line].strip() == ""


def test_docstrings_and_block_comments_are_never_targets() -> None:
    text = 'def f(x):\n    """Say what.\n\n    >>> f(1) + f(2) + f(3)\n    """\n    return x + 1 + 2\n' \
           "function g() {\n  /* a long comment line\n     more of the comment */\n  return value + 1;\n}\n"
    typed = {t.typed for t in pick_targets(SOURCE, text, "s/x.py", 50, random.Random(0))}
    assert typed == {"return x + 1 + 2", "return value + 1;"}


def test_lines_with_secrets_are_never_targets() -> None:
    picked = pick_targets(SOURCE, SAMPLE, "s/x.py", 100, random.Random(0))
    assert picked and all(CANARY not in t.typed for t in picked)


def test_workspace_has_four_styles_in_git_repositories(tmp_path: Path) -> None:
    found = make_workspace(tmp_path)
    assert {s.codebase for s, _, _ in found} >= {"pathspec", "packaging", "six"}
    assert len(found) == 4 and found[-1][0].language == "javascript"
    for source, rel, text in found:
        assert (tmp_path / source.codebase / ".git").is_dir()
        assert (tmp_path / rel).read_text() == text
    tabs = next(text for s, _, text in found if s.codebase == "pathspec")
    assert "\n\t" in tabs
    assert any(s.language == "javascript" for s in SOURCES)


# --------------------------------------------------------------------------- key schedule


def test_human_schedule_is_seeded_within_its_bounds_and_pauses_at_word_ends() -> None:
    text = "for pattern in patterns:"
    times = keys.schedule(text, "human", random.Random(1))
    assert times == keys.schedule(text, "human", random.Random(1))
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert times[0] == 0 and len(times) == len(text)
    assert all(0.1 <= g <= 0.25 + 0.6 for g in gaps)
    after_space = [g for i, g in enumerate(gaps, 1) if text[i - 1] == " "]
    inside = [g for i, g in enumerate(gaps, 1) if text[i - 1] not in keys.WORD_END and text[i] not in keys.WORD_END]
    assert min(after_space) > 0.25 >= max(inside)


def test_fixed_rates_and_prefetch_on_rest() -> None:
    assert keys.schedule("abc", keys.parse_rate("700"), random.Random(0)) == pytest.approx([0, 0.7, 1.4])
    assert keys.prefetch_times([0, 0.1, 0.6, 0.7]) == [(2, pytest.approx(0.4)), (4, pytest.approx(1.0))]
    with pytest.raises(ValueError):
        keys.parse_rate("0")


class Recorder(lsp_replay.LspClient):
    """An LspClient that remembers what it sent, in order."""

    sent: list[dict]

    def _send(self, message: dict) -> None:  # type: ignore[override]
        self.__dict__.setdefault("sent", []).append(message)
        super()._send(message)


SILENT_SERVER = textwrap.dedent("""\
    import json, sys
    out = sys.stdout.buffer
    def send(m):
        body = json.dumps(m).encode()
        out.write(b"Content-Length: %d\\r\\n\\r\\n" % len(body) + body); out.flush()
    while True:
        length = 0
        while (line := sys.stdin.buffer.readline()) not in (b"\\r\\n", b""):
            if line.lower().startswith(b"content-length"):
                length = int(line.split(b":")[1])
        if not length:
            break
        m = json.loads(sys.stdin.buffer.read(length))
        if m.get("method") == "$/cancelRequest":
            send({"jsonrpc": "2.0", "id": m["params"]["id"], "error": {"code": -32800, "message": "cancelled"}})
        elif m.get("method") in ("initialize", "slm/status", "shutdown"):
            send({"jsonrpc": "2.0", "id": m["id"], "result": {"state": "ready", "last": {}}})
        # textDocument/inlineCompletion: never answered
    """)


def test_keys_never_wait_for_answers_and_cancels_follow_vscode(tmp_path: Path) -> None:
    target = Target("sample", "python", "x.py", 5, SAMPLE.index("data = "), "data = handle.read()", SAMPLE)

    async def drive() -> tuple[lsp_replay.TargetRun, list[dict]]:
        process = await asyncio.create_subprocess_exec(sys.executable, "-c", SILENT_SERVER,
                                                       stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        client = Recorder(process)
        times = keys.schedule(target.typed, 20.0, random.Random(0))
        run = await lsp_replay.replay(client, target, (tmp_path / "x.py").as_uri(), times, wait_open=0.05, final_wait=0.2)
        process.kill()
        await process.wait()
        return run, client.sent

    run, sent = asyncio.run(drive())
    assert run.keys == len(target.typed) == len(run.answers)  # every key typed though nothing was answered
    methods = [m.get("method") for m in sent if m.get("method") != "slm/status"]
    assert methods[0] == "textDocument/didOpen" and methods[1] == "slm/prefetch"
    typing = [m for m in methods[2:] if m not in ("slm/prefetch", "textDocument/didClose")]
    completions = [m for m in sent if m.get("method") == "textDocument/inlineCompletion"]
    cancels = [m["params"]["id"] for m in sent if m.get("method") == "$/cancelRequest"]
    assert typing[:3] == ["textDocument/didChange", "textDocument/inlineCompletion", "textDocument/didChange"]
    assert typing[3:6] == ["$/cancelRequest", "textDocument/inlineCompletion", "textDocument/didChange"]
    assert cancels == [m["id"] for m in completions[:-1]]  # each superseded request, once, in order
    assert all(a.cancelled for a in run.answers[:-1]) and not any(a.shown for a in run.answers)
    positions = [m["params"]["position"]["character"] for m in completions]
    indent = len(SAMPLE.splitlines()[5]) - len(SAMPLE.splitlines()[5].lstrip())
    assert positions == list(range(indent + 1, indent + 1 + len(target.typed)))


# --------------------------------------------------------------------------- scoring


def _answer(keys_typed: int, text: str, *, late: bool = False) -> Answer:
    return Answer(keys=keys_typed, sent=0.0, arrived=1.0, text=text, next_key=0.5 if late else 2.0)


def test_right_means_prefix_of_what_comes_or_the_rest_of_the_line() -> None:
    typed = "return dict(values)"
    assert scoring.is_right("dict(", typed, 7)
    assert scoring.is_right("dict(values)", typed, 7)
    assert scoring.is_right("dict(values)  ", typed, 7)  # the rest of the line, trailing blanks aside
    assert not scoring.is_right("dict(values))", typed, 7)
    assert not scoring.is_right("list(", typed, 7)
    assert not scoring.is_right("  ", typed, 7)
    assert not scoring.is_right("", typed, 7)


def test_shown_only_when_in_time_and_not_blank() -> None:
    assert _answer(1, "x").shown
    assert not _answer(1, "x", late=True).shown
    assert not _answer(1, "   ").shown and _answer(1, "   ").in_time
    cancelled = _answer(1, "x")
    cancelled.cancelled = True
    assert not cancelled.shown and not cancelled.in_time


def test_tab_saved_accepts_the_first_right_suggestion_and_types_on() -> None:
    typed = "return dict(values)"  # 19 characters
    answers = [_answer(1, "x"), _answer(3, "urn "), _answer(5, "nothing"), _answer(7, "dict"), _answer(11, "(values)")]
    # keys 1..2 typed, accept "urn " at 3 (to 7), accept "dict" at 7 (to 11), accept "(values)" at 11: 16 saved
    assert scoring.tab_saved(answers, typed) == 16
    assert scoring.tab_saved([_answer(3, "urn ", late=True)], typed) == 0  # never shown
    assert scoring.tab_saved([_answer(7, "dict(values)  ")], typed) == 12  # the rest of the line
    # an accept skips positions: the suggestion at 5 lies inside the accepted "urn " and is never seen
    assert scoring.tab_saved([_answer(3, "urn "), _answer(5, "rn dict(values)")], typed) == 4


def test_longest_stall_counts_cancels_that_did_not_grow_the_cache() -> None:
    assert scoring.longest_stall([(True, 10), (True, 10), (True, 9), (False, 12), (True, 20)]) == 2
    assert scoring.longest_stall([(True, 10), (True, 11), (True, 12)]) == 0
    assert scoring.longest_stall([(True, None)]) is None
    jobs = [{"stopReason": "cancelled", "reused_tokens": 5, "evaluated_tokens": 3}, {"stopReason": "cache"},
            {"stopReason": "length", "reused_tokens": 8, "evaluated_tokens": 4}]
    assert lsp_replay.cached_chain(jobs) == [(True, 8), (False, 12)]


def test_llama_vim_payloads() -> None:
    text = "a\nb\n    value = comp\nc\n"
    cursor = text.index("comp") + 4
    path, body = llama_replay.payload(text, cursor, 48, fim=True)
    assert path == "/infill" and body["cache_prompt"] and body["n_predict"] == 48
    assert body["input_prefix"] == "a\nb\n" and body["prompt"] == "    value = comp" and body["input_suffix"] == "\nc\n"
    path, body = llama_replay.payload(text, cursor, 48, fim=False)
    assert path == "/completion" and body["prompt"] == "a\nb\n    value = comp" and body["stop"] == ["\n"]


# --------------------------------------------------------------------------- the real server, tiny model


def test_a_short_replay_through_the_real_server_reports_without_code(tmp_path: Path) -> None:
    model = tiny_model_path("nofim")
    workspace = tmp_path / "ws"
    (workspace / "s").mkdir(parents=True)
    (workspace / "s" / "x.py").write_text(SAMPLE)
    target = pick_targets(SOURCE, SAMPLE, "s/x.py", 1, random.Random(3))[0]
    typed = target.typed[:6]
    target = Target(target.codebase, target.language, target.relpath, target.line, target.offset, typed,
                    SAMPLE[: target.offset] + typed + SAMPLE[target.offset + len(target.typed) :])

    async def drive() -> lsp_replay.TargetRun:
        command = [sys.executable, "-m", "slm_lsp", "serve", "--model", str(model)]
        with (tmp_path / "server.log").open("wb") as log_file:
            client = await lsp_replay.start_server(command, workspace, {"nThreads": 1}, log_file)
            try:
                times = keys.schedule(typed, 40.0, random.Random(0))
                return await lsp_replay.replay(client, target, (workspace / "s" / "x.py").as_uri(), times, wait_open=0.2)
            finally:
                await client.close()

    run = asyncio.run(drive())
    assert run.keys == len(typed) and len(run.answers) == len(typed)
    assert all(a.arrived is not None for a in run.answers) and not any(a.error for a in run.answers)
    assert run.answers[-1].in_time  # the last key's answer is waited for
    assert run.jobs and all("prompt_tokens" in job for job in run.jobs if job.get("stopReason") != "cache")
    row = bench_replay.summarize(target, run, server="slm-lsp", model="tiny", rate="40")
    assert row["keys"] == len(typed) and row["requests"] == len(typed)
    dumped = json.dumps(row)
    assert typed not in dumped and CANARY not in dumped
    assert all(a.text not in dumped for a in run.answers if len(a.text) > 3)


def test_probes_time_the_first_key_and_the_answer_after_an_accept(tmp_path: Path) -> None:
    """The first-key probe answers the key typed after the rest; the accept probe inserts the
    suggestion, runs the item's command and asks at the new cursor, where the server's
    speculative next suggestion is waiting in its result cache."""
    model = greedy_model(tmp_path)  # always suggests "x…": there is something to accept
    workspace = tmp_path / "ws"
    (workspace / "s").mkdir(parents=True)
    (workspace / "s" / "x.py").write_text(SAMPLE)
    target = pick_targets(SOURCE, SAMPLE, "s/x.py", 1, random.Random(3))[0]
    uri = (workspace / "s" / "x.py").as_uri()
    # minConfidence 0: the greedy model's random weights are doubtful, and its "x" must be shown
    options = {**UNTIMED, "nThreads": 1, "maxTokensSingle": 8, "maxTokensMulti": 8, "minConfidence": 0}

    async def drive() -> tuple[tuple[lsp_replay.Probe, lsp_replay.Probe | None], tuple[lsp_replay.Probe, lsp_replay.Probe] | None, dict]:
        command = [sys.executable, "-m", "slm_lsp", "serve", "--model", str(model)]
        with (tmp_path / "server.log").open("wb") as log_file:
            client = await lsp_replay.start_server(command, workspace, options, log_file)
            try:
                first, warm = await lsp_replay.first_key_probe(client, target, uri, wait_open=0.5)
                pair = await lsp_replay.accept_probe(client, target, uri, wait_open=0.5)
                return (first, warm), pair, await client.status()
            finally:
                await client.close()

    (first, warm), pair, status = asyncio.run(drive())
    assert first.latency_s is not None and first.prompt_tokens
    # The greedy model's "x…" is not what the target types next, so the second key runs the model.
    assert warm is not None and warm.model_run and warm.latency_s is not None and warm.reused_tokens
    assert pair is not None, "the greedy model always suggests something"
    accepted, after = pair
    assert accepted.shown and after.latency_s is not None
    assert status["jobs"]["stopReasons"].get("cache", 0) >= 1, status["jobs"]  # served from the speculation


def test_a_server_that_exits_at_once_fails_the_start_instead_of_hanging(tmp_path: Path) -> None:
    """A server that dies before answering (a bad flag, a broken install) fails ``start_server``
    with the exit code, within seconds, rather than leaving the benchmark waiting forever."""
    command = [sys.executable, "-c", "import sys; sys.exit(3)"]

    async def drive() -> None:
        with (tmp_path / "server.log").open("wb") as log_file:
            await asyncio.wait_for(lsp_replay.start_server(command, tmp_path, {}, log_file), timeout=20)

    with pytest.raises(ConnectionError, match="exit code 3"):
        asyncio.run(drive())
