"""Benchmark the context engine on a real-sized workspace (not a timed test).

Reports, for a generated workspace of ~2,000 source files (or ``--workspace DIR``):

* index build time and memory (traced Python allocations kept by the index, and RSS growth),
* incremental update time per save (re-indexing an edited open document),
* disk-event latency (file changed on disk -> visible in the index),
* context assembly p50/p95 per request (random cursors) and per keystroke (typing in one file),
  with a regex tokenizer and, when llama-cpp-python is installed, Qwen2.5-Coder's real vocabulary.

The exact-match gain from cross-file context needs a model: ``build_cross_file_cases`` and
``measure_cross_file_exact_match`` are the hook, and ``--exact-match MODEL.gguf`` runs them with
slm_lsp's engine and prompt builder (completion with vs without the definitions, same model).

    python scripts/bench_context.py                       # generated workspace, 2,000 files
    python scripts/bench_context.py --workspace ~/src/proj
    python scripts/bench_context.py --workspace ~/src/proj --exact-match model.gguf --cases 200
"""

from __future__ import annotations

import argparse
import gc
import gzip
import os
import random
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from slm_lsp.context import ContextEngine, ContextResult
from slm_lsp.context.imports import extract_facts
from slm_lsp.context.languages import grammar_for_path
from slm_lsp.context.syntax import parse
from slm_lsp.privacy import PrivacyGate

VOCAB = REPO / "tests" / "data" / "vocab" / "ggml-vocab-qwen2.gguf.gz"
Count = Callable[[str], int]
_TOKEN = re.compile(r"[A-Za-z0-9_]+|\s+|[^\sA-Za-z0-9_]")


# -- a generated workspace -------------------------------------------------------------------------

_WORDS = ("order", "item", "price", "user", "account", "cache", "record", "stock", "report", "event", "queue",
          "token", "session", "invoice", "shipment", "ledger", "vendor", "budget", "metric", "schedule")


def _name(rng: random.Random, parts: int = 2) -> str:
    return "_".join(rng.choice(_WORDS) for _ in range(parts))


def _python_module(rng: random.Random, index: int, modules: list[tuple[str, list[str]]]) -> tuple[str, list[str]]:
    """A Python module that imports a few names from earlier modules and defines its own."""
    lines = ['"""Generated module."""', "", "from __future__ import annotations", ""]
    used: list[str] = []
    for module, names in rng.sample(modules, min(len(modules), rng.randint(1, 4))):
        picked = rng.sample(names, min(len(names), rng.randint(1, 3)))
        lines.append(f"from {module} import {', '.join(picked)}")
        used += picked
    lines.append("")
    defined: list[str] = []
    for k in range(rng.randint(3, 9)):
        if rng.random() < 0.3:
            cls = f"{_name(rng).title().replace('_', '')}{index}x{k}"
            defined.append(cls)
            lines += [f"class {cls}:", f'    """A {cls} record."""', "", "    def __init__(self, value: int) -> None:",
                      "        self.value = value", ""]
            for m in range(rng.randint(2, 6)):
                steps = [f"        amount = amount * {rng.randint(2, 9)} + self.value"
                         for _ in range(rng.randint(1, 6))]
                lines += [f"    def {_name(rng)}_{m}(self, amount: int) -> int:", *steps, "        return amount", ""]
        else:
            fn = f"{_name(rng)}_{index}_{k}"
            defined.append(fn)
            args = ", ".join(_name(rng, 1) + str(a) for a in range(rng.randint(1, 4)))
            body = [f"    result = {rng.choice(used) + '(1)' if used and rng.random() < 0.5 else rng.randint(0, 99)}"]
            body += [f"    result = result + {rng.randint(1, 9)}" for _ in range(rng.randint(2, 20))]
            lines += [f"def {fn}({args}):", f'    """Compute {fn}."""', *body, "    return result", "", ""]
    return "\n".join(lines) + "\n", defined


def _ts_module(rng: random.Random, index: int, modules: list[tuple[str, list[str]]]) -> tuple[str, list[str]]:
    lines = []
    for module, names in rng.sample(modules, min(len(modules), rng.randint(1, 3))):
        lines.append(f"import {{ {', '.join(rng.sample(names, min(2, len(names))))} }} from '{module}';")
    defined = []
    for k in range(rng.randint(3, 8)):
        fn = f"{_name(rng).replace('_', '')}{index}x{k}"
        defined.append(fn)
        lines += [f"export function {fn}(input: number, scale: number): number {{",
                  *(f"  input = input * scale + {rng.randint(1, 9)};" for _ in range(rng.randint(2, 15))),
                  "  return input;", "}", ""]
    return "\n".join(lines) + "\n", defined


def _go_file(rng: random.Random, package: str, index: int, imports: list[str]) -> str:
    lines = [f"package {package}", ""]
    if imports:
        lines += ["import (", *(f'\t"example.com/bench/{p}"' for p in imports), ")", ""]
    for k in range(rng.randint(3, 8)):
        lines += [f"// {_name(rng).title()}{index}x{k} does work.",
                  f"func {_name(rng).title().replace('_', '')}{index}x{k}(n int) int {{",
                  *(f"\tn = n*{rng.randint(2, 9)} + {rng.randint(1, 9)}" for _ in range(rng.randint(2, 12))),
                  "\treturn n", "}", ""]
    if imports:
        lines += ["var _ = " + f"{imports[0].rsplit('/', 1)[-1]}.Placeholder", ""]
    lines += ["const Placeholder = 1", ""] if index % 7 == 0 else []
    return "\n".join(lines)


def generate_workspace(root: Path, files: int, seed: int = 7) -> Path:
    """About ``files`` source files: 70% Python packages, 20% TypeScript, 10% Go, with imports."""
    rng = random.Random(seed)
    py_modules: list[tuple[str, list[str]]] = []
    py_count, ts_count = int(files * 0.7), int(files * 0.2)
    go_count = files - py_count - ts_count
    for i in range(py_count):
        package, module = f"pkg_{i // 40:02}", f"mod_{i % 40:02}"
        path = root / "src" / package / f"{module}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        text, names = _python_module(rng, i, py_modules[-200:] if py_modules else [])
        path.write_text(text)
        py_modules.append((f"{package}.{module}", names))
    ts_modules: list[tuple[str, list[str]]] = []  # (specifier relative to a sibling folder, names)
    for i in range(ts_count):
        path = root / "web" / f"feature{i // 25:02}" / f"part{i % 25:02}.ts"
        path.parent.mkdir(parents=True, exist_ok=True)
        text, names = _ts_module(rng, i, ts_modules[-100:])
        path.write_text(text)
        ts_modules.append((f"../feature{i // 25:02}/part{i % 25:02}", names))
    (root / "go.mod").write_text("module example.com/bench\n\ngo 1.22\n")
    packages: list[str] = []
    for i in range(go_count):
        package = f"svc{i // 10:02}"
        path = root / "internal" / package / f"file{i % 10:02}.go"
        path.parent.mkdir(parents=True, exist_ok=True)
        imports = [f"internal/{p}" for p in rng.sample(packages, min(2, len(packages)))] if packages else []
        path.write_text(_go_file(rng, package, i, imports))
        if package not in packages:
            packages.append(package)
    return root


# -- tokenizers ------------------------------------------------------------------------------------


def regex_count(text: str) -> int:
    return len(_TOKEN.findall(text))


def qwen_count() -> Count | None:
    """Token counts with Qwen2.5-Coder's real vocabulary through llama.cpp, if available."""
    try:
        import llama_cpp
    except ImportError:
        return None
    if not VOCAB.exists():
        return None
    path = Path(tempfile.mkdtemp()) / "qwen2-vocab.gguf"
    path.write_bytes(gzip.decompress(VOCAB.read_bytes()))
    model = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    return lambda text: len(model.tokenize(text.encode("utf-8", "surrogatepass"), add_bos=False, special=False))


# -- measurements ----------------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build_index(root: Path, trace: bool) -> tuple[ContextEngine, float, float | None]:
    """A fully indexed engine, the build's wall time, and (if traced) the bytes it keeps."""
    gc.collect()
    if trace:
        tracemalloc.start()
    began = time.perf_counter()
    engine = ContextEngine([root], PrivacyGate([root]))
    engine.start_indexing()
    assert engine.wait_until_indexed(600), "indexing did not finish"
    elapsed = time.perf_counter() - began
    kept = None
    if trace:
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] / 1e6
        tracemalloc.stop()
    return engine, elapsed, kept


def source_files(engine: ContextEngine) -> list[Path]:
    return sorted(engine.index.paths())


def bench_saves(engine: ContextEngine, files: list[Path], rng: random.Random, samples: int) -> list[float]:
    """Per save: an open document edited, then re-indexed (what the idle indexer does)."""
    times = []
    for path in rng.sample(files, min(samples, len(files))):
        text = path.read_text()
        uri = path.as_uri()
        engine.document_opened(uri, text, None)
        engine.index_open_documents(quiet=0.0)
        engine.document_changed(uri, text + "\n\ndef added_by_benchmark(x):\n    return x\n")
        engine.document_saved(uri)
        began = time.perf_counter()
        engine.index_open_documents(quiet=0.0)
        times.append((time.perf_counter() - began) * 1000)
        engine.document_closed(uri)
    engine.wait_until_indexed(60)
    return times


def bench_disk_events(engine: ContextEngine, files: list[Path], rng: random.Random, samples: int) -> list[float]:
    """File changed on disk + watcher event -> the new definition is in the index."""
    times = []
    for path in rng.sample(files, min(samples, len(files))):
        original = path.read_text()
        marker = f"bench_marker_{rng.randint(0, 1 << 30)}"
        grammar = grammar_for_path(path)
        addition = {"python": f"\n\ndef {marker}():\n    pass\n", "go": f"\nfunc {marker}() {{}}\n"}.get(
            grammar or "", f"\nexport function {marker}() {{}}\n")
        path.write_text(original + addition)
        began = time.perf_counter()
        engine.file_events([(path.as_uri(), "changed")])
        while not any(s.name == marker for s in (engine.index.get(path) or _EMPTY).symbols):
            time.sleep(0.0005)
        times.append((time.perf_counter() - began) * 1000)
        path.write_text(original)
        engine.file_events([(path.as_uri(), "changed")])
    engine.wait_until_indexed(60)
    return times


@dataclass
class _Empty:
    symbols: tuple[()] = ()


_EMPTY = _Empty()


@dataclass
class Timed:
    """Wall-clock and this thread's CPU milliseconds per call (CPU time is what load does not inflate)."""

    wall: list[float]
    cpu: list[float]

    def __init__(self) -> None:
        self.wall, self.cpu = [], []

    def run(self, action: Callable[[], object]) -> object:
        wall, cpu = time.perf_counter(), time.thread_time()
        value = action()
        self.cpu.append((time.thread_time() - cpu) * 1000)
        self.wall.append((time.perf_counter() - wall) * 1000)
        return value

    def summary(self, label: str) -> str:
        return f"{summary(label, self.wall)}\n    same, CPU time of the calling thread: {summary('', self.cpu)[2:]}"


def bench_requests(engine: ContextEngine, files: list[Path], rng: random.Random, count: Count, samples: int,
                   budget: int) -> tuple[Timed, list[ContextResult]]:
    """Context assembly at random line ends of random files."""
    timed, results = Timed(), []
    for path in rng.choices(files, k=samples):
        text = path.read_text()
        ends = [m.start() for m in re.finditer("\n", text)] or [len(text)]
        offset = rng.choice(ends)
        results.append(timed.run(lambda: engine.assemble(path.as_uri(), text, offset, None,  # noqa: B023
                                                         count_tokens=count, budget_tokens=budget)))
    return timed, results  # type: ignore[return-value]


def bench_typing(engine: ContextEngine, files: list[Path], rng: random.Random, count: Count, keystrokes: int,
                 budget: int) -> Timed:
    """Typing in the middle of a large file: one request per keystroke, with document changes."""
    path = max(rng.sample(files, min(50, len(files))), key=lambda p: p.stat().st_size)
    text = path.read_text()
    uri = path.as_uri()
    offset = text.index("\n", len(text) // 2) + 1
    engine.document_opened(uri, text, None)
    typed = "    total = compute_value(first, second) + other_value\n" * (keystrokes // 50 + 1)
    timed = Timed()
    for char in typed[:keystrokes]:
        text = text[:offset] + char + text[offset:]
        offset += 1
        engine.document_changed(uri, text)
        timed.run(lambda: engine.assemble(uri, text, offset, None, count_tokens=count,  # noqa: B023
                                          budget_tokens=budget))
    engine.document_closed(uri)
    return timed


def summary(label: str, values: Sequence[float], unit: str = "ms") -> str:
    if not values:
        return f"{label}: n=0"
    return (f"{label}: n={len(values)} p50={percentile(values, 0.5):.2f}{unit} "
            f"p95={percentile(values, 0.95):.2f}{unit} max={max(values):.2f}{unit}")


# -- the exact-match hook (needs a model; the lead runs it) ----------------------------------------


@dataclass(frozen=True)
class CrossFileCase:
    """A line that calls a definition imported from another workspace file, cut after the ``(``."""

    path: Path
    text: str
    offset: int
    expected: str  # the rest of the line


Complete = Callable[[CrossFileCase, ContextResult, bool], str]
"""(case, context, use_extras) -> the model's completion of the line (without the newline)."""


def build_cross_file_cases(engine: ContextEngine, limit: int, seed: int = 1) -> list[CrossFileCase]:
    """Call sites of names imported by name from other workspace files (``from m import f`` ... ``f(``)."""
    rng = random.Random(seed)
    cases: list[CrossFileCase] = []
    for path in rng.sample(source_files(engine), len(source_files(engine))):
        grammar = grammar_for_path(path)
        if grammar is None:
            continue
        text = path.read_text()
        parsed = parse(text, grammar)
        if parsed is None:
            continue
        imported = {local for imp in extract_facts(parsed).imports
                    for target in engine.resolver.resolve(imp, path, grammar)
                    for original, local in target.names if engine.resolver.definitions(target.path, original)}
        for name in imported:
            for match in re.finditer(rf"(?<![\w.]){re.escape(name)}\(", text):
                line_start = text.rfind("\n", 0, match.start()) + 1
                if re.match(r"\s*(from|import|def|class)\b", text[line_start:match.start()]):
                    continue
                line_end = text.find("\n", match.end())
                expected = text[match.end(): len(text) if line_end < 0 else line_end].rstrip()
                if expected:
                    cases.append(CrossFileCase(path, text, match.end(), expected))
                break
        if len(cases) >= limit:
            break
    return cases[:limit]


def measure_cross_file_exact_match(engine: ContextEngine, cases: Sequence[CrossFileCase], complete: Complete,
                                   count: Count, budget: int) -> dict[str, float]:
    """Exact match of line completions with and without the cross-file definitions (same
    prefix/suffix). The discordant pairs (right only with / only without) say whether the
    gain is more than noise: a sign test on them is the paired comparison."""
    hits = {"with": 0, "without": 0, "only_with": 0, "only_without": 0}
    for case in cases:
        document = case.text[: case.offset] + case.text[case.text.find("\n", case.offset):]  # the line's rest removed
        context = engine.assemble(case.path.as_uri(), document, case.offset, None, count_tokens=count,
                                  budget_tokens=budget)
        right = {label: complete(case, context, use_extras).strip() == case.expected.strip()
                 for label, use_extras in (("with", True), ("without", False))}
        hits["with"] += right["with"]
        hits["without"] += right["without"]
        hits["only_with"] += right["with"] and not right["without"]
        hits["only_without"] += right["without"] and not right["with"]
    n = max(len(cases), 1)
    return {"cases": len(cases), "exact_match_with": hits["with"] / n, "exact_match_without": hits["without"] / n,
            "gain": (hits["with"] - hits["without"]) / n, "right_only_with": hits["only_with"],
            "right_only_without": hits["only_without"]}


def model_completer(model_path: Path, n_ctx: int = 4096) -> tuple[Complete, Count]:
    """A ``Complete`` using slm_lsp's engine and prompt builder (adapt here if their APIs change)."""
    from slm_lsp.engine.local_engine import Engine
    from slm_lsp.prompt.builder import PromptParts, Snippet, build_prompt

    model = Engine.load(model_path, n_ctx=n_ctx)

    def complete(case: CrossFileCase, context: ContextResult, use_extras: bool) -> str:
        snippets = [Snippet(str(piece.source), piece.text) for piece in context.extras if use_extras]
        parts = PromptParts(prefix=context.prefix.text, suffix=context.suffix.text, snippets=snippets,
                            path=context.path, language=grammar_for_path(case.path))
        ids = build_prompt(model.fim, model.tokenize, parts)
        return model.generate(ids, max_tokens=48, stop=["\n"]).text.split("\n", 1)[0]

    return complete, model.count_tokens


# -- main ------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, help="an existing workspace instead of a generated one")
    parser.add_argument("--files", type=int, default=2000, help="files to generate (default 2000)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--budget", type=int, default=2048, help="prompt tokens for prefix+suffix+extras")
    parser.add_argument("--exact-match", type=Path, metavar="MODEL", help="measure exact-match gain with this GGUF")
    parser.add_argument("--cases", type=int, default=100)
    args = parser.parse_args(argv)
    rng = random.Random(11)

    with tempfile.TemporaryDirectory() as scratch:
        root = (args.workspace or generate_workspace(Path(scratch) / "ws", args.files)).resolve()
        before = rss_mb()
        engine, seconds, _ = build_index(root, trace=False)
        grown = rss_mb() - before
        stats = engine.stats()
        print(f"workspace: {root} ({engine.indexer.stats.seen} files seen)")
        print(f"index build: {seconds:.2f}s for {stats.files} files, {stats.symbols} symbols "
              f"({stats.files / seconds:.0f} files/s); RSS growth {grown:.0f} MB; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        engine.shutdown()
        traced_engine, traced_seconds, kept = build_index(root, trace=True)
        assert kept is not None
        print(f"index memory (tracemalloc, kept after build): {kept:.1f} MB "
              f"({kept * 1e3 / max(stats.files, 1):.1f} KB/file); traced build took {traced_seconds:.2f}s")
        traced_engine.shutdown()
        del traced_engine
        gc.collect()

        engine, _, _ = build_index(root, trace=False)
        files = source_files(engine)
        print(summary("incremental update per save (re-index an edited open document)",
                      bench_saves(engine, files, rng, 100)))
        if args.workspace is None:
            print(summary("disk change -> visible in index (watcher event path)",
                          bench_disk_events(engine, files, rng, 50)))
        counters: list[tuple[str, Count]] = [("regex tokenizer", regex_count)]
        real = qwen_count()
        if real is not None:
            counters.append(("Qwen2.5-Coder tokenizer (llama.cpp)", real))
        for label, count in counters:
            bench_requests(engine, files, rng, count, 30, args.budget)  # warm-up: parsers, memo
            timed, results = bench_requests(engine, files, rng, count, args.requests, args.budget)
            extras = statistics.mean(len(r.extras) for r in results)
            used = statistics.mean(sum(r.tokens[k] for k in ("prefix", "suffix", "definitions", "recent"))
                                   for r in results)
            print(timed.summary(f"assemble, random cursors, {label}, budget {args.budget}")
                  + f" (mean {extras:.1f} extras, {used:.0f} tokens used)")
            print(bench_typing(engine, files, rng, count, 200, args.budget).summary(
                f"assemble per keystroke, {label}"))
        if args.exact_match is not None:
            complete, model_count = model_completer(args.exact_match)
            cases = build_cross_file_cases(engine, args.cases)
            print("exact match:", measure_cross_file_exact_match(engine, cases, complete, model_count, args.budget))
        engine.shutdown()


if __name__ == "__main__":
    main()
