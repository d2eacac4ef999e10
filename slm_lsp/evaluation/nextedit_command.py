"""``slm-lsp eval --next-edit --repo DIR``: score next-edit suggestions on a repository's history.

Needs no model for edit propagation. ``--next-edit-predictor zeta|sweep|auto`` also scores
the model predictor of a next-edit model (``--model``; ``auto``: the format its catalog entry
or name gives, else an error), on the first ``--model-cases`` cases; the main CLI loads the
model and passes it in (this package never imports the engine). Output is markdown (``--json`` for JSON; ``--out FILE`` writes the JSON
too) holding counts, rates and milliseconds only. Latency is the predictor's own time per
request (history lookup, two parses, matching), measured with ``perf_counter``.
Exit codes: 0 done, 2 usage error (not a git work tree, no usable commit).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from slm_lsp.evaluation.nextedit_history import ModelVariant, NextEditReport, evaluate_commit, mine
from slm_lsp.evaluation.progress import Progress
from slm_lsp.privacy import PrivacyGate

EXIT_OK, EXIT_USAGE = 0, 2
DEFAULT_COMMITS = 1000
DEFAULT_MODEL_CASES = 20
ModelFactory = Callable[[argparse.Namespace], ModelVariant | str]
"""Loads ``--model`` for ``--next-edit-predictor``: the variant, or a message saying why not."""


def add_next_edit_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("next-edit evaluation (--next-edit)")
    group.add_argument("--next-edit", action="store_true",
                       help="score next-edit suggestions on --repo's git history (--n: commits scanned, default 1000)")
    group.add_argument("--repo", type=Path, help="the git repository whose history --next-edit replays")
    group.add_argument("--multi-file", action="store_true",
                       help="also replay each file of commits that touch several files")
    group.add_argument("--next-edit-predictor", choices=("auto", "zeta", "sweep"),
                       help="also score the model predictor of --model in this format (auto: the model's own)")
    group.add_argument("--model-cases", type=int, default=DEFAULT_MODEL_CASES,
                       help=f"cases the model predictor is asked (default: {DEFAULT_MODEL_CASES}; it is slow)")


def run_next_edit(args: argparse.Namespace, model_factory: ModelFactory | None = None) -> int:
    repo = (args.repo or Path(".")).resolve()
    if not (repo / ".git").exists():
        print(f"slm-lsp eval: --repo {repo} is not a git work tree", file=sys.stderr)
        return EXIT_USAGE
    model: ModelVariant | None = None
    if getattr(args, "next_edit_predictor", None):
        loaded = model_factory(args) if model_factory is not None else "no model loader"
        if isinstance(loaded, str):
            print(f"slm-lsp eval: --next-edit-predictor: {loaded}", file=sys.stderr)
            return EXIT_USAGE
        model = loaded
    gate = PrivacyGate([repo])
    report = NextEditReport(repository=repo.name, multi_file=args.multi_file,
                            model_format=model.format if model else None)
    commits = list(mine(repo, gate, args.n or DEFAULT_COMMITS, report, multi_file=args.multi_file))
    progress = Progress(len(commits), "commits", enabled=not args.no_progress)
    for done, commit in enumerate(commits, start=1):
        evaluate_commit(commit, repo, gate, report, model=model)
        progress.update(done)
    progress.close()
    if not report.cases:
        print(f"slm-lsp eval: no commit of {repo.name} changes one file in two or more hunks", file=sys.stderr)
        return EXIT_USAGE
    data = report.as_dict()
    if args.out is not None:
        args.out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"report written to {args.out}", file=sys.stderr)
    print(json.dumps(data, indent=2) if args.json else markdown(data))
    return EXIT_OK


def markdown(data: dict[str, object]) -> str:
    rows = [
        f"# next-edit: {data['repository']}",
        "",
        f"{data['commitsUsed']} file changes used from {data['commitsScanned']} commits scanned "
        f"({'every file' if data['multiFile'] else 'one-file commits'} with 2+ hunks); {data['cases']} cases; "
        f"{data['filesRefusedByGate']} files refused by the privacy gate",
        "",
        "| predictor | answered | location hit | hit (any later hunk) | exact | exact (any) | p50 ms | p95 ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        _row("propagation", data),
        *([_row(f"model ({_get(data, 'model', 'format')}, {_get(data, 'model', 'cases')} cases)", data["model"])]
          if isinstance(data.get("model"), dict) else []),
        "",
        f"When it answers: location hit {_pct(_get(data, 'precision', 'locationHit'))}, "
        f"any later hunk {_pct(_get(data, 'precision', 'locationHitAny'))}, "
        f"exact (any) {_pct(_get(data, 'precision', 'exactMatchAny'))}.",
    ]
    if isinstance(data.get("model"), dict):
        model = data["model"]
        rows.append(f"Model generations: {model['stopReasons']} (stop/end: a complete answer; length: cut by the "
                    f"token budget, dropped; none: no prompt, e.g. no room in the context); prompt {model['promptTokensMean']} tokens, "
                    f"{model['generatedTokensMean']} generated (means).")
    by_role = data["byRole"]
    assert isinstance(by_role, dict)
    if by_role:
        rows.append("By role (answered / hit any / exact any): " + "; ".join(
            f"{role} {v['answered']} / {v['hitAny']} / {v['exactAny']}" for role, v in by_role.items()))
    return "\n".join(rows) + "\n"


def _row(name: str, data: object) -> str:
    assert isinstance(data, dict)
    latency = data["latencyMs"]
    return (f"| {name} | {_pct(data['coverage'])} | {_pct(data['locationHit'])} | {_pct(data['locationHitAny'])} "
            f"| {_pct(data['exactMatch'])} | {_pct(data['exactMatchAny'])} | {latency['p50']} | {latency['p95']} |")


def _get(data: dict[str, object], *keys: str) -> object:
    value: object = data
    for key in keys:
        assert isinstance(value, dict)
        value = value[key]
    return value


def _pct(value: object) -> str:
    return "–" if value is None else f"{float(value) * 100:.1f} %"  # type: ignore[arg-type]
