"""The ``slm-lsp`` command: serve over LSP, or run the same pipeline headlessly.

``complete`` and ``batch`` build CompletionRequests exactly as the server does and call
the same Pipeline, so CI output matches what an editor would show. Exit codes: 0 done,
1 a request failed (bad file or position), 2 usage or model error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from slm_lsp import __version__
from slm_lsp.actions.cli import add_edit_arguments, add_explain_arguments
from slm_lsp.config.files import file_layers
from slm_lsp.config.layers import ConfigStack, Layer
from slm_lsp.config.settings import DETERMINISTIC, Settings, SettingsError
from slm_lsp.context import ContextEngine
from slm_lsp.evaluation import Completion, Problem
from slm_lsp.evaluation.cli import add_eval_arguments, run_from_args
from slm_lsp.evaluation.nextedit_history import ModelVariant
from slm_lsp.evaluation.workspace_command import run_workspace
from slm_lsp.languages import language_for_path
from slm_lsp.lsp.positions import PositionError, offset_at
from slm_lsp.models.cli import add_models_arguments
from slm_lsp.models.doctor import add_doctor_arguments
from slm_lsp.models.gguf_file import ModelFileError
from slm_lsp.models.source import choose_model
from slm_lsp.pipeline import CompletionRequest, Pipeline
from slm_lsp.privacy import PrivacyGate
from slm_lsp.privacy.gitrepo import find_top

log = logging.getLogger(__name__)
EXIT_OK, EXIT_REQUEST_FAILED, EXIT_USAGE = 0, 1, 2
MAX_FILE_BYTES = 4 << 20


class RequestError(Exception):
    """A headless request that cannot run (unreadable file, bad position); one clear line."""


def _quiet_message_logs() -> None:
    """pygls logs every message it sends (at info) and receives (at debug) whole: document
    text, completions, explanations. Logs never hold code, so its protocol logger stays at
    warning whatever --log-level says; slm_lsp's own loggers log sizes and timings only."""
    logging.getLogger("pygls.protocol").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    _quiet_message_logs()
    try:
        settings = _settings(args)
    except SettingsError as exc:
        print(f"slm-lsp: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return int(args.run(args, settings))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slm-lsp", description="Offline inline code completion over LSP.")
    parser.add_argument("--version", action="version", version=f"slm-lsp {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--model", help="GGUF model file (default: $SLM_LSP_MODEL, else the embedded Gemma 3 270M)")
    common.add_argument("--n-ctx", type=int, help="context window in tokens")
    common.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    common.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", parents=[common], help="run the language server (stdio by default)")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    # What language clients append to the server command (vscode-languageclient adds
    # --stdio for its default transport, and --clientProcessId for a node server).
    serve.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)")
    serve.add_argument("--clientProcessId", type=int, metavar="PID", help="exit when this process is gone")
    for transport in ("--pipe", "--socket"):
        serve.add_argument(transport, metavar="NAME", help=argparse.SUPPRESS)
    serve.add_argument("--node-ipc", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(run=_serve)

    complete = commands.add_parser("complete", parents=[common], help="complete one position of a file")
    complete.add_argument("file", type=Path)
    complete.add_argument("--line", type=int, required=True, help="0-based line, as in LSP")
    complete.add_argument("--character", type=int, required=True, help="0-based column in characters")
    complete.add_argument("--json", action="store_true", help="print JSON with text, model, family and timings")
    complete.add_argument("--workspace", type=Path, help="workspace folder for context and privacy rules (default: the file's git work tree)")
    complete.set_defaults(run=_complete)

    batch = commands.add_parser("batch", parents=[common], help="complete many positions from a JSONL file")
    batch.add_argument("requests", type=Path, help="JSONL: {id?, path | text, language?, line, character}")
    batch.add_argument("--timings", action="store_true", help="include timings (output is no longer diffable)")
    batch.add_argument("--workspace", type=Path, help="workspace folder for context and privacy rules (default: the requests file's git work tree)")
    batch.set_defaults(run=_batch)

    add_explain_arguments(
        commands.add_parser("explain", parents=[common], help="explain lines A-B of a file (1-based, inclusive)")
    )
    add_edit_arguments(
        commands.add_parser("edit", parents=[common], help="rewrite lines A-B of a file following an instruction; print a diff")
    )

    evaluate = commands.add_parser("eval", parents=[common], help="score the pipeline on HumanEval infilling, or on --workspace DIR")
    add_eval_arguments(evaluate)
    evaluate.set_defaults(run=_eval)

    why = commands.add_parser("why", parents=[common], help="say whether a file is excluded from prompts, and why")
    why.add_argument("file", help="a path or a file: URI")
    why.add_argument("--workspace", type=Path, help="workspace folder (default: the file's git work tree)")
    why.set_defaults(run=_why)

    add_models_arguments(commands, common)
    add_doctor_arguments(commands.add_parser("doctor", parents=[common], help="check this machine and the model; recommend a catalog model"))
    return parser


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    if args.workspace is not None:
        return run_workspace(args, settings, lambda root: _workspace_context(root, root), _load)

    def complete_factory(_args: argparse.Namespace) -> Callable[[Problem], Completion]:
        # Every suggestion is scored ungated, so pass@1 measures the model and post-processing
        # and the gating curve shows what each minConfidence would hide.
        pipeline = _load(settings.replace({"min_confidence": 0.0}))

        def complete(problem: Problem) -> Completion:
            request = CompletionRequest(text=problem.document, offset=problem.cursor, language="python")
            result = pipeline.complete(request)
            return Completion(text=result.completion, raw=result.raw, timings=result.timings,
                              meta={"stop_reason": result.stop_reason, "confidence": result.confidence,
                                    "stop_sequence": result.stop_sequence})

        return complete

    def next_edit_model(args: argparse.Namespace) -> ModelVariant | str:
        from slm_lsp.lsp.inline_edit import model_format

        engine = _load(settings).engine
        special = getattr(engine, "special_token", None)
        fmt = model_format(args.next_edit_predictor, engine)
        if fmt is None or special is None:
            return (f"{engine.name} is not a next-edit model (no catalog entry or name says so); "
                    "name its format with --next-edit-predictor zeta or sweep")
        return ModelVariant(fmt, engine, special, args.model_cases)

    try:
        return run_from_args(args, complete_factory, next_edit_model, settings.min_confidence)
    except ModelFileError as exc:
        print(f"slm-lsp: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _why(args: argparse.Namespace, settings: Settings) -> int:
    gate = PrivacyGate([args.workspace] if args.workspace else [])
    print(gate.explain(args.file))
    return EXIT_OK


def _settings(args: argparse.Namespace) -> Settings:
    """Defaults < user file < project file < flags; an invalid source raises SettingsError
    naming the key and the file. ``serve`` takes only the flags here: the server reads the
    files itself, with the editor's workspace as the project root."""
    if args.command == "serve":
        return Settings().replace(_overrides(args))
    layers, problems = file_layers(_project_root(args))
    if problems:
        raise problems[0]
    stack = ConfigStack()
    # `eval --shipped-budgets` scores what users get: the time limits and adaptive budgets in force.
    deterministic = {} if getattr(args, "shipped_budgets", False) else DETERMINISTIC
    for layer in [*layers, Layer("command line", "command line", {**deterministic, **_overrides(args)})]:
        stack.replace(layer)
    return stack.settings


def _project_root(args: argparse.Namespace) -> Path | None:
    """The folder whose .slm-lsp.toml / pyproject.toml applies: --workspace, else the git
    work tree of the file the command reads, else none."""
    workspace = getattr(args, "workspace", None)
    if workspace is not None:
        return Path(workspace)
    anchor = getattr(args, "file", None) or getattr(args, "requests", None)
    if not isinstance(anchor, Path):
        return None
    return find_top(anchor.resolve().parent)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    values = {"model": args.model, "n_ctx": args.n_ctx, "n_threads": args.threads}
    return {key: value for key, value in values.items() if value is not None}


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from slm_lsp.lsp.lifecycle import exit_on_signals, exit_process, watch_parent
    from slm_lsp.lsp.protocol import FramedReader
    from slm_lsp.lsp.server import build_server

    refused = _unsupported_transport(args)
    if refused:
        print(f"slm-lsp: {refused} is not supported; run `slm-lsp serve --stdio` (the default) or --tcp HOST:PORT", file=sys.stderr)
        return EXIT_USAGE
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not host or not port.isdigit():
            print("slm-lsp: --tcp expects HOST:PORT, e.g. 127.0.0.1:2087", file=sys.stderr)
            return EXIT_USAGE
    server = build_server(_overrides(args))
    exit_on_signals(server)
    if args.clientProcessId is not None:
        watch_parent(args.clientProcessId, server)
    if args.tcp:
        server.start_tcp(host, int(port))
    else:
        server.start_io(FramedReader(sys.stdin.buffer), _protected_stdout())  # type: ignore[arg-type]
    # LSP: exit code 0 only if the client asked for a shutdown first.
    exit_process(server, EXIT_OK if server.protocol.shut_down else 1, "the client disconnected")


def _unsupported_transport(args: argparse.Namespace) -> str | None:
    """The transport flag a client added that this server cannot honour, if any."""
    if args.pipe is not None:
        return "--pipe"
    if args.socket is not None:
        return "--socket"
    if args.node_ipc:
        return "--node-ipc"
    return None


def _protected_stdout() -> TextIO:
    """Give LSP a private copy of stdout and point fd 1 at stderr.

    Native code (llama.cpp) and stray prints write to fd 1; on a stdio server that
    would corrupt the protocol stream. After this, only the returned file reaches the
    client.
    """
    transport = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return transport  # type: ignore[return-value]


def _load(settings: Settings, context: ContextEngine | None = None) -> Pipeline:
    return Pipeline.load(settings, choose_model(settings.model), context=context)


def _workspace_context(workspace: Path | None, anchor: Path) -> ContextEngine:
    """The same context stage the server uses: a privacy gate and a workspace index for
    ``workspace`` (default: the git work tree holding ``anchor``, else its folder), fully
    indexed before the first request so the output does not depend on timing."""
    folder = anchor if anchor.is_dir() else anchor.parent
    root = (workspace or find_top(folder.resolve()) or folder).resolve()
    context = ContextEngine([root], PrivacyGate([root]))
    context.start_indexing()
    if not context.wait_until_indexed(timeout=300):
        log.warning("workspace index of %s not finished after 300 s; continuing with what is indexed", root)
    return context


def _complete(args: argparse.Namespace, settings: Settings) -> int:
    context = _workspace_context(args.workspace, args.file)
    try:
        _refuse_excluded(context.gate, args.file)
        request = _file_request(args.file, args.line, args.character)
    except RequestError as exc:
        print(f"slm-lsp: {exc}", file=sys.stderr)
        return EXIT_REQUEST_FAILED
    try:
        pipeline = _load(settings, context)
    except ModelFileError as exc:
        print(f"slm-lsp: {exc}", file=sys.stderr)
        return EXIT_USAGE
    result = pipeline.complete(request)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        print(result.insert_text)
    return EXIT_OK


def _batch(args: argparse.Namespace, settings: Settings) -> int:
    try:
        lines = args.requests.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"slm-lsp: cannot read {args.requests}: {exc}", file=sys.stderr)
        return EXIT_REQUEST_FAILED
    context = _workspace_context(args.workspace, args.requests.resolve().parent)
    try:
        pipeline = _load(settings, context)
    except ModelFileError as exc:
        print(f"slm-lsp: {exc}", file=sys.stderr)
        return EXIT_USAGE
    failed = 0
    for number, entry in _entries(lines):
        output: dict[str, Any] = {"id": entry.get("id", number) if isinstance(entry, dict) else number}
        try:
            result = pipeline.complete(_batch_request(entry, args.requests.parent, context.gate))
            output.update(result.as_dict())
            if not args.timings:
                del output["timings"]
        except RequestError as exc:
            failed += 1
            output["error"] = str(exc)
        print(json.dumps(output, ensure_ascii=False), flush=True)
    return EXIT_REQUEST_FAILED if failed else EXIT_OK


def _entries(lines: list[str]) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, RequestError(f"line {number}: not valid JSON ({exc.msg})")


def _batch_request(entry: Any, base: Path, gate: PrivacyGate) -> CompletionRequest:
    if isinstance(entry, RequestError):
        raise entry
    if not isinstance(entry, dict):
        raise RequestError("each line must be a JSON object")
    line, character = entry.get("line"), entry.get("character")
    if not isinstance(line, int) or not isinstance(character, int):
        raise RequestError("'line' and 'character' must be integers")
    if "text" in entry:
        if not isinstance(entry["text"], str):
            raise RequestError("'text' must be a string")
        return _text_request(entry["text"], line, character, None, entry.get("language"))
    if not isinstance(entry.get("path"), str):
        raise RequestError("each request needs 'path' or 'text'")
    _refuse_excluded(gate, base / entry["path"])
    return _file_request(base / entry["path"], line, character, entry.get("language"))


def _refuse_excluded(gate: PrivacyGate, path: Path) -> None:
    decision = gate.check_path(path)
    if decision.excluded:
        raise RequestError(f"{path} is excluded from prompts ({decision.rule}); see 'slm-lsp why {path}'")


def _file_request(path: Path, line: int, character: int, language: str | None = None) -> CompletionRequest:
    return _text_request(_read_source(path), line, character, path, language or language_for_path(path))


def _text_request(text: str, line: int, character: int, path: Path | None, language: str | None) -> CompletionRequest:
    try:
        offset = offset_at(text, line, character, encoding="utf-32")
    except PositionError as exc:
        raise RequestError(f"invalid position: {exc}") from exc
    uri = path.resolve().as_uri() if path is not None else None
    return CompletionRequest(text=text, offset=offset, uri=uri, language=language)


def _read_source(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RequestError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise RequestError(f"{path} is too large to complete ({len(data)} bytes, limit {MAX_FILE_BYTES})")
    if b"\0" in data[:8192]:
        raise RequestError(f"{path} is a binary file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(f"{path} is not UTF-8 text") from exc


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
