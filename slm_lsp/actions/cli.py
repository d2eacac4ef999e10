"""``slm-lsp explain FILE --lines A-B`` and ``slm-lsp edit FILE --lines A-B --instruction TEXT``:
the explain and edit actions without an editor.

Runs exactly what the server's "Explain selection" runs (privacy gate, prompt, model,
clean-up), prints the explanation to stdout (``--json`` adds model, prompt style, stop
reason and timings) and, with ``--stream``, the growing text to stderr while it is written.
Exit codes as for the other commands: 0 done, 1 the request failed (unreadable file, bad
line range, excluded by the privacy settings), 2 model error.

``edit`` prints the proposal as a unified diff (``--json``: with parses, model and timings);
``--apply`` writes it, only when the rewrite parses and the file has not changed meanwhile.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from slm_lsp.actions import core
from slm_lsp.actions.privacy import excluded, make_gate
from slm_lsp.config.settings import Settings
from slm_lsp.languages import language_for_path
from slm_lsp.models.gguf_file import ModelFileError

EXIT_OK, EXIT_REQUEST_FAILED, EXIT_USAGE = 0, 1, 2
MAX_FILE_BYTES = 4 << 20
_LINES = re.compile(r"^\s*(\d+)\s*(?:[-:,]\s*(\d+)\s*)?$")


def add_explain_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``explain`` arguments to ``parser`` (a subcommand parser) and set its handler."""
    parser.add_argument("file", type=Path, help="the source file")
    parser.add_argument("--lines", required=True, metavar="A-B",
                        help="1-based inclusive line range to explain, e.g. 10-24 (or a single line: 10)")
    parser.add_argument("--language", help="LSP languageId (default: from the file name)")
    parser.add_argument("--max-tokens", type=int, help="generation budget (default: the prompt style's)")
    parser.add_argument("--workspace", type=Path, help="workspace root for the privacy rules (default: the file's git work tree)")
    parser.add_argument("--json", action="store_true", help="print JSON with text, model, promptStyle, stopReason, timings")
    parser.add_argument("--stream", action="store_true", help="show the explanation on stderr while it is generated")
    parser.add_argument("--actions-model", metavar="MODEL",
                        help="instruct model (GGUF path or catalog name) for the explanation (default: the actionsModel setting, else --model)")
    parser.set_defaults(run=run_explain)
    return parser


def add_edit_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``edit`` arguments to ``parser`` (a subcommand parser) and set its handler."""
    parser.add_argument("file", type=Path, help="the source file")
    parser.add_argument("--lines", required=True, metavar="A-B", help="1-based inclusive line range to rewrite")
    parser.add_argument("--instruction", required=True, help='what to change, e.g. "add type hints"')
    parser.add_argument("--apply", action="store_true", help="write the rewrite into the file (only if it parses)")
    parser.add_argument("--language", help="LSP languageId (default: from the file name)")
    parser.add_argument("--workspace", type=Path, help="workspace root for the privacy rules (default: the file's git work tree)")
    parser.add_argument("--json", action="store_true", help="print JSON with diff, parses, model, stopReason, timings")
    parser.add_argument("--actions-model", metavar="MODEL",
                        help="instruct model (GGUF path or catalog name) for the rewrite (default: the actionsModel setting, else --model)")
    parser.set_defaults(run=run_edit)
    return parser


def parse_lines(value: str, line_count: int) -> tuple[int, int]:
    """``"A-B"`` (1-based, inclusive) checked against a file of ``line_count`` lines."""
    match = _LINES.match(value)
    if match is None:
        raise ValueError(f"--lines expects A-B (1-based, inclusive), got {value!r}")
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if first < 1 or last < first:
        raise ValueError(f"--lines {value}: the range must start at 1 or later and not end before it starts")
    if last > line_count:
        raise ValueError(f"--lines {value}: the file has only {line_count} lines")
    return first, last


def _read(path: Path) -> str:
    data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"{path} is too large ({len(data)} bytes, limit {MAX_FILE_BYTES})")
    if b"\0" in data[:8192]:
        raise ValueError(f"{path} is a binary file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text") from exc


def run_explain(args: argparse.Namespace, settings: Settings) -> int:
    """Explain ``args.lines`` of ``args.file`` with the configured model; returns the exit code."""
    path: Path = args.file
    gate = make_gate([args.workspace] if getattr(args, "workspace", None) else [])
    uri = path.resolve().as_uri()
    is_excluded, rule = excluded(gate, uri)
    if is_excluded:
        print(f"slm-lsp: {path} is excluded from the model by the privacy settings ({rule})", file=sys.stderr)
        return EXIT_REQUEST_FAILED
    try:
        text = _read(path)
        lines = text.splitlines(keepends=True)
        first, last = parse_lines(args.lines, len(lines))
    except OSError as exc:
        print(f"slm-lsp: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_REQUEST_FAILED
    except ValueError as exc:
        print(f"slm-lsp: {exc}", file=sys.stderr)
        return EXIT_REQUEST_FAILED
    if getattr(args, "actions_model", None):
        settings = settings.replace({"actions_model": args.actions_model})
    max_tokens = getattr(args, "max_tokens", None)
    if max_tokens is not None and not 1 <= max_tokens <= 2048:
        print("slm-lsp: --max-tokens must be from 1 to 2048", file=sys.stderr)
        return EXIT_USAGE
    start = sum(len(line) for line in lines[: first - 1])
    end = start + sum(len(line) for line in lines[first - 1 : last])
    language = getattr(args, "language", None) or language_for_path(path)
    document = core.Document(text, uri, language, path.name)

    from slm_lsp.actions.model import ActionsModel
    from slm_lsp.models.source import choose_model
    from slm_lsp.pipeline import Pipeline

    try:
        pipeline = Pipeline.load(settings, choose_model(settings.model))
        engine = ActionsModel().engine_for(settings, pipeline.engine)
    except ModelFileError as exc:
        print(f"slm-lsp: {exc}", file=sys.stderr)
        return EXIT_USAGE
    shown = _Stream() if getattr(args, "stream", False) else None
    try:
        outcome = core.explain(engine, document, start, end, gate, max_tokens=max_tokens,
                               on_text=shown.update if shown else None)
    except core.ActionError as exc:
        print(f"slm-lsp: {exc}", file=sys.stderr)
        return EXIT_REQUEST_FAILED
    finally:
        if shown is not None:
            shown.finish()
    if args.json:
        payload: dict[str, Any] = {**outcome.as_dict(), "model": engine.name, "file": str(path)}
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print(outcome.text)
    return EXIT_OK if outcome.text else EXIT_REQUEST_FAILED


def run_edit(args: argparse.Namespace, settings: Settings) -> int:
    """Rewrite ``args.lines`` of ``args.file`` following ``args.instruction``; print the diff."""
    from slm_lsp.actions import edit

    path: Path = args.file
    gate = make_gate([args.workspace] if getattr(args, "workspace", None) else [])
    uri = path.resolve().as_uri()
    is_excluded, rule = excluded(gate, uri)
    if is_excluded:
        print(f"slm-lsp: {path} is excluded from the model by the privacy settings ({rule})", file=sys.stderr)
        return EXIT_REQUEST_FAILED
    try:
        text = _read(path)
        lines = text.splitlines(keepends=True)
        first, last = parse_lines(args.lines, len(lines))
    except OSError as exc:
        print(f"slm-lsp: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_REQUEST_FAILED
    except ValueError as exc:
        print(f"slm-lsp: {exc}", file=sys.stderr)
        return EXIT_REQUEST_FAILED
    if getattr(args, "actions_model", None):
        settings = settings.replace({"actions_model": args.actions_model})
    start = sum(len(line) for line in lines[: first - 1])
    end = start + sum(len(line) for line in lines[first - 1 : last])
    language = getattr(args, "language", None) or language_for_path(path)
    document = core.Document(text, uri, language, path.name)
    engine = _engine(settings)
    if engine is None:
        return EXIT_USAGE
    try:
        outcome = edit.edit_selection(engine, document, start, end, args.instruction, gate)
    except core.ActionError as exc:
        print(f"slm-lsp: {exc}", file=sys.stderr)
        return EXIT_REQUEST_FAILED
    assert outcome.edit is not None
    diff = edit.unified_diff(outcome, text, path.name)
    if args.json:
        print(json.dumps({**outcome.as_dict(), "diff": diff, "model": engine.name, "file": str(path)}, ensure_ascii=False))
    else:
        sys.stdout.write(diff)
    if outcome.parses is False:
        print("slm-lsp: the rewrite does not parse" + ("; not applied" if args.apply else ""), file=sys.stderr)
        return EXIT_REQUEST_FAILED
    if args.apply:
        if _read(path) != text:
            print(f"slm-lsp: {path} changed while the model was working; not applied", file=sys.stderr)
            return EXIT_REQUEST_FAILED
        temporary = path.with_name(f".{path.name}.slm-edit")
        temporary.write_text(outcome.edit.result, encoding="utf-8")
        temporary.chmod(path.stat().st_mode & 0o7777)
        temporary.replace(path)
        print(f"slm-lsp: applied to {path}", file=sys.stderr)
    return EXIT_OK


def _engine(settings: Settings) -> Any:
    """The actions engine (the actions model's, else the completion model's); None after printing a model error."""
    from slm_lsp.actions.model import ActionsModel
    from slm_lsp.models.source import choose_model
    from slm_lsp.pipeline import Pipeline

    try:
        pipeline = Pipeline.load(settings, choose_model(settings.model))
        return ActionsModel().engine_for(settings, pipeline.engine)
    except ModelFileError as exc:
        print(f"slm-lsp: {exc}", file=sys.stderr)
        return None


class _Stream:
    """Writes the growing explanation to stderr, only the newly added characters."""

    def __init__(self) -> None:
        self._shown = ""

    def update(self, text: str) -> None:
        if text.startswith(self._shown):
            sys.stderr.write(text[len(self._shown) :])
        else:
            sys.stderr.write("\n" + text)
        self._shown = text
        sys.stderr.flush()

    def finish(self) -> None:
        if self._shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    """``python -m slm_lsp.actions.cli FILE --lines A-B [--model PATH]`` (until the main CLI has it)."""
    parser = argparse.ArgumentParser(prog="slm-lsp explain", description="Explain lines of a file with the local model.")
    parser.add_argument("--model")
    parser.add_argument("--n-ctx", type=int)
    parser.add_argument("--threads", type=int)
    add_explain_arguments(parser)
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in {"model": args.model, "n_ctx": args.n_ctx, "n_threads": args.threads}.items()
                 if v is not None}
    return run_explain(args, Settings().replace(overrides))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
