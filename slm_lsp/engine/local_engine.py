"""The model runner: one GGUF model in-process through llama-cpp-python.

The engine owns the llama.cpp context, which is not thread-safe: the pipeline calls it
from a single worker thread only. Generation is greedy and deterministic, evaluates the
prompt in batches and decodes token by token, checking a cancellation callback between
batches and between tokens, so a cancelled request stops within one decode step.
Between requests it keeps the prompt's KV cache and re-evaluates only the tokens that
changed, shifting the unchanged ones that moved (kv_cache).
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from slm_lsp.engine.candidates import (
    FIRST_SEQUENCE,
    Branch,
    Run,
    Sequences,
    continue_alternatives,
    runners_up,
    score_continuations,
)
from slm_lsp.engine.kv_cache import GreedySampler, KVSequence, plan_reuse
from slm_lsp.models.gguf_file import GGUFInfo, ModelFileError, read_gguf_info
from slm_lsp.prompt.fim import FimFormat, VocabFacts, detect_format

log = logging.getLogger(__name__)
_llama_log = logging.getLogger("slm_lsp.llama_cpp")

Cancelled = Callable[[], bool]
_LEVELS = {3: logging.INFO, 4: logging.WARNING}
_TOKENIZER_CTX = 8  # the Llama object's own context is unused: keep it tiny


@dataclass
class Timings:
    """Where a request's time went; all figures are for this request only."""

    prompt_tokens: int = 0
    reused_tokens: int = 0
    evaluated_tokens: int = 0
    generated_tokens: int = 0
    prompt_ms: float = 0.0
    generation_ms: float = 0.0
    confidence_ms: float = 0.0  # of generation_ms: the token log-probabilities and the score
    ranking_ms: float = 0.0  # suffix ranking after the greedy line: alternatives, scores (pipeline)
    candidates: int = 0  # distinct candidate lines ranked (0: no ranking)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "reused_tokens": self.reused_tokens,
            "evaluated_tokens": self.evaluated_tokens,
            "generated_tokens": self.generated_tokens,
            "prompt_ms": round(self.prompt_ms, 1),
            "generation_ms": round(self.generation_ms, 1),
            "confidence_ms": round(self.confidence_ms, 2),
            "ranking_ms": round(self.ranking_ms, 1),
            "candidates": self.candidates,
        }


@dataclass
class Generation:
    """Raw model output, already cut at an end/FIM token or a stop sequence.

    ``logprobs`` are the natural-log probabilities of the generated tokens (the token that
    ended generation excluded) and ``token_ends`` where each token's text ends in the
    uncut output, so the pipeline can score only the tokens post-processing keeps (a token
    may end beyond ``text`` when a stop sequence cut it). Both are empty when the backend
    cannot say (a remote server that returns no logprobs): no confidence is known then.
    """

    text: str
    stop_reason: str  # "end", "stop", "length", "cancelled", "deadline"
    timings: Timings = field(default_factory=Timings)
    logprobs: tuple[float, ...] = ()
    token_ends: tuple[int, ...] = ()
    # Which stop sequence ended it (reason "stop"); "" when unknown (a server that stopped by itself).
    # Post-processing reads it: stopping at the code below the cursor means the gap is filled.
    stop_sequence: str = ""
    # Suffix ranking (local engine, when asked): the generated token ids, and where the line
    # could branch with the runners-up there (engine.candidates).
    tokens: tuple[int, ...] = ()
    branch: Branch | None = None


@dataclass
class Speed:
    """Tokens per second measured on this machine, smoothed over recent requests."""

    prompt_tps: float | None = None
    decode_tps: float | None = None

    @staticmethod
    def _blend(old: float | None, new: float) -> float:
        return new if old is None else 0.7 * old + 0.3 * new

    def observe_prompt(self, tokens: int, ms: float) -> None:
        if tokens >= 16 and ms > 0:  # a few tokens are dominated by fixed overhead
            self.prompt_tps = self._blend(self.prompt_tps, tokens * 1000 / ms)

    def observe_decode(self, tokens: int, ms: float) -> None:
        if tokens >= 4 and ms > 0:
            self.decode_tps = self._blend(self.decode_tps, tokens * 1000 / ms)


class ContextOverflow(ValueError):
    """The prompt plus the generation budget does not fit the context window."""


def install_llama_log_handler() -> None:
    """Route llama.cpp's own log lines into Python logging instead of raw stderr.

    llama.cpp never sees prompt text in these messages; they are load-time facts. ggml's
    levels are 1 debug, 2 info, 3 warn, 4 error, 5 continuation: errors are logged at
    WARNING, warnings at INFO (llama.cpp warns about harmless quirks of many models) and
    the rest at DEBUG. An aborted decode (a cancelled request, see kv_cache) is logged by
    llama.cpp as a failure; it is routine here, so it goes to DEBUG.
    """
    import llama_cpp

    @llama_cpp.llama_log_callback
    def _callback(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
        message = text.decode("utf-8", errors="replace").rstrip()
        if message:
            routine = message.endswith("failed to decode, ret = 2")
            _llama_log.log(logging.DEBUG if routine else _LEVELS.get(level, logging.DEBUG), "%s", message)

    llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))
    install_llama_log_handler.callback = _callback  # type: ignore[attr-defined]  # keep it alive


class Engine:
    """A loaded model plus the tokens currently held in its KV cache."""

    max_stale_tokens = 256
    """Tokens evaluated in front of shifted KV entries before a full re-evaluation (see kv_cache)."""

    def __init__(self, info: GGUFInfo, llm: object, ctx: object, n_batch: int, fmt: FimFormat, facts: VocabFacts) -> None:
        self.info = info
        self.fim = fmt
        self.facts = facts
        self._llm = llm
        self._ctx = ctx
        self._sequence = KVSequence(ctx, n_batch)  # type: ignore[arg-type]
        import llama_cpp

        n_vocab = int(llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(llm.model)))  # type: ignore[attr-defined]
        self._forks = Sequences(ctx, n_batch, n_vocab)  # type: ignore[arg-type]
        self._sampler = GreedySampler()
        self.speed = Speed()

    def close(self) -> None:
        """Free the llama.cpp context, batch and sampler (the model goes with the Llama object)."""
        import llama_cpp

        if self._ctx is not None:
            self._sequence.close()
            self._forks.close()
            self._sampler.close()
            llama_cpp.llama_free(self._ctx)
            self._ctx = None

    @classmethod
    def load(
        cls,
        path: Path | str,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_batch: int = 512,
        n_gpu_layers: int = 0,
    ) -> Engine:
        """Validate and load ``path``; raises ModelFileError with a clear message on failure."""
        info = read_gguf_info(path)
        import llama_cpp

        install_llama_log_handler()
        threads = n_threads or max(1, os.cpu_count() or 1)
        try:
            # verbose=True: with verbose=False llama-cpp-python dup2()s /dev/null over file
            # descriptors 1 and 2 while loading, which would swallow LSP traffic written by
            # other threads. Its Python-level chatter is captured instead, and llama.cpp's
            # own log goes through our callback.
            # The Llama object provides the model, tokenizer and metadata; its own context
            # is kept minimal because generation runs in our context (_new_context).
            # use_mmap=False: the weights are read into memory once, so a model file that
            # is truncated or rewritten in place while the server runs cannot SIGBUS it
            # (a mapped page that no longer exists kills the process); the footprint is
            # the same, as every mapped page is touched anyway.
            with contextlib.redirect_stderr(io.StringIO()):
                llm = llama_cpp.Llama(
                    model_path=str(info.path),
                    n_ctx=_TOKENIZER_CTX,
                    n_batch=_TOKENIZER_CTX,
                    n_ubatch=_TOKENIZER_CTX,
                    n_threads=1,
                    n_gpu_layers=n_gpu_layers,
                    use_mmap=False,
                    seed=0,
                    verbose=True,
                )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelFileError(info.path, f"llama.cpp could not load it ({exc})") from exc
        llm.verbose = False
        ctx = _new_context(llm, n_ctx, n_batch, threads)
        if ctx is None:
            raise ModelFileError(info.path, f"llama.cpp could not create a context of {n_ctx} tokens (out of memory?)")
        facts = vocab_facts(llm, info)
        fmt = detect_format(facts)
        if fmt.supports_fim:
            log.info("model %s: FIM family %s (%s layout)", info.name, fmt.family, fmt.order.value)
        else:
            log.info("model %s has no FIM tokens: running in prefix-only mode", info.name)
        return cls(info, llm, ctx, n_batch, fmt, facts)

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def n_ctx(self) -> int:
        import llama_cpp

        return int(llama_cpp.llama_n_ctx(self._ctx))

    def tokenize(self, text: str) -> list[int]:
        """Tokenize user text: no BOS, and special-token texts stay ordinary text."""
        if not text:
            return []
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))  # type: ignore[attr-defined]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def special_token(self, text: str) -> int | None:
        """The id of ``text`` when the vocabulary holds it as one special token (next-edit
        formats insert such markers by id), else None: then it is ordinary text."""
        ids = list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))  # type: ignore[attr-defined]
        return ids[0] if len(ids) == 1 and len(self.tokenize(text)) > 1 else None

    def detokenize(self, ids: Sequence[int]) -> str:
        raw: bytes = self._llm.detokenize(list(ids))  # type: ignore[attr-defined]
        return raw.decode("utf-8", errors="ignore")

    def generate(
        self,
        ids: Sequence[int],
        *,
        max_tokens: int,
        stop: Sequence[str] = (),
        cancelled: Cancelled = lambda: False,
        prompt_deadline: float | None = None,
        generation_seconds: float | None = None,
        on_text: Callable[[str], None] | None = None,
        keep_prompt: Callable[[], bool] = lambda: False,
        branches: int = 0,
    ) -> Generation:
        """Greedy-decode up to ``max_tokens`` after ``ids``.

        Stops at an end-of-generation or FIM control token, at the first stop sequence
        (which is cut off), when ``cancelled()`` turns true, when prompt evaluation
        passes ``prompt_deadline`` (a ``time.monotonic()`` value) or generation has run
        for ``generation_seconds`` (stop reason "deadline"). ``on_text`` receives the text generated so far
        after each token, for streaming. Only the tokens that differ from the previous
        prompt are evaluated (see kv_cache); what a stopped evaluation completed stays
        cached, so the next request continues from there. While ``keep_prompt()`` is true
        a cancelled request still finishes evaluating its prompt (a newer request will
        reuse it) but generates nothing; decoding always stops at the next token.
        ``branches`` > 0 records the generated token ids and that many runners-up at the
        first visible token, for ``alternatives``.
        """
        ids = checked_prompt(ids, max_tokens, self.n_ctx)

        def limit_passed(limit: float | None) -> bool:
            return limit is not None and time.monotonic() > limit

        def stopped(limit: float | None) -> str | None:
            if cancelled():
                return "cancelled"
            return "deadline" if limit_passed(limit) else None

        def abort() -> bool:
            return bool(cancelled()) and not keep_prompt()

        timings = Timings(prompt_tokens=len(ids))
        if not self._evaluate_prompt(ids, lambda: limit_passed(prompt_deadline), abort, timings):
            return Generation("", stopped(prompt_deadline) or "cancelled", timings)
        prompt_done = time.perf_counter()
        limit = time.monotonic() + generation_seconds if generation_seconds else None
        scores = TokenScores(branches=branches)
        text, reason, matched = self._decode(len(ids), max_tokens, stop, lambda: stopped(limit), timings, on_text, scores)
        self._sequence.truncate(len(ids))  # keep the prompt cached, drop the generated tokens
        timings.generation_ms = (time.perf_counter() - prompt_done) * 1000
        self.speed.observe_decode(timings.generated_tokens, timings.generation_ms)
        return Generation(
            text, reason, timings, tuple(scores.logprobs), tuple(scores.ends), stop_sequence=matched,
            tokens=tuple(scores.tokens), branch=scores.branch,
        )

    def alternatives(
        self,
        ids: Sequence[int],
        greedy: Generation,
        *,
        max_tokens: int,
        stop: Sequence[str] = (),
        cancelled: Cancelled = lambda: False,
        generation_seconds: float | None = None,
    ) -> list[Generation]:
        """The lines the model would have written had it chosen each runner-up at ``greedy``'s
        branch point, continued greedily and decoded in lock-step on forks of the cached prompt.

        ``greedy`` is this prompt's generation with ``branches`` > 0, and the prompt must
        still be cached (nothing ran in between). Stops like ``generate``; [] when
        cancelled or out of time (the greedy line then stands alone).
        """
        import llama_cpp

        ids = list(ids)
        branch = greedy.branch
        if branch is None or not branch.options or self._sequence.tokens != ids:
            return []
        started = time.perf_counter()
        limit = time.monotonic() + generation_seconds if generation_seconds else None
        vocab = llama_cpp.llama_model_get_vocab(self._llm.model)  # type: ignore[attr-defined]
        control = self.fim.control_tokens()
        b = branch.index
        shared = Run(0, list(greedy.tokens[:b]), list(greedy.logprobs[:b]), list(greedy.token_ends[:b]))

        def finished(run: Run, token: int, logprob: float) -> bool:
            if llama_cpp.llama_vocab_is_eog(vocab, token) or token in control:
                run.reason = "end"
                return True
            run.tokens.append(token)
            run.text = self.detokenize(run.tokens)
            run.logprobs.append(logprob)
            run.ends.append(len(run.text))
            found = matched_stop(run.text, stop)
            if found is not None:
                run.text, run.reason, run.stop_sequence = run.text[: found[0]], "stop", found[1]
                return True
            if len(run.tokens) >= max_tokens:
                run.reason = "length"
                return True
            return False

        def stopped() -> bool:
            return bool(cancelled()) or (limit is not None and time.monotonic() > limit)

        runs = continue_alternatives(self._forks, len(ids), shared, branch, finished=finished, stopped=stopped)
        elapsed = (time.perf_counter() - started) * 1000
        return [
            Generation(
                run.text, run.reason, Timings(prompt_tokens=len(ids), generated_tokens=len(run.tokens), generation_ms=elapsed),
                tuple(run.logprobs), tuple(run.ends), stop_sequence=run.stop_sequence, tokens=tuple(run.tokens),
            )
            for run in runs or []
        ]

    def score(
        self, ids: Sequence[int], continuations: Sequence[Sequence[int]], known: Sequence[int] | None = None
    ) -> list[list[float]]:
        """log p of each continuation's tokens after the prompt ``ids``, from token ``known[i]``
        on (the caller has the first ones already); the prompt must still be cached (as after
        ``generate``). One batch, on forks of the cached prompt."""
        ids = list(ids)
        if self._sequence.tokens != ids:
            raise ValueError("score needs the prompt it follows to be cached")
        return score_continuations(self._forks, ids, continuations, known or [0] * len(continuations))

    @property
    def max_candidates(self) -> int:
        """How many candidates ``alternatives`` and ``score`` can hold at once (spare sequences)."""
        return self._forks.available

    def warm(self, ids: Sequence[int], *, cancelled: Cancelled = lambda: False) -> Timings:
        """Evaluate a prompt into the KV cache without generating anything (prefetch).

        ``cancelled`` is polled between batches and inside each, so a real request takes
        the model within one ubatch; the ubatches finished before it stay cached.
        """
        ids = checked_prompt(ids, 0, self.n_ctx)
        timings = Timings(prompt_tokens=len(ids))
        self._evaluate_prompt(ids, lambda: False, lambda: bool(cancelled()), timings)
        return timings

    def _evaluate_prompt(
        self, ids: list[int], stop: Callable[[], bool], abort: Callable[[], bool], timings: Timings
    ) -> bool:
        """Bring the KV cache to ``ids``, evaluating only what differs from what it holds;
        False if ``stop`` or ``abort`` ended it first (what was evaluated stays cached)."""
        started = time.perf_counter()
        sequence = self._sequence
        if sequence.stale_edits > self.max_stale_tokens:
            sequence.clear()
        plan = plan_reuse(sequence.tokens, ids, can_shift=sequence.can_shift)
        evaluated = sequence.evaluate(plan, ids, stop=stop, abort=abort)
        timings.prompt_ms = (time.perf_counter() - started) * 1000
        if evaluated is None:
            timings.reused_tokens = min(plan.keep, len(sequence.tokens))
            timings.evaluated_tokens = len(sequence.tokens) - timings.reused_tokens
            return False
        timings.evaluated_tokens = evaluated
        timings.reused_tokens = len(ids) - evaluated
        self.speed.observe_prompt(evaluated, timings.prompt_ms)
        return True

    @property
    def cached_tokens(self) -> int:
        """How many prompt tokens the KV cache holds now (read by slm/status)."""
        return len(self._sequence.tokens)

    def probe_speed(self, prompt_tokens: int = 96, decode_tokens: int = 6) -> Speed:
        """Measure this machine's prompt and decode speed on this model (about a second on
        a 1.3B model), so budgets can adapt before the first real request."""
        filler = self.tokenize("def f(x):\n    return x + 1\n" * 64)[:prompt_tokens] or [0]
        self._sequence.clear()
        self.generate(filler, max_tokens=decode_tokens)
        self._sequence.clear()
        return self.speed

    def _decode(
        self,
        position: int,
        max_tokens: int,
        stop: Sequence[str],
        stopped: Callable[[], str | None],
        timings: Timings,
        on_text: Callable[[str], None] | None,
        scores: TokenScores,
    ) -> tuple[str, str, str]:
        """Text, stop reason and the stop sequence that ended it ("" for any other reason)."""
        import llama_cpp
        import numpy as np

        vocab = llama_cpp.llama_model_get_vocab(self._llm.model)  # type: ignore[attr-defined]
        n_vocab = int(llama_cpp.llama_vocab_n_tokens(vocab))
        ctx = self._ctx
        control = self.fim.control_tokens()
        generated: list[int] = []
        text = ""
        for _ in range(max_tokens):
            if reason := stopped():
                return text, reason, ""
            token = self._sampler.sample(ctx)
            if llama_cpp.llama_vocab_is_eog(vocab, token) or token in control:
                return text, "end", ""
            generated.append(token)
            timings.generated_tokens += 1
            text = self.detokenize(generated)
            scored = time.perf_counter()
            scores.add(last_logprob(ctx, token, n_vocab), len(text), token)
            if scores.branch is None and scores.branches and text.strip():
                row = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))
                scores.branch = Branch(len(generated) - 1, runners_up(row, token, scores.branches))
            timings.confidence_ms += (time.perf_counter() - scored) * 1000
            found = matched_stop(text, stop)
            if found is not None:
                return text[: found[0]], "stop", found[1]
            if on_text is not None:
                on_text(text)
            if len(generated) < max_tokens:
                self._sequence.decode_one(token, position)
                position += 1
        return text, "length", ""


@dataclass
class TokenScores:
    """Per generated token: its log-probability, where its text ends and its id (Generation);
    with ``branches`` > 0 also the runners-up at the first visible token."""

    logprobs: list[float] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    branches: int = 0
    branch: Branch | None = None

    def add(self, logprob: float, end: int, token: int) -> None:
        self.logprobs.append(logprob)
        self.ends.append(end)
        if self.branches:
            self.tokens.append(token)


def last_logprob(ctx: object, token: int, n_vocab: int) -> float:
    """log p(``token``) under the logits of the last decoded position: a log-softmax over
    the vocabulary (one pass over n_vocab floats, well under a millisecond for 262k)."""
    import llama_cpp
    import numpy as np

    row = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))
    top = float(row.max())
    return float(row[token]) - top - math.log(float(np.exp(row - top).sum()))


MAX_UBATCH = 256
"""Tokens llama.cpp computes in one graph. The abort callback (cancellation) is polled
between graph nodes, and a node of a 256-token ubatch takes half as long as one of 512;
prompt throughput measured the same or better here (1.3B, 2 cores: 47-53 vs 39-42 tok/s)."""


MAX_CANDIDATES = 8
"""Spare KV sequences for suffix ranking's alternatives and scores (engine.candidates)."""


def _new_context(llm: object, n_ctx: int, n_batch: int, threads: int) -> object | None:
    """A context for generation: the prompt's sequence, a scratch one (so that cached
    tokens can be parked and shifted, kv_cache.KVSequence) and spares for suffix ranking,
    on a unified KV cache; full-size sliding-window caches so positions can be removed
    from the middle."""
    import llama_cpp

    params = llama_cpp.llama_context_default_params()
    params.n_ctx = n_ctx
    params.n_batch = n_batch
    params.n_ubatch = min(n_batch, MAX_UBATCH)
    params.n_seq_max = FIRST_SEQUENCE + MAX_CANDIDATES
    params.kv_unified = True
    params.swa_full = True
    params.n_threads = threads
    params.n_threads_batch = threads
    return llama_cpp.llama_init_from_model(llm.model, params)  # type: ignore[attr-defined]


def checked_prompt(ids: Sequence[int], max_tokens: int, n_ctx: int) -> list[int]:
    """``ids`` as a list, once it is known to be non-empty and to fit with the generation."""
    ids = list(ids)
    if not ids:
        raise ValueError("empty prompt")
    if len(ids) + max_tokens > n_ctx:
        raise ContextOverflow(f"prompt of {len(ids)} tokens plus {max_tokens} to generate exceeds the context of {n_ctx}")
    return ids


def first_stop(text: str, stop: Sequence[str]) -> int | None:
    """Where the earliest of the ``stop`` sequences starts in ``text``, if any does."""
    found = matched_stop(text, stop)
    return found[0] if found is not None else None


def matched_stop(text: str, stop: Sequence[str]) -> tuple[int, str] | None:
    """The earliest of the ``stop`` sequences in ``text``: where it starts, and which it is
    (the first listed wins a tie)."""
    positions = [(i, n, s) for n, s in enumerate(stop) if s and (i := text.find(s)) >= 0]
    if not positions:
        return None
    start, _, sequence = min(positions)
    return start, sequence


def vocab_facts(llm: object, info: GGUFInfo) -> VocabFacts:
    """Read the FIM tokens and BOS behaviour llama.cpp derived for this vocabulary."""
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(llm.model)  # type: ignore[attr-defined]

    def token(value: int) -> int | None:
        return None if value < 0 else int(value)

    ids = {
        "pre": token(llama_cpp.llama_vocab_fim_pre(vocab)),
        "suf": token(llama_cpp.llama_vocab_fim_suf(vocab)),
        "mid": token(llama_cpp.llama_vocab_fim_mid(vocab)),
        "pad": token(llama_cpp.llama_vocab_fim_pad(vocab)),
        "rep": token(llama_cpp.llama_vocab_fim_rep(vocab)),
        "sep": token(llama_cpp.llama_vocab_fim_sep(vocab)),
    }
    texts = {
        tid: llama_cpp.llama_vocab_get_text(vocab, tid).decode("utf-8", errors="replace")
        for tid in ids.values()
        if tid is not None
    }
    metadata = getattr(llm, "metadata", {}) or {}
    return VocabFacts(
        architecture=str(metadata.get("general.architecture", info.architecture)),
        name=info.name,
        tokenizer_pre=str(metadata.get("tokenizer.ggml.pre", "")),
        fim_pre=ids["pre"],
        fim_suf=ids["suf"],
        fim_mid=ids["mid"],
        fim_pad=ids["pad"],
        fim_rep=ids["rep"],
        fim_sep=ids["sep"],
        token_text=texts,
        bos=token(llama_cpp.llama_vocab_bos(vocab)),
        add_bos=bool(llama_cpp.llama_vocab_get_add_bos(vocab)),
    )
