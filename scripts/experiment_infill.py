"""Issue 20 groundwork: does the suffix help a prefix-only model? Candidates ranked by the suffix,
a suffix extract as context, and confidence gating, measured on HumanEval infilling.

``run`` drives the real completion pipeline (gate → context → prompt → post-process) with an
experiment engine: its own llama.cpp context on the same GGUF (low-level API, several KV
sequences on a unified cache), which for every request computes

* the greedy line (what the product shows today: variant a),
* k-1 alternatives branched at the first non-whitespace token (top-k there, each
  continued greedily, decoded in lock-step; the shared prompt is copied with
  ``llama_memory_seq_cp``, never re-evaluated),
* for each distinct candidate the log-probabilities of the first ``--score-tokens`` tokens
  of the text after the cursor given prompt + candidate (one batch for all candidates;
  the candidate's KV is reused, only its last token is re-decoded for its logits),

for the pipeline's own prompt (family P, prefix-only as ``slm-lsp eval`` builds it) and for
the same prompt with ``suffix_rank.suffix_extract`` inserted after BOS (family C). Every
candidate goes through the pipeline's post-processing (the engine is asked once per
candidate) and the sandboxed HumanEval tests, so any selection rule can be scored
afterwards without touching the model again. ``report`` prints the tables.

    python scripts/experiment_infill.py run --set single --n 200 --seed 0 --out /tmp/infill.jsonl
    python scripts/experiment_infill.py report /tmp/infill.jsonl

Timings come from one thread (``--threads 1``) on whatever machine runs it: label them.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import llama_cpp
import numpy as np

from slm_lsp.config.settings import DETERMINISTIC, Settings
from slm_lsp.engine.local_engine import Generation, Timings, first_stop, vocab_facts
from slm_lsp.engine.result_cache import LRU
from slm_lsp.evaluation import load_problems, run_program
from slm_lsp.evaluation import select as select_problems
from slm_lsp.evaluation.compare import sign_test
from slm_lsp.evaluation.gating import gating_curve
from slm_lsp.models.gguf_file import read_gguf_info
from slm_lsp.models.source import ensure_embedded_model
from slm_lsp.pipeline import CompletionRequest, Pipeline
from slm_lsp.prompt import suffix_rank as sr
from slm_lsp.prompt.fim import detect_format

N_BATCH = 512
TOP = 8  # alternatives remembered per greedy step


class Model:
    """The experiment's own llama.cpp context: raw decode calls with per-sequence positions."""

    def __init__(self, path: Path, threads: int, n_ctx: int, n_seq: int) -> None:
        with contextlib.redirect_stderr(io.StringIO()):
            self.llm = llama_cpp.Llama(model_path=str(path), n_ctx=512, n_threads=1, verbose=False, use_mmap=False)
        params = llama_cpp.llama_context_default_params()
        params.n_ctx, params.n_batch, params.n_ubatch = n_ctx, N_BATCH, 256
        params.n_seq_max, params.kv_unified, params.swa_full = n_seq, True, True
        params.n_threads = params.n_threads_batch = threads
        self.ctx = llama_cpp.llama_init_from_model(self.llm.model, params)
        self.mem = llama_cpp.llama_get_memory(self.ctx)
        self.vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.batch = llama_cpp.llama_batch_init(N_BATCH, 0, 1)
        self.decoded_tokens = 0  # every token sent through the model, for cost accounting

    def tokenize(self, text: str) -> list[int]:
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)) if text else []

    def detokenize(self, ids: Sequence[int]) -> str:
        return self.llm.detokenize(list(ids)).decode("utf-8", errors="ignore")

    def is_end(self, token: int) -> bool:
        return bool(llama_cpp.llama_vocab_is_eog(self.vocab, token))

    def decode(self, items: Sequence[tuple[int, int, int, bool]]) -> list[np.ndarray]:
        """Decode (token, position, sequence, want_logits) items; the log-softmax of each wanted one."""
        out: list[np.ndarray] = []
        for start in range(0, len(items), N_BATCH):
            chunk = items[start : start + N_BATCH]
            batch = self.batch
            batch.n_tokens = len(chunk)
            for i, (token, pos, seq, logits) in enumerate(chunk):
                batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, pos, 1
                batch.seq_id[i][0], batch.logits[i] = seq, 1 if logits else 0
            if llama_cpp.llama_decode(self.ctx, batch) != 0:
                raise RuntimeError("llama_decode failed")
            self.decoded_tokens += len(chunk)
            for i, (_, _, _, logits) in enumerate(chunk):
                if logits:
                    row = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self.ctx, i), shape=(self.n_vocab,))
                    top = float(row.max())
                    out.append(row - (top + math.log(float(np.exp(row - top).sum()))))
        return out

    def seq_rm(self, seq: int, start: int) -> None:
        llama_cpp.llama_memory_seq_rm(self.mem, seq, start, -1)

    def seq_cp(self, src: int, dst: int, end: int) -> None:
        llama_cpp.llama_memory_seq_cp(self.mem, src, dst, 0, end)


@dataclass
class Run:
    """One candidate's decode: tokens, where it stopped, what is in its KV sequence."""

    seq: int
    tokens: list[int]  # generated, including the token that ended it
    logprobs: list[float]
    text: str = ""
    reason: str = ""
    decoded: int = 0  # generated tokens in the KV sequence
    branch: int = 0
    top: list[list[tuple[int, float]]] = field(default_factory=list)  # per step, greedy only



class Family:
    """A prompt family (P: pipeline prompt, C: with the suffix extract) on seqs base..base+k-1."""

    def __init__(self, name: str, base: int, k: int) -> None:
        self.name, self.base, self.k = name, base, k
        self.cached: list[int] = []


class Searcher:
    """Greedy + branched alternatives + suffix scoring, counting tokens and seconds per phase."""

    def __init__(self, model: Model, control: set[int], k: int, score_tokens: int, alt_max_tokens: int) -> None:
        self.m, self.control, self.k, self.score_tokens = model, control, k, score_tokens
        self.alt_max_tokens = alt_max_tokens  # alternatives are bounded harder than the greedy line

    def search(self, fam: Family, ids: list[int], max_tokens: int, stops: Sequence[str], after: str) -> dict[str, Any]:
        m, cost = self.m, {}
        t0 = time.perf_counter()
        keep = 0
        for a, b in zip(fam.cached, ids[:-1]):
            if a != b:
                break
            keep += 1
        for s in range(fam.base, fam.base + fam.k):
            m.seq_rm(s, keep if s == fam.base else 0)
        start_tokens = m.decoded_tokens
        first = m.decode([(t, keep + i, fam.base, keep + i == len(ids) - 1) for i, t in enumerate(ids[keep:])])[-1]
        fam.cached = list(ids)
        cost["prompt_tokens"], cost["prompt_s"] = m.decoded_tokens - start_tokens, time.perf_counter() - t0

        t1 = time.perf_counter()
        greedy = Run(fam.base, [], [])
        self._greedy(greedy, first, len(ids), max_tokens, stops)
        cost["greedy_tokens"], cost["greedy_s"] = greedy.decoded, time.perf_counter() - t1

        t2 = time.perf_counter()
        before = m.decoded_tokens
        runs = [greedy, *self._alternatives(fam, greedy, len(ids), min(max_tokens, self.alt_max_tokens), stops)]
        cost["alt_tokens"], cost["alt_s"] = m.decoded_tokens - before, time.perf_counter() - t2

        return {"runs": runs, "cost": cost}

    def score(self, fam: Family, ids: list[int], runs: list[Run], texts: list[str], after: str) -> dict[str, Any]:
        """Log p of the final texts' own tokens and of the first suffix tokens after each, all
        candidates in one batch; a candidate's KV is reused up to where its text's tokens
        stop matching the generated ones (one token is always re-decoded for its logits)."""
        m = self.m
        t = time.perf_counter()
        before = m.decoded_tokens
        suffix_ids = m.tokenize(after)[: self.score_tokens]
        items: list[tuple[int, int, int, bool]] = []
        plans = []
        base_valid = len(ids)
        for run, text in zip(runs, texts):
            tail = m.tokenize(text)
            common = 0
            for a, b in zip(tail, run.tokens):
                if a != b:
                    break
                common += 1
            full = [*ids, *tail]
            redo = min(len(ids) + min(common, run.decoded), len(full)) - 1
            m.seq_rm(run.seq, redo)
            if run.seq == fam.base:
                base_valid = redo
            seq_items = [(tok, redo + i, run.seq, True) for i, tok in enumerate([*full[redo:], *suffix_ids])]
            seq_items[-1] = (*seq_items[-1][:3], False)
            plans.append((len(items), redo, full, tail, common))
            items += seq_items
        rows = m.decode(items)
        wanted = [i for i, item in enumerate(items) if item[3]]
        row_of = {item_index: row for item_index, row in zip(wanted, rows)}
        out = []
        for (start, redo, full, tail, common), run in zip(plans, runs):
            sequence = [*full, *suffix_ids]

            def lp(index: int, start: int = start, redo: int = redo, sequence: list[int] = sequence) -> float:
                """log p of sequence[index] given sequence[:index] (the row of the item before it)."""
                return float(row_of[start + index - 1 - redo][sequence[index]])

            own = [*run.logprobs[:common], *(lp(len(ids) + i) for i in range(common, len(tail)))]
            out.append((own, [lp(len(full) + j) for j in range(len(suffix_ids))]))
        fam.cached = ids[: min(len(ids), base_valid)]
        cost = {"score_tokens": m.decoded_tokens - before, "score_s": time.perf_counter() - t}
        return {"scored": out, "cost": cost}

    def _step(self, run: Run, logprobs: np.ndarray, stops: Sequence[str], max_tokens: int, remember_top: bool) -> bool:
        """Append the argmax of ``logprobs`` to ``run``; True when the run is finished."""
        token = int(np.argmax(logprobs))
        if remember_top:
            best = np.argpartition(-logprobs, TOP)[:TOP]
            best = best[np.argsort(-logprobs[best])]
            run.top.append([(int(t), float(logprobs[t])) for t in best])
        return self._append(run, token, float(logprobs[token]), stops, max_tokens)

    def _append(self, run: Run, token: int, lp: float, stops: Sequence[str], max_tokens: int) -> bool:
        run.tokens.append(token)
        run.logprobs.append(lp)
        if self.m.is_end(token) or token in self.control:
            run.reason = "end"
            run.text = self.m.detokenize(run.tokens[:-1])
            return True
        text = self.m.detokenize(run.tokens)
        cut = first_stop(text, stops)
        if cut is not None:
            run.reason, run.text = "stop", text[:cut]
            return True
        run.text = text
        if len(run.tokens) >= max_tokens:
            run.reason = "length"
            return True
        return False

    def _greedy(self, run: Run, first: np.ndarray, n_prompt: int, max_tokens: int, stops: Sequence[str]) -> None:
        logprobs = first
        while not self._step(run, logprobs, stops, max_tokens, remember_top=True):
            (logprobs,) = self.m.decode([(run.tokens[-1], n_prompt + len(run.tokens) - 1, run.seq, True)])
            run.decoded = len(run.tokens)
        pieces = [self.m.detokenize([t]) for t in run.tokens]
        run.branch = next((i for i, p in enumerate(pieces) if p.strip() or i == len(pieces) - 1), 0)

    def _alternatives(self, fam: Family, greedy: Run, n_prompt: int, max_tokens: int, stops: Sequence[str]) -> list[Run]:
        b = greedy.branch
        if b >= len(greedy.top):
            return []
        options = [(t, lp) for t, lp in greedy.top[b] if t != greedy.tokens[b]][: fam.k - 1]
        runs, active = [], []
        for offset, (token, lp) in enumerate(options, start=1):
            run = Run(fam.base + offset, list(greedy.tokens[:b]), list(greedy.logprobs[:b]), branch=b)
            self.m.seq_cp(fam.base, run.seq, n_prompt + b)
            run.decoded = b
            runs.append(run)
            if not self._append(run, token, lp, stops, max_tokens):
                active.append(run)
        while active:
            items = [(r.tokens[-1], n_prompt + len(r.tokens) - 1, r.seq, True) for r in active]
            rows = self.m.decode(items)
            still = []
            for run, row in zip(active, rows):
                run.decoded = len(run.tokens)
                if not self._step(run, row, stops, max_tokens, remember_top=False):
                    still.append(run)
            active = still
        return runs


class ExperimentEngine:
    """What the Pipeline sees as its engine: answers ``generate`` with the picked candidate."""

    def __init__(self, model: Model, searcher: Searcher, fim: Any, name: str, families: dict[str, Family]) -> None:
        self.m, self.searcher, self.fim, self.name, self.families = model, searcher, fim, name, families
        self.speed = SimpleNamespace(decode_tps=None, prompt_tps=None)
        self.family, self.pick, self.after, self.block = "P", 0, "", ""
        self.result: dict[str, Any] | None = None
        self._key: tuple[Any, ...] | None = None

    def tokenize(self, text: str) -> list[int]:
        return self.m.tokenize(text)

    def count_tokens(self, text: str) -> int:
        return len(self.m.tokenize(text))

    def generate(self, ids: Sequence[int], *, max_tokens: int, stop: Sequence[str] = (), **_: Any) -> Generation:
        ids = list(ids)
        if self.family == "C":
            block = self.m.tokenize(self.block)
            head = 1 if self.fim.bos is not None and ids[:1] == [self.fim.bos] else 0
            ids = [*ids[:head], *block, *ids[head:]]
        key = (self.family, tuple(ids), max_tokens, tuple(stop), self.after)
        if key != self._key:
            self.result = self.searcher.search(self.families[self.family], ids, max_tokens, stop, self.after)
            self.result["prompt_len"], self.result["ids"] = len(ids), ids
            self._key = key
        assert self.result is not None
        run = self.result["runs"][self.pick]
        return Generation(run.text, run.reason, Timings(prompt_tokens=len(ids), generated_tokens=len(run.tokens)))


def run_command(args: argparse.Namespace) -> int:
    path = Path(args.model) if args.model else ensure_embedded_model()
    model = Model(path, args.threads, args.n_ctx, 2 * args.k)
    facts = vocab_facts(model.llm, read_gguf_info(path))
    fim = detect_format(facts)
    control = fim.control_tokens()
    searcher = Searcher(model, control, args.k, args.score_tokens, args.alt_max_tokens)
    families = {"P": Family("P", 0, args.k), "C": Family("C", args.k, args.k)}
    engine = ExperimentEngine(model, searcher, fim, path.name, families)
    settings = Settings().replace({**DETERMINISTIC, "n_threads": args.threads})
    pipeline = Pipeline(engine, settings)  # type: ignore[arg-type]
    pipeline._results = LRU(0)  # every call must reach the engine: one call per candidate
    pool_of = load_problems(args.set)
    if args.exclude_sample:
        n_tuned, seed_tuned = (int(x) for x in args.exclude_sample.split(":"))
        tuned = {p.task_id for p in select_problems(pool_of, n_tuned, seed_tuned)}
        pool_of = [p for p in pool_of if p.task_id not in tuned]
    problems = select_problems(pool_of, args.n, args.seed)
    families_run = ["P", "C"] if not args.no_extract else ["P"]
    pool = ThreadPoolExecutor(max_workers=args.jobs)
    futures: dict[str, Future[Any]] = {}
    started = time.perf_counter()
    records: list[dict[str, Any]] = []
    with args.out.open("w", encoding="utf-8") as out:
        for index, problem in enumerate(problems, 1):
            request = CompletionRequest(text=problem.document, offset=problem.cursor, language="python")
            engine.after = problem.document[problem.cursor :]
            engine.block = sr.suffix_extract(engine.after)
            record: dict[str, Any] = {"task_id": problem.task_id}
            for name in families_run:
                engine.family, engine.pick = name, 0
                t = time.perf_counter()
                texts = [pipeline.complete(request).completion]
                first_s = time.perf_counter() - t
                result = engine.result
                assert result is not None
                for j in range(1, len(result["runs"])):
                    engine.pick = j
                    texts.append(pipeline.complete(request).completion)
                distinct = sr.dedupe([sr.Candidate(text) for text in texts])
                kept = [result["runs"][i] for i in distinct]
                scored = searcher.score(families[name], result["ids"], kept, [texts[i] for i in distinct], engine.after)
                runs = []
                for i, run, (own, suffix) in zip(distinct, kept, scored["scored"]):
                    key = problem.task_id + "\0" + texts[i]
                    if key not in futures:
                        futures[key] = pool.submit(run_program, problem.program(texts[i]), timeout=args.timeout)
                    runs.append({
                        "raw": run.text, "text": texts[i], "reason": run.reason, "branch": run.branch,
                        "token_logprobs": [round(x, 4) for x in own],
                        "suffix_logprobs": [round(x, 4) for x in suffix],
                        "_key": key,
                    })
                result["cost"].update(scored["cost"])
                greedy_top = result["runs"][0].top
                b = result["runs"][0].branch
                record[name] = {
                    "runs": runs, "cost": {k: round(v, 4) for k, v in result["cost"].items()},
                    "prompt_len": result["prompt_len"], "pipeline_s": round(first_s, 4),
                    "branch_top": [[t, round(lp, 4)] for t, lp in greedy_top[b][:4]] if b < len(greedy_top) else [],
                }
            records.append(record)
            _flush(records, futures, families_run, out, block=False)
            print(f"\r{index}/{len(problems)} {time.perf_counter() - started:.0f}s", end="", file=sys.stderr)
        _flush(records, futures, families_run, out, block=True)
    pool.shutdown()
    print(f"\n{len(problems)} problems in {time.perf_counter() - started:.0f} s -> {args.out}", file=sys.stderr)
    return 0


def _flush(records: list[dict[str, Any]], futures: dict[str, Future[Any]], families: list[str], out: Any, *, block: bool) -> None:
    """Write finished records in order (tests done), so an interrupted run keeps what it did."""
    while records:
        keys = [run["_key"] for name in families for run in records[0][name]["runs"]]
        if not block and not all(futures[key].done() for key in keys):
            return
        record = records.pop(0)
        for name in families:
            for run in record[name]["runs"]:
                res = futures[run.pop("_key")].result()
                run["passed"], run["status"] = res.passed, res.status
        out.write(json.dumps(record) + "\n")
        out.flush()


# ---------------------------------------------------------------- report


def _candidates(fam: dict[str, Any]) -> list[sr.Candidate]:
    return [sr.Candidate(r["raw"], tuple(r["token_logprobs"]), tuple(r["suffix_logprobs"])) for r in fam["runs"]]


def _chosen(fam: dict[str, Any], rule: sr.Rule | None, n: int, gain: float) -> int:
    return 0 if rule is None else sr.select(_candidates(fam), rule, n, gain)


def _p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report_command(args: argparse.Namespace) -> int:
    records = [json.loads(line) for f in args.files for line in Path(f).read_text().splitlines() if line.strip()]
    n = len(records)
    base = [r["P"]["runs"][0]["passed"] for r in records]
    has_c = all("C" in r for r in records)
    variants: list[tuple[str, str, sr.Rule | None, int, float]] = [("a greedy", "P", None, 1, 0.0)]
    for rule in sr.Rule:
        for k in args.score_n:
            for gain in args.gains:
                variants.append((f"b {rule.value} N={k} gain={gain:g}", "P", rule, k, gain))
    if has_c:
        variants.append(("c extract greedy", "C", None, 1, 0.0))
        for rule in sr.Rule:
            variants.append((f"c+b {rule.value} N={args.best_n} gain=0", "C", rule, args.best_n, 0.0))
    print(f"problems: {n}   greedy pass@1 {sum(base) / n:.3f}")
    print(f"oracle (any of the P candidates passes): {sum(any(x['passed'] for x in r['P']['runs']) for r in records) / n:.3f}")
    print("\n| variant | pass@1 | wins | losses | sign p | switched |\n|---|---|---|---|---|---|")
    for label, fam, rule, k, gain in variants:
        picks = [_chosen(r[fam], rule, k, gain) for r in records]
        passed = [r[fam]["runs"][i]["passed"] for r, i in zip(records, picks)]
        wins = sum(p and not q for p, q in zip(passed, base))
        losses = sum(q and not p for p, q in zip(passed, base))
        print(f"| {label} | {sum(passed) / n:.3f} | {wins} | {losses} | {sign_test(wins, losses):.3f} | {sum(i != 0 for i in picks)} |")
    cost = [r["P"]["cost"] for r in records]
    print("\nlatency per suggestion, p50 (tokens through the model / seconds, 1 thread, shared noisy machine):")
    for key in ("prompt", "greedy", "alt", "score"):
        print(f"  {key:<7} {_p50([c[key + '_tokens'] for c in cost]):6.0f} tok  {_p50([c[key + '_s'] for c in cost]):.3f} s")
    per_token = sum(c["score_s"] for c in cost) / max(1, sum(c["score_tokens"] for c in cost))
    runs = [len(r["P"]["runs"]) for r in records]
    print(f"  scoring: {per_token * 1000:.1f} ms per scored token; candidates per request p50 {_p50(runs):.0f}"
          f" (mean {sum(runs) / n:.2f}); scoring N suffix tokens costs about candidates x (N + 1) tokens")
    extra = [c["alt_s"] + c["score_s"] for c in cost]
    print(f"  b extra (alt+score) p50 {_p50(extra):.3f} s  p90 {sorted(extra)[int(0.9 * (n - 1))]:.3f} s;"
          f" a total p50 {_p50([c['prompt_s'] + c['greedy_s'] for c in cost]):.3f} s")
    if has_c:
        cc = [r["C"]["cost"] for r in records]
        print(f"  c prompt p50 {_p50([r['C']['prompt_len'] - r['P']['prompt_len'] for r in records]):.0f} extra prompt tokens;"
              f" c prompt+greedy p50 {_p50([c['prompt_s'] + c['greedy_s'] for c in cc]):.3f} s")
    fam, rule, k, gain = args.gate_family, sr.Rule(args.gate_rule), args.best_n, args.gate_gain
    rule_or_none = None if args.gate_rule_none else rule
    print(f"\ngating on {fam} {'greedy' if rule_or_none is None else f'{rule.value} N={k} gain={gain:g}'}"
          " (shown = non-empty suggestion at or above the threshold)")
    feats: dict[str, list[float]] = {
        "geo-mean p": [], "min p": [], "branch margin p1-p2": [], f"suffix geo-mean p N={k}": [], f"joint geo-mean p N={k}": [],
    }
    right: list[bool] = []
    for r in records:
        i = _chosen(r[fam], rule_or_none, k, gain)
        run = r[fam]["runs"][i]
        if not run["text"].strip():
            continue
        cand = _candidates(r[fam])[i]
        right.append(run["passed"])
        feats["geo-mean p"].append(sr.confidence(cand))
        feats["min p"].append(sr.min_token_probability(cand))
        top = r[fam]["branch_top"]
        feats["branch margin p1-p2"].append(math.exp(top[0][1]) - math.exp(top[1][1]) if len(top) > 1 else 1.0)
        feats[f"suffix geo-mean p N={k}"].append(math.exp(sr.score(cand, sr.Rule.SUFFIX, k)))
        feats[f"joint geo-mean p N={k}"].append(math.exp(sr.score(cand, sr.Rule.JOINT, k)))
    thresholds = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    for name, scores in feats.items():
        print(f"\n{name}: | threshold | shown | right shown | wrong shown | precision | recall |\n|---|---|---|---|---|---|")
        for point in gating_curve(scores, right, thresholds):
            print(f"| {point.threshold:.1f} | {point.shown} | {point.right_shown} | {point.shown - point.right_shown} |"
                  f" {point.precision:.3f} | {point.recall:.3f} |")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--set", default="single")
    run.add_argument("--n", type=int, default=200)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--k", type=int, default=4, help="candidates per request (greedy included)")
    run.add_argument("--score-tokens", type=int, default=16, help="suffix tokens scored per candidate")
    run.add_argument("--alt-max-tokens", type=int, default=48, help="generation bound of an alternative")
    run.add_argument("--threads", type=int, default=1)
    run.add_argument("--n-ctx", type=int, default=8192)
    run.add_argument("--jobs", type=int, default=1, help="test programs in parallel")
    run.add_argument("--timeout", type=float, default=10.0)
    run.add_argument("--model")
    run.add_argument("--exclude-sample", metavar="N:SEED", help="leave out the problems --n N --seed SEED would pick")
    run.add_argument("--no-extract", action="store_true", help="skip family C (suffix extract)")
    run.add_argument("--out", type=Path, required=True)
    run.set_defaults(func=run_command)
    rep = sub.add_parser("report")
    rep.add_argument("files", nargs="+")
    rep.add_argument("--score-n", type=int, nargs="+", default=[2, 4, 8, 16])
    rep.add_argument("--gains", type=float, nargs="+", default=[0.0])
    rep.add_argument("--best-n", type=int, default=8)
    rep.add_argument("--gate-family", default="P")
    rep.add_argument("--gate-rule", default="suffix")
    rep.add_argument("--gate-gain", type=float, default=0.0)
    rep.add_argument("--gate-rule-none", action="store_true", help="gate the greedy suggestion instead")
    rep.set_defaults(func=report_command)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
