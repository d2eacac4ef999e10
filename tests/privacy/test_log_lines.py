"""The server's log holds no code at any --log-level: not the document, not a completion.

pygls logs whole JSON-RPC messages at info and debug; the CLI keeps its protocol logger
at warning. The document carries a marker that is not secret-shaped, so redaction cannot
be what keeps it out: only the logging rule can.
"""

from __future__ import annotations

from pathlib import Path

from tests.hardening.wire import SERVE, UNTIMED, WireClient, greedy_model

MARKER = "zebra_marker_identifier_81734"


def test_debug_log_holds_neither_the_document_nor_the_completion(tmp_path: Path, clean_env: dict[str, str]) -> None:
    model = greedy_model(tmp_path)
    client = WireClient([*SERVE, "--model", str(model), "--log-level", "debug"], clean_env, tmp_path / "stderr.log")
    try:
        # minConfidence 0: random weights are doubtful, and the log test needs a completion shown
        client.initialize(tmp_path, {**UNTIMED, "maxTokensSingle": 8, "maxTokensMulti": 8, "minConfidence": 0})
        assert client.wait_settled()["state"] == "ready"
        uri = (tmp_path / "app.py").as_uri()
        client.open(uri, f"def {MARKER}():\n    return \n")
        answer = client.inline(uri, 1, 11)
        items = answer["result"]["items"]
        assert items and items[0]["insertText"].strip(), answer
    except BaseException:
        client.kill()
        raise
    log = client.stderr_text()
    assert client.close() == 0
    assert "DEBUG slm_lsp" in log  # the level took effect: the server did log at debug
    assert MARKER not in log
    assert items[0]["insertText"].strip() not in log
