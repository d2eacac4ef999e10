"""Hostile and malformed input over stdio against the real ``slm-lsp serve``.

Hypothesis generates groups of messages — broken framing, broken JSON, unknown methods,
wrong param types, out-of-range and negative positions, edits to unopened documents and
stale versions, invalid ranges, exotic URIs, binary text, lone surrogates, large
documents — and after every group a probe completion must get exactly the answer it got
before the fuzzing started. The model is a tiny one whose greedy output is fixed (see
``greedy_model``), so "exactly" holds whatever the KV cache went through. No traceback
may reach the client, every well-framed request must be answered, and the server's
resident memory must stay bounded.

``SLM_LSP_FUZZ_EXAMPLES`` (default 300) sets the number of groups, ``SLM_LSP_FUZZ_SEED``
(default 0) which ones; a long run: ``SLM_LSP_FUZZ_EXAMPLES=3000 pytest tests/hardening``.
"""

from __future__ import annotations

import json
import os
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.hardening.wire import SERVE, UNTIMED, WireClient, greedy_model

EXAMPLES = int(os.environ.get("SLM_LSP_FUZZ_EXAMPLES", "300"))
SEED = int(os.environ.get("SLM_LSP_FUZZ_SEED", "0"))
RSS_GROWTH_LIMIT_KB = 200 * 1024
OPTIONS = {**UNTIMED, "resultCacheSize": 1, "maxTokensSingle": 8, "maxTokensMulti": 8,
           "minConfidence": 0}  # random weights are doubtful: the probe must get its "x" item
# Two probe texts, alternated, so that with a one-entry result cache every probe runs the model.
PROBES = [("def add(a, b):\n    return ", 1, 11), ("def sub(a, b):\n    return ", 1, 11)]
# Methods whose params are fuzzed: everything but shutdown/exit (they end the session) and
# workspace/didChangeConfiguration (run-time settings are another test's subject; a random
# but valid setting would legitimately change the probe's answer).
EXIT_FREE_METHODS = [
    "textDocument/inlineCompletion", "textDocument/completion", "textDocument/codeAction",
    "workspace/executeCommand", "slm/status", "slm/whyExcluded", "initialize", "textDocument/hover",
    "textDocument/didOpen", "textDocument/didChange", "textDocument/didClose", "textDocument/didSave",
    "workspace/didChangeWatchedFiles", "$/cancelRequest", "$/setTrace",
    "initialized", "window/workDoneProgress/cancel", "notebookDocument/didOpen",
]
COMMANDS = ["slm.explainSelection", "slm.writeDocstring", "slm.fixDiagnostic", "slm.unknown", ""]
SNIPPETS = [
    "def f(x):\n    return x + 1\n", "import os\nfrom . import mod\n", "class A:\n    def m(self):\n        pass\n",
    "function g() { return 1; }\n", "fn main() { println!(\"hi\"); }\n", "\t\r\n\r\r\n", "😀日本\u200b\ufeff",
    "password = 'hunter2hunter2'\nAKIAIOSFODNN7EXAMPLE\n", "x" * 3000,
]
EXOTIC_URIS = [
    "file:///fuzz/../fuzz/x.py", "file:///fuzz/%00.py", "file:///fuzz/a%00b/../c.py", "file:///fuzz/a\x00b.py",
    "file:///fuzz/%2e%2e/%2e%2e/etc/passwd", "file://remote-host/share/x.py", "file:", "file://", "file:///",
    "file:///fuzz/", "untitled:", "untitled:Untitled-1", "vscode-notebook-cell:", ":", "", "file:///fuzz/%ZZ.py",
    "file:///fuzz/😀.py", "file:///fuzz/%F0%9F%98%80.py", "file:///fuzz/.env", "file:///fuzz/id_rsa",
    "vscode-notebook-cell:/fuzz/nb.ipynb#W0sZmlsZQ%3D%3D", "file:///fuzz/" + "a" * 5000 + ".py", "file:///proc/self/mem",
    "file:///dev/zero", "http://example.com/x.py", "file:///fuzz/dir/", "file:///fuzz/%ED%A0%80.py",
]


@dataclass
class Session:
    """The fuzzed server, its probe document and what the probes must keep answering."""

    client: WireClient
    probe_uri: str
    expected: list[Any] = field(default_factory=list)
    probes: int = 0
    version: int = 1
    uris: set[str] = field(default_factory=set)  # fuzz documents that may be open
    sent: dict[str, int] = field(default_factory=dict)  # messages by kind

    def probe(self) -> None:
        """The probe document still completes exactly as at the start, with the model running."""
        text, line, character = PROBES[self.probes % 2]
        self.version += 1
        self.client.notify("textDocument/didChange", {
            "textDocument": {"uri": self.probe_uri, "version": self.version}, "contentChanges": [{"text": text}]})
        answer = self.client.inline(self.probe_uri, line, character)
        assert "result" in answer, answer
        if len(self.expected) < 2:
            assert answer["result"]["items"], f"the probe got no completion: {answer}"
            self.expected.append(answer["result"])
        assert answer["result"] == self.expected[self.probes % 2]
        status = self.client.request("slm/status", {})["result"]
        assert status["state"] == "ready"
        assert status["last"]["stopReason"] in ("end", "stop", "length"), status["last"]
        assert status["jobs"]["peakRunning"] <= 1, status["jobs"]
        self.probes += 1


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory, clean_env_module: dict[str, str]) -> Iterator[Session]:
    base = tmp_path_factory.mktemp("fuzz")
    workspace = base / "workspace"
    workspace.mkdir()
    model = greedy_model(base)
    client = WireClient([*SERVE, "--model", str(model)], clean_env_module, base / "stderr.log")
    try:
        client.initialize(workspace, OPTIONS)
        assert client.wait_settled()["state"] == "ready"
        session = Session(client, (workspace / "probe.py").as_uri())
        client.open(session.probe_uri, PROBES[0][0])
        for _ in range(4):
            session.probe()
        yield session
        assert client.close() == 0
    finally:
        client.kill()


@pytest.fixture(scope="module")
def clean_env_module(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SLM_LSP_MODEL"}
    env["SLM_LSP_CACHE_DIR"] = str(tmp_path_factory.mktemp("fuzz-cache"))
    return env


# -- strategies ----------------------------------------------------------------------------------

surrogates = st.integers(0xD800, 0xDFFF).map(chr)
texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(st.text(max_size=20), surrogates, st.sampled_from(SNIPPETS)), max_size=8).map("".join),
    st.binary(max_size=400).map(lambda raw: raw.decode("latin-1")),
    st.sampled_from(SNIPPETS).flatmap(lambda part: st.integers(1, 1_000_000 // len(part)).map(lambda n: part * n)),
)
uris = st.one_of(
    st.sampled_from(EXOTIC_URIS),
    st.text(max_size=30).map(lambda name: "file:///fuzz/" + quote(name.encode("utf-8", "surrogatepass"))),
    st.text(max_size=30).map(lambda name: "file:///fuzz/" + name),
    st.text(max_size=40),
    st.integers(0, 40).map(lambda n: f"untitled:Untitled-{n}"),
)
numbers = st.one_of(st.integers(-3, 40), st.integers(2**31 - 2, 2**32 + 2), st.sampled_from([2**53, -(2**31), 2**70]))
positions = st.fixed_dictionaries({"line": numbers, "character": numbers})
ranges = st.fixed_dictionaries({"start": positions, "end": positions})
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20) | surrogates,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
languages = st.one_of(st.sampled_from(["python", "javascript", "rust", "go", "plaintext", "", "ipynb"]), st.text(max_size=12))


@dataclass
class Message:
    """One generated message: the bytes to send and, for a well-framed request, the id to await."""

    kind: str
    data: bytes
    awaits: int | None = None


def _frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _request(session: Session, kind: str, method: str, params: Any) -> Message:
    msg_id = session.client.new_id()
    body = json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}).encode()
    return Message(kind, _frame(body), msg_id)


def _notification(kind: str, method: str, params: Any) -> Message:
    return Message(kind, _frame(json.dumps({"jsonrpc": "2.0", "method": method, "params": params}).encode()))


def draw_messages(data: st.DataObject, session: Session) -> list[Message]:
    """One hostile message (sometimes a request and its cancellation) of a drawn kind."""
    kind = data.draw(st.sampled_from([
        "open", "open", "change", "change", "close", "save", "inline", "inline", "completion", "code-action",
        "command", "why", "watched", "cancel", "unknown-method", "random-params", "random-params", "framing",
        "framing", "bad-json", "lifecycle",
    ]))
    # Draw the same way whatever the server's state, as hypothesis requires; then maybe
    # pick a document an earlier group opened instead of the fresh URI.
    reuse, index, fresh = data.draw(st.booleans()), data.draw(st.integers(0, 1 << 16)), data.draw(uris)
    known = sorted(session.uris)
    uri = known[index % len(known)] if reuse and known else fresh
    document = {"uri": uri}
    if kind == "open":
        session.uris.add(uri)
        return [_notification(kind, "textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": data.draw(languages), "version": data.draw(numbers), "text": data.draw(texts)}})]
    if kind == "change":
        change = st.one_of(
            st.fixed_dictionaries({"range": ranges, "text": texts}),
            st.fixed_dictionaries({"text": texts}),
            st.fixed_dictionaries({"range": ranges, "rangeLength": numbers, "text": texts}),
        )
        return [_notification(kind, "textDocument/didChange", {
            "textDocument": {**document, "version": data.draw(numbers)},
            "contentChanges": data.draw(st.lists(change, max_size=3))})]
    if kind == "close":
        session.uris.discard(uri)
        return [_notification(kind, "textDocument/didClose", {"textDocument": document})]
    if kind == "save":
        return [_notification(kind, "textDocument/didSave", {"textDocument": document, "text": data.draw(texts)})]
    if kind in ("inline", "cancel"):
        context: dict[str, Any] = {"triggerKind": data.draw(st.sampled_from([1, 2, 0, 3]))}
        if data.draw(st.booleans()):
            context["selectedCompletionInfo"] = {"range": data.draw(ranges), "text": data.draw(texts)}
        message = _request(session, kind, "textDocument/inlineCompletion",
                           {"textDocument": document, "position": data.draw(positions), "context": context})
        if kind == "inline":
            return [message]
        return [message, _notification(kind, "$/cancelRequest", {"id": data.draw(st.sampled_from([message.awaits, -1, "x"]))})]
    if kind == "completion":
        return [_request(session, kind, "textDocument/completion", {"textDocument": document, "position": data.draw(positions)})]
    if kind == "code-action":
        return [_request(session, kind, "textDocument/codeAction", {
            "textDocument": document, "range": data.draw(ranges), "context": {"diagnostics": []}})]
    if kind == "command":
        arguments = data.draw(st.one_of(
            st.lists(json_values, max_size=3),
            st.just([{"uri": uri, "range": data.draw(ranges)}]),
        ))
        return [_request(session, kind, "workspace/executeCommand",
                         {"command": data.draw(st.sampled_from(COMMANDS)), "arguments": arguments})]
    if kind == "why":
        return [_request(session, kind, "slm/whyExcluded", data.draw(st.one_of(st.just(document), json_values)))]
    if kind == "watched":
        changes = st.lists(st.fixed_dictionaries({"uri": uris, "type": st.sampled_from([1, 2, 3, 0, 7])}), max_size=3)
        return [_notification(kind, "workspace/didChangeWatchedFiles", {"changes": data.draw(changes)})]
    if kind == "unknown-method":
        method = data.draw(st.one_of(st.text(max_size=30), st.sampled_from(["$/unknown", "slm/nothing", "textDocument/x"])))
        if method in EXIT_FREE_METHODS or method in ("shutdown", "exit"):
            method = "slm/" + method
        if data.draw(st.booleans()):
            return [_request(session, kind, method, data.draw(json_values))]
        return [_notification(kind, method, data.draw(json_values))]
    if kind == "random-params":
        method = data.draw(st.sampled_from(EXIT_FREE_METHODS))
        if data.draw(st.booleans()):
            return [_request(session, kind, method, data.draw(json_values))]
        return [_notification(kind, method, data.draw(json_values))]
    if kind == "framing":
        return [Message(kind, data.draw(bad_frames(session)))]
    if kind == "bad-json":
        body = data.draw(st.one_of(
            st.binary(max_size=200),
            st.sampled_from([b"{", b"[]", b"null", b"42", b'"x"', b'{"jsonrpc": "2.0"}', b'{"jsonrpc": "1.0", "id": 1}',
                             b'{"jsonrpc":"2.0","id":1,"method":"slm/status"', b"\xff\xfe{}", b"[" * 100_000,
                             b'{"jsonrpc":"2.0","id":{"a":1},"method":"slm/status"}',
                             b'{"jsonrpc":"2.0","id":null,"method":"slm/status"}',
                             b'{"jsonrpc":"2.0","id":1.5,"method":"textDocument/inlineCompletion","params":{}}']),
        ))
        return [Message(kind, _frame(body))]
    initialize: dict[str, Any] = {"processId": None, "capabilities": {}}
    return [data.draw(st.sampled_from([
        _request(session, kind, "initialize", initialize),
        _notification(kind, "initialized", {}),
    ]))]


@st.composite
def bad_frames(draw: st.DrawFn, session: Session) -> bytes:
    """Framing errors a confused client produces; each costs at most its own message (and,
    for a frame that claims too few bytes, the one after it)."""
    body = json.dumps({"jsonrpc": "2.0", "id": session.client.new_id(), "method": "slm/status", "params": {}}).encode()
    excess = draw(st.integers(1, 64))
    junk = draw(st.binary(min_size=1, max_size=300).filter(lambda raw: b"\n" not in raw))
    return draw(st.sampled_from([
        b"Content-Length: %d\r\n\r\n" % (len(body) + excess) + body + b"x" * excess,  # claims too much
        b"Content-Length: %d\r\n\r\n" % max(1, len(body) - excess) + body,  # claims too little
        b"Content-Length: abc\r\n\r\n" + body,
        b"Content-Length: -5\r\n\r\n" + body,
        b"\r\n" + body,  # no header at all
        b"Content-Type: application/json\r\n\r\n" + body,
        junk,
        junk + b"\r\n\r\n",
        b"content-length: %d\r\n\r\n" % len(body) + body,  # lower-case header: accepted
        b"Content-Length: %d\n\n" % len(body) + body,  # bare newlines: accepted
        b"Content-Length: 0\r\n\r\n",
    ]))


# -- the tests -----------------------------------------------------------------------------------


def test_fuzzed_messages_never_break_the_server(session: Session) -> None:
    client = session.client
    rss_before = client.rss_kb()

    @seed(SEED)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def one_group(data: st.DataObject) -> None:
        messages = [m for _ in range(data.draw(st.integers(1, 4))) for m in draw_messages(data, session)]
        for message in messages:
            session.sent[message.kind] = session.sent.get(message.kind, 0) + 1
            client.send_bytes(message.data)
        for message in messages:
            if message.awaits is not None:
                answer = client.response(message.awaits)
                assert "result" in answer or answer["error"]["message"], answer
        assert not client.stack_shaped(), client.stack_shaped()
        session.probe()

    one_group()
    for uri in sorted(session.uris):
        client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    session.probe()
    rss_after = client.rss_kb()
    print(f"fuzzed {sum(session.sent.values())} messages in {session.probes} probed groups: {session.sent}; "
          f"RSS {rss_before // 1024} MB -> {rss_after // 1024} MB")
    assert rss_after - rss_before < RSS_GROWTH_LIMIT_KB
    assert not client.stack_shaped()


def test_ten_megabyte_documents(session: Session) -> None:
    """A 10 MB source file and 10 MB of binary text: answered, and memory returns after closing."""
    client = session.client
    rss_before = client.rss_kb()
    line = "value = compute(alpha, beta) + 1  # " + string.ascii_letters + "\n"
    huge = {
        "file:///fuzz/huge.py": line * (10_000_000 // len(line)),
        "file:///fuzz/binary.bin": bytes(range(256)).decode("latin-1") * 40_000,
    }
    for uri, text in huge.items():
        client.open(uri, text)
        answer = client.inline(uri, text.count("\n") // 2, 5, timeout=300)
        assert "result" in answer or answer["error"]["message"], answer
        client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 0}}, "text": "\ud800x"}]})
        answer = client.inline(uri, 3, 2, timeout=300)
        assert "result" in answer or answer["error"]["message"], answer
        client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    session.probe()
    assert client.rss_kb() - rss_before < RSS_GROWTH_LIMIT_KB
    assert not client.stack_shaped()


def test_oversized_frame_is_skipped(session: Session) -> None:
    """A frame over the 64 MB limit is read and dropped without being held in memory."""
    from slm_lsp.lsp.protocol import MAX_MESSAGE_BYTES

    client = session.client
    rss_before = client.rss_kb()
    size = MAX_MESSAGE_BYTES + 1
    client.send_bytes(b"Content-Length: %d\r\n\r\n" % size)
    chunk = b"x" * (1 << 20)
    for _ in range(size // len(chunk)):
        client.send_bytes(chunk)
    client.send_bytes(b"x" * (size % len(chunk)))
    session.probe()
    assert client.rss_kb() - rss_before < 32 * 1024


def test_requests_before_initialize_are_refused(tmp_path: Path, clean_env_module: dict[str, str]) -> None:
    client = WireClient([*SERVE, "--model", str(tmp_path / "none.gguf")], clean_env_module, tmp_path / "stderr.log")
    try:
        client.notify("textDocument/didOpen", {"textDocument": {"uri": "file:///x.py", "languageId": "python",
                                                                "version": 1, "text": ""}})
        refused = client.request("slm/status", {})
        assert refused["error"]["code"] == -32002 and "initialize" in refused["error"]["message"]
        client.initialize(None, OPTIONS)
        again = client.request("initialize", {"processId": None, "capabilities": {}})
        assert again["error"]["code"] == -32600 and "only once" in again["error"]["message"]
        assert client.wait_settled()["state"] == "failed"  # the missing model, reported once
        assert client.request("shutdown", None)["result"] is None
        late = client.request("slm/status", {})
        assert "shutting down" in late["error"]["message"]
        client.notify("exit", None)
        assert client.process.wait(timeout=10) == 0
        assert not client.stack_shaped()
    finally:
        client.kill()
