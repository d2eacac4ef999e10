"""Alternative lines and suffix scores for suffix ranking, on extra KV sequences decoded together.

A model without FIM tokens never reads the code below the cursor, but it can tell which of
its own candidate lines leads into that code (``prompt.suffix_rank``). That needs, besides
the greedy line, a few alternatives branched where the line's first visible token was chosen,
and the log-probabilities of each candidate followed by the first tokens after the cursor.

Both run on sequences 2… of the engine's context (0 holds the prompt, 1 is the KV cache's
scratch): the prompt's cells are shared by tag (``llama_memory_seq_cp`` on a unified cache),
never re-evaluated, and every sequence advances in the same batch, so k candidates cost about
one decode step per token rather than k (a small model's step is bound by reading its weights,
which a batch reads once).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import llama_cpp
import numpy as np

FIRST_SEQUENCE = 2
"""Sequence 0 is the cached prompt, 1 the KV cache's scratch (kv_cache.KVSequence)."""


@dataclass(frozen=True)
class Branch:
    """Where the greedy line can branch: the index of its first visible token among the
    generated ones, and the runners-up there as (token, log-probability), best first."""

    index: int
    options: tuple[tuple[int, float], ...]


def log_softmax(row: np.ndarray) -> np.ndarray:
    """Natural-log probabilities from one position's logits."""
    top = float(row.max())
    return row - (top + math.log(float(np.exp(row - top).sum())))


def runners_up(row: np.ndarray, chosen: int, count: int) -> tuple[tuple[int, float], ...]:
    """The ``count`` most likely tokens other than ``chosen`` under the logits ``row``."""
    if count < 1:
        return ()
    logprobs = log_softmax(row)
    best = np.argpartition(-logprobs, count)[: count + 1]
    best = best[np.argsort(-logprobs[best])]
    return tuple((int(t), float(logprobs[t])) for t in best if t != chosen)[:count]


@dataclass
class Run:
    """One alternative being decoded on its own sequence."""

    sequence: int
    tokens: list[int]
    logprobs: list[float]
    ends: list[int]
    text: str = ""
    reason: str = ""
    stop_sequence: str = ""


class Sequences:
    """Batched decoding over several sequences of one context, each a fork of the prompt in sequence 0."""

    def __init__(self, ctx: llama_cpp.llama_context_p, n_batch: int, n_vocab: int) -> None:
        self._ctx = ctx
        self._memory = llama_cpp.llama_get_memory(ctx)
        self._n_batch = n_batch
        self._n_vocab = n_vocab
        self._batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self.available = int(llama_cpp.llama_n_seq_max(ctx)) - FIRST_SEQUENCE
        self.decoded_tokens = 0  # every token sent through the model here, for cost reports

    def close(self) -> None:
        llama_cpp.llama_batch_free(self._batch)

    def fork(self, sequence: int, end: int) -> None:
        """Make ``sequence`` hold sequence 0's positions ``[0, end)`` and nothing else."""
        llama_cpp.llama_memory_seq_rm(self._memory, sequence, -1, -1)
        llama_cpp.llama_memory_seq_cp(self._memory, 0, sequence, 0, end)

    def release(self, count: int) -> None:
        """Drop the cells of the first ``count`` extra sequences (the prompt stays in sequence 0)."""
        for sequence in range(FIRST_SEQUENCE, FIRST_SEQUENCE + count):
            llama_cpp.llama_memory_seq_rm(self._memory, sequence, -1, -1)

    def decode(self, items: Sequence[tuple[int, int, int, bool]]) -> list[np.ndarray]:
        """Decode (token, position, sequence, wants logits) items in order, in batches of
        n_batch; the log-probability rows of the items that want logits, in order."""
        rows: list[np.ndarray] = []
        for start in range(0, len(items), self._n_batch):
            chunk = items[start : start + self._n_batch]
            batch = self._batch
            batch.n_tokens = len(chunk)
            for i, (token, position, sequence, logits) in enumerate(chunk):
                batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, position, 1
                batch.seq_id[i][0], batch.logits[i] = sequence, 1 if logits else 0
            status = llama_cpp.llama_decode(self._ctx, batch)
            if status != 0:
                raise RuntimeError(f"llama_decode failed with status {status}")
            self.decoded_tokens += len(chunk)
            for i, (_, _, _, logits) in enumerate(chunk):
                if logits:
                    raw = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self._ctx, i), shape=(self._n_vocab,))
                    rows.append(log_softmax(raw))
        return rows


def continue_alternatives(
    sequences: Sequences,
    n_prompt: int,
    shared: Run,
    branch: Branch,
    *,
    finished: Callable[[Run, int, float], bool],
    stopped: Callable[[], bool],
) -> list[Run] | None:
    """Decode one alternative per runner-up of ``branch``, greedily and in lock-step.

    Each starts from the prompt (``n_prompt`` tokens in sequence 0) plus ``shared`` — the
    greedy line's tokens before the branch, with their log-probabilities and text ends —
    then the runner-up token. ``finished(run, token, logprob)`` appends a chosen token to a
    run and says whether the run ended (end token, stop sequence, budget: it sets
    ``run.reason``); ``stopped()`` is polled between steps, and None is returned when it
    turns true (the request was cancelled or ran out of time). The extra sequences are
    released in every case.
    """
    options = branch.options[: sequences.available]
    runs = [
        Run(FIRST_SEQUENCE + i, list(shared.tokens), list(shared.logprobs), list(shared.ends), shared.text)
        for i in range(len(options))
    ]
    try:
        items: list[tuple[int, int, int, bool]] = []
        active: list[Run] = []
        for run, (token, logprob) in zip(runs, options):
            if finished(run, token, logprob):
                continue
            active.append(run)
            sequences.fork(run.sequence, n_prompt)
            items += [(t, n_prompt + j, run.sequence, j == len(run.tokens) - 1) for j, t in enumerate(run.tokens)]
        rows = sequences.decode(items) if active else []
        while active:
            if stopped():
                return None
            still = [run for run, row in zip(active, rows) if not finished(run, int(np.argmax(row)), float(row.max()))]
            active = still
            if active:
                rows = sequences.decode([(run.tokens[-1], n_prompt + len(run.tokens) - 1, run.sequence, True) for run in active])
        return runs
    finally:
        sequences.release(len(options))


def score_continuations(
    sequences: Sequences, prompt: Sequence[int], continuations: Sequence[Sequence[int]], known: Sequence[int]
) -> list[list[float]]:
    """log p of each continuation's tokens from ``known[i]`` on, after ``prompt`` (cached in
    sequence 0), all in one batch.

    Each continuation gets its own fork of the prompt minus its last token, which is decoded
    again (the context's logits belong to whatever was decoded last). The first ``known[i]``
    tokens are ones the caller already has log-probabilities for (the tokens it generated):
    they are decoded for the KV cache but without logits, since computing a position's
    logits — the output layer over the whole vocabulary, 262k rows for Gemma — is most of
    what such a position costs.
    """
    n_prompt = len(prompt)
    if len(continuations) > sequences.available:
        raise ValueError(f"{len(continuations)} continuations but only {sequences.available} spare sequences")
    items: list[tuple[int, int, int, bool]] = []
    try:
        for i, (continuation, skip) in enumerate(zip(continuations, known, strict=True)):
            if skip >= len(continuation):
                continue
            sequence = FIRST_SEQUENCE + i
            sequences.fork(sequence, n_prompt - 1)
            tokens = [prompt[-1], *continuation[:-1]]
            items += [(t, n_prompt - 1 + j, sequence, j >= skip) for j, t in enumerate(tokens)]
        rows = iter(sequences.decode(items))
        return [[float(next(rows)[token]) for token in continuation[skip:]] for continuation, skip in zip(continuations, known)]
    finally:
        sequences.release(len(continuations))
