"""Measure "Explain selection" on real functions: loops, length, speed, and whether it says what the code does.

Functions come from real code on the machine in three languages (Python: the installed
pathspec and packaging; JavaScript: mdurl and semver from the VS Code extension's node_modules;
C: the example programs Debian ships with zlib, nettle, liblzma and expat under
/usr/share/doc/*/examples), picked with tree-sitter, 4–30 lines each, deterministically
(``--seed``). Each is explained by every model given, through the same code path as the editor
(``slm_lsp.actions.core.explain``, privacy gate included), greedy, with the default budget.

Per model it prints: share of explanations the loop guard stopped, share of final texts that
still loop (target 0), median length in words, time to the first streamed text and to the end
(p50), and the share that name the function and mention its return value (an identifier of
a ``return`` expression). Not a timed test: figures from one run on this machine.

    python scripts/bench_actions.py --model embedded --model smollm2=PATH/SmolLM2-135M-Instruct.Q4_1.gguf
"""

from __future__ import annotations

import argparse
import json
import keyword
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tree_sitter_language_pack import get_parser  # noqa: E402

from slm_lsp.actions import core  # noqa: E402
from slm_lsp.actions.core import COULD_NOT_EXPLAIN  # noqa: E402
from slm_lsp.engine.local_engine import Engine  # noqa: E402
from slm_lsp.models.source import choose_model, materialise  # noqa: E402
from slm_lsp.postprocess.repetition import prose_repeats_from  # noqa: E402
from slm_lsp.privacy import PrivacyGate  # noqa: E402

SITE = Path(core.__file__).resolve().parents[2]
_FUNCTION_KINDS = {"function_definition", "function_declaration", "method_definition"}
_LANGUAGES = {".py": "python", ".js": "javascript", ".mjs": "javascript", ".c": "c"}
# Words of a return expression that say nothing about this function's value.
_NOT_A_VALUE = {word.lower() for word in keyword.kwlist} | {"null", "undefined", "new", "typeof", "void", "this", "self"}
# Debian packages whose -dev documentation ships complete C example programs.
_C_EXAMPLES = ("zlib1g-dev", "nettle-dev", "liblzma-dev", "libexpat1-dev")


@dataclass(frozen=True)
class Function:
    path: Path
    language: str
    text: str  # the whole file
    start: int  # character offsets of the function
    end: int
    name: str
    returns: frozenset[str]  # identifiers of its return expressions


def _sources() -> dict[str, list[Path]]:
    import packaging
    import pathspec

    modules = REPO / "editors" / "vscode" / "node_modules"
    return {
        "python": sorted([*Path(pathspec.__file__).parent.rglob("*.py"), *Path(packaging.__file__).parent.rglob("*.py")]),
        "javascript": sorted([*(modules / "mdurl" / "lib").glob("*.mjs"), *(modules / "semver" / "functions").glob("*.js"),
                              *(modules / "semver" / "classes").glob("*.js")]),
        "c": sorted(path for package in _C_EXAMPLES for path in Path("/usr/share/doc", package, "examples").glob("*.c")),
    }


def _name_node(node: object) -> object | None:
    """The identifier naming a function; in C it sits inside the (pointer) declarator."""
    name = node.child_by_field_name("name")  # type: ignore[attr-defined]
    declarator = node.child_by_field_name("declarator")  # type: ignore[attr-defined]
    while name is None and declarator is not None:
        if declarator.type == "identifier":
            return declarator
        declarator = declarator.child_by_field_name("declarator")
    return name


def _functions(path: Path) -> list[Function]:
    language = _LANGUAGES[path.suffix]
    text = path.read_text(encoding="utf-8", errors="replace")
    data = text.encode()
    tree = get_parser(language).parse(data)
    found: list[Function] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type not in _FUNCTION_KINDS:
            continue
        lines = node.end_point[0] - node.start_point[0] + 1
        name_node = _name_node(node)
        if not 4 <= lines <= 30 or name_node is None:
            continue
        body = data[node.start_byte:node.end_byte].decode()
        returns = frozenset(word for match in re.finditer(r"\breturn\s+([^\n;]+)", body)
                            for word in re.findall(r"[A-Za-z_]\w{2,}", match.group(1)) if word.lower() not in _NOT_A_VALUE)
        start = len(data[:node.start_byte].decode())
        found.append(Function(path, language, text, start, start + len(body), name_node.text.decode(), returns))
    return found


def pick(count: int, seed: int) -> list[Function]:
    """``count`` functions split evenly between the three languages, the same for the same seed."""
    rng = random.Random(seed)
    chosen: list[Function] = []
    sources = _sources()
    for language, paths in sources.items():
        pool = [function for path in paths for function in _functions(path)]
        if not pool:
            raise SystemExit(f"no {language} functions found (JavaScript: is editors/vscode/node_modules installed? "
                             f"C: are {', '.join(_C_EXAMPLES)} installed?)")
        rng.shuffle(pool)
        chosen += pool[: count // len(sources)]
    return chosen


def _says(word: str, text: str) -> bool:
    """``word`` appears in ``text`` as a whole identifier (``val`` is not in "value"), any case."""
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE) is not None


def explain_all(engine: Engine, functions: list[Function], workspace: Path) -> list[dict[str, object]]:
    gate = PrivacyGate([workspace])
    rows = []
    for number, function in enumerate(functions, 1):
        first: list[float] = []
        started = time.perf_counter()

        def streamed(text: str, first: list[float] = first, started: float = started) -> None:
            if text.strip() and not first:
                first.append(time.perf_counter() - started)

        document = core.Document(function.text, None, function.language, function.path.name)
        outcome = core.explain(engine, document, function.start, function.end, gate, on_text=streamed)
        total = time.perf_counter() - started
        text = outcome.text
        rows.append({
            "file": str(function.path.relative_to(SITE) if function.path.is_relative_to(SITE) else function.path),
            "language": function.language, "function": function.name, "stopReason": outcome.stop_reason,
            "guarded": outcome.stop_reason == "repetition", "couldNotExplain": text == COULD_NOT_EXPLAIN,
            "loopsInText": prose_repeats_from(text) is not None, "words": len(text.split()),
            "firstTextS": round(first[0], 2) if first else None, "totalS": round(total, 2),
            "namesFunction": _says(function.name, text),
            "mentionsReturn": any(_says(word, text) for word in function.returns),
            "hasReturn": bool(function.returns), "text": text,
        })
        print(f"\r  {number}/{len(functions)} {function.language} {function.name}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return rows


def summary(rows: list[dict[str, object]]) -> dict[str, object]:
    def share(key: str, among: list[dict[str, object]] | None = None) -> float:
        group = rows if among is None else among
        return round(sum(bool(row[key]) for row in group) / max(1, len(group)), 3)

    firsts = [row["firstTextS"] for row in rows if row["firstTextS"] is not None]
    with_return = [row for row in rows if row["hasReturn"]]
    return {
        "n": len(rows), "guardStopped": share("guarded"), "couldNotExplain": share("couldNotExplain"),
        "loopingTexts": share("loopsInText"), "medianWords": statistics.median(row["words"] for row in rows),
        "firstTextP50S": round(statistics.median(firsts), 2) if firsts else None,
        "totalP50S": round(statistics.median(row["totalS"] for row in rows), 2),
        "namesFunction": share("namesFunction"), "mentionsReturn": share("mentionsReturn", with_return),
        "withReturn": len(with_return),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", default=[], metavar="[LABEL=]MODEL",
                        help="'embedded', a GGUF path or a catalog name; repeat to compare (default: embedded)")
    parser.add_argument("--n", type=int, default=30, help="functions, split between Python, JavaScript, C")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, help="write every explanation and the summary as JSON")
    args = parser.parse_args()
    functions = pick(args.n, args.seed)
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as workspace:
        for spec in args.model or ["embedded"]:
            label, _, value = spec.rpartition("=")
            label = label or Path(value).stem
            path = materialise(choose_model(None if value == "embedded" else value))
            engine = Engine.load(path, n_ctx=4096, n_threads=args.threads, n_batch=256)
            print(f"{label}: {engine.name}", file=sys.stderr)
            rows = explain_all(engine, functions, Path(workspace))
            engine.close()
            results[label] = {"summary": summary(rows), "rows": rows}
            if args.out:  # after each model, so a long run that is stopped keeps what it measured
                args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print("| model | n | guard stopped | could not explain | texts that loop | median words | first text p50 | end p50 | names the function | mentions the return value |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, result in results.items():
        s = result["summary"]  # type: ignore[index]
        print(f"| {label} | {s['n']} | {s['guardStopped']:.0%} | {s['couldNotExplain']:.0%} | {s['loopingTexts']:.0%} | "
              f"{s['medianWords']} | {s['firstTextP50S']} s | {s['totalP50S']} s | {s['namesFunction']:.0%} | "
              f"{s['mentionsReturn']:.0%} of {s['withReturn']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
