"""Share of "Edit selection" rewrites that parse, on real functions from installed packages.

Ten functions (from the standard library and installed packages, chosen by name so the run is
repeatable) × three instructions ("add type hints", "rename X to Y" for the first parameter,
"handle the empty case"), through exactly the action the editor runs (``edit_selection``:
gate, prompt, code loop guard, re-parse). Per model: how many produce a proposal, how many
proposals parse, and the median time. Usage:

    python scripts/bench_edit.py [--actions-model GGUF] [--threads N] [--json]

Without ``--actions-model`` it uses the embedded model with completion-style prompts.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import statistics
import sys
import textwrap
import time
from collections import Counter

from slm_lsp.actions import core, edit
from slm_lsp.actions.model import ActionsModel
from slm_lsp.actions.privacy import make_gate
from slm_lsp.config.settings import Settings
from slm_lsp.models.source import choose_model
from slm_lsp.pipeline import Pipeline

FUNCTIONS = [
    "textwrap.dedent", "shlex.quote", "colorsys.rgb_to_hsv", "fnmatch.filter", "statistics.median",
    "string.capwords", "difflib.get_close_matches", "packaging.utils.canonicalize_name",
    "pathspec.util.normalize_file", "yaml.reader.Reader.peek",
]
INSTRUCTIONS = ["add type hints", "rename {param} to {param}_value", "handle the empty case"]


def source_of(dotted: str) -> str:
    module_name, _, attr = dotted.rpartition(".")
    try:
        target = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        module_name, _, cls = module_name.rpartition(".")
        target = getattr(getattr(importlib.import_module(module_name), cls), attr)
    return textwrap.dedent(inspect.getsource(target))


def first_param(code: str) -> str:
    inside = code[code.index("(") + 1 : code.index(")")]
    names = [p.strip().split(":")[0].split("=")[0].strip("* ") for p in inside.split(",")]
    names = [n for n in names if n and n not in ("self", "cls")]
    return names[0] if names else "x"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions-model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", help="comma-separated subset of the functions (a slow model on a busy machine)")
    args = parser.parse_args()
    settings = Settings().replace({"n_threads": args.threads, **({"actions_model": args.actions_model} if args.actions_model else {})})
    engine = ActionsModel().engine_for(settings, Pipeline.load(settings, choose_model(settings.model)).engine)
    gate = make_gate([])
    outcomes: Counter[str] = Counter()
    seconds: list[float] = []
    rows = []
    for dotted in args.only.split(",") if args.only else FUNCTIONS:
        code = source_of(dotted)
        document = core.Document(code, None, "python", dotted.rsplit(".", 1)[-1] + ".py")
        for template in INSTRUCTIONS:
            instruction = template.format(param=first_param(code))
            started = time.perf_counter()
            try:
                result = edit.edit_selection(engine, document, 0, len(code), instruction, gate)
                kind = "parses" if result.parses else "does not parse"
            except core.ActionError as exc:
                kind = f"no proposal: {exc}"
            seconds.append(time.perf_counter() - started)
            outcomes[kind] += 1
            rows.append({"function": dotted, "instruction": instruction, "outcome": kind, "seconds": round(seconds[-1], 2)})
            print(f"{dotted:40} {instruction:40} {kind} ({seconds[-1]:.1f} s)", file=sys.stderr)
    total = len(rows)
    summary = {"model": engine.name, "cases": total, "parses": outcomes["parses"],
               "does_not_parse": outcomes["does not parse"],
               "no_proposal": {k: v for k, v in outcomes.items() if k.startswith("no proposal")},
               "median_seconds": round(statistics.median(seconds), 2)}
    if args.json:
        print(json.dumps({"summary": summary, "rows": rows}, indent=1))
    else:
        print(f"{engine.name}: {summary['parses']}/{total} rewrites parse, {summary['does_not_parse']} do not, "
              f"{total - summary['parses'] - summary['does_not_parse']} no proposal; median {summary['median_seconds']} s")
        for kind, count in summary["no_proposal"].items():
            print(f"  {count} × {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
