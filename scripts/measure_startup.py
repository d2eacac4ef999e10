"""Cold start and completion latency of a model through the real pipeline.

Prints, in one run: embedded-model assembly into an empty cache, model load, the first
completion (cold KV cache), and warm completions after one-character edits (prefix reuse).
Run: python scripts/measure_startup.py [--model PATH] [--file FILE]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from slm_lsp.config.settings import Settings
from slm_lsp.models.source import ModelChoice, choose_model, ensure_embedded_model
from slm_lsp.pipeline import CompletionRequest, Pipeline

SAMPLE = Path(__file__).resolve().parent.parent / "slm_lsp" / "pipeline.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="GGUF file (default: the embedded model)")
    parser.add_argument("--file", type=Path, default=SAMPLE, help="source file to complete in")
    parser.add_argument("--edits", type=int, default=5)
    args = parser.parse_args()
    choice = choose_model(args.model)
    if choice.is_embedded:
        with tempfile.TemporaryDirectory() as cache:
            started = time.perf_counter()
            path = ensure_embedded_model(Path(cache))
            print(f"assemble embedded model (empty cache): {time.perf_counter() - started:6.2f} s")
            run(ModelChoice(path, "explicit"), args)
    else:
        run(choice, args)


def run(choice: ModelChoice, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    pipeline = Pipeline.load(Settings(), choice)
    print(f"load model:                            {time.perf_counter() - started:6.2f} s  ({pipeline.engine.name})")
    text = args.file.read_text()
    cursor = text.index("\n", len(text) // 2)  # end of a line in the middle of the file
    started = time.perf_counter()
    result = pipeline.complete(CompletionRequest(text=text, offset=cursor, language="python"))
    print(f"first completion (cold cache):         {time.perf_counter() - started:6.2f} s  {result.timings}")
    warm = []
    for i in range(args.edits):
        text = text[:cursor] + "x" + text[cursor:]  # the user types one character
        cursor += 1
        started = time.perf_counter()
        result = pipeline.complete(CompletionRequest(text=text, offset=cursor, language="python"))
        warm.append(time.perf_counter() - started)
        if i == 0:
            print(f"warm completion after 1-char edit:     {warm[0]:6.2f} s  {result.timings}")
    print(f"warm completions over {args.edits} edits: median {statistics.median(warm):.2f} s, max {max(warm):.2f} s")


if __name__ == "__main__":
    main()
