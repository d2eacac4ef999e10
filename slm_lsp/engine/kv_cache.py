"""Keep the model's KV cache in step with the prompt, re-evaluating only what changed.

A FIM prompt is ``<pre> prefix <suf> suffix <mid>``: a keystroke at the cursor changes a
token or two at the end of the prefix and moves everything after it. Plain prefix reuse
keeps only the tokens before the edit and re-evaluates the whole suffix (hundreds of
tokens, seconds on a laptop CPU). Here the cached tokens *after* the edit are kept too:
they are shifted to their new positions in the KV cache (``llama_memory_seq_add``, the
mechanism llama.cpp's server calls ``--cache-reuse``) and only the changed tokens — plus
the final token, whose logits start generation — are evaluated.

Like llama.cpp's cache reuse this is an approximation: a shifted token's keys and values
were computed while it attended to the text *before* the edit. The engine bounds the
drift by re-evaluating from scratch once too many tokens have been evaluated in front of
a run that could not see them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import llama_cpp

MIN_SHIFT_CHUNK = 16  # shorter reusable runs are cheaper to evaluate than to move


@dataclass(frozen=True)
class ReusePlan:
    """How to turn the cached tokens into ``new``: keep, evaluate a gap, shift, evaluate the last.

    Positions: ``new[:keep]`` is already cached in place; ``new[keep:tail_start]`` must
    be evaluated; ``new[tail_start:len(new) - 1]`` is the cached run
    ``old[tail_start - shift : ...]`` moved by ``shift``; ``new[-1]`` is evaluated last.
    """

    keep: int
    tail_start: int
    shift: int

    def evaluated(self, n_new: int) -> int:
        """How many tokens this plan sends through the model."""
        return (self.tail_start - self.keep) + 1 if self.tail_start < n_new else n_new - self.keep

    def reused(self, n_new: int) -> int:
        return n_new - self.evaluated(n_new)


def plan_reuse(old: Sequence[int], new: Sequence[int], *, can_shift: bool, min_chunk: int = MIN_SHIFT_CHUNK) -> ReusePlan:
    """Pick the cheapest way to reach ``new`` from ``old`` by a common prefix and a moved tail.

    The last token of ``new`` is always evaluated (its logits start generation), so at
    most ``len(new) - 1`` tokens are reused.
    """
    limit = len(new) - 1
    keep = 0
    for a, b in zip(old, new[:limit]):
        if a != b:
            break
        keep += 1
    no_tail = ReusePlan(keep=keep, tail_start=len(new), shift=0)
    if not can_shift:
        return no_tail
    # Longest common run ending just before the last token of new. A completed prompt's
    # cache ends with that prompt's last token (compare old[:-1]); a cancelled one ends
    # with the reattached run (compare all of old). Take whichever matches more.
    new_body = new[:limit]
    best = no_tail
    best_tail = 0
    for old_body in (old[: len(old) - 1], old):
        tail = _common_tail(old_body, new_body, keep)
        if tail > best_tail and tail >= min_chunk:
            tail_start = len(new_body) - tail
            best = ReusePlan(keep=keep, tail_start=tail_start, shift=tail_start - (len(old_body) - tail))
            best_tail = tail
    return best


def _common_tail(old: Sequence[int], new: Sequence[int], keep: int) -> int:
    """Length of the common run at the ends of ``old`` and ``new``, not reaching into ``keep``."""
    tail = 0
    while tail < len(old) - keep and tail < len(new) - keep and old[len(old) - 1 - tail] == new[len(new) - 1 - tail]:
        tail += 1
    return tail


_ABORTED = 2  # llama_decode's status when the abort callback returned true


class KVSequence:
    """Sequence 0 of a llama.cpp context and a mirror of the token at each position.

    llama.cpp only accepts a batch whose positions continue right after the highest
    position cached for its sequence, so new tokens cannot be decoded into a gap in
    front of cached ones. To insert, the moved run is parked in scratch sequence 1
    (``llama_memory_seq_cp`` only tags cells; it needs a unified KV cache and
    ``n_seq_max`` ≥ 2), the gap is decoded, and the run is shifted and tagged back.
    """

    SCRATCH = 1

    def __init__(self, ctx: llama_cpp.llama_context_p, n_batch: int) -> None:
        self._ctx = ctx
        self._memory = llama_cpp.llama_get_memory(ctx)
        self._n_batch = n_batch
        self._batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self.tokens: list[int] = []
        self.can_shift = bool(llama_cpp.llama_memory_can_shift(self._memory)) and llama_cpp.llama_n_seq_max(ctx) > 1
        self.stale_edits = 0  # tokens evaluated in front of a shifted run since the last full evaluation
        # llama.cpp polls the abort callback between graph nodes, so a cancelled request stops
        # inside a prompt batch (tens of milliseconds) instead of after it (seconds). It is
        # installed only while a prompt is evaluated: decoding one token is short, is checked
        # between tokens, and should not take the GIL hundreds of times per step.
        self._abort_check: Callable[[], bool] = lambda: False
        self._abort_callback = llama_cpp.ggml_abort_callback(lambda _data: self._should_abort())

    def _should_abort(self) -> bool:
        try:
            return bool(self._abort_check())
        except Exception:  # noqa: BLE001 - an exception must not cross into C; the between-batch check reports it
            return False

    def close(self) -> None:
        llama_cpp.llama_batch_free(self._batch)

    def clear(self) -> None:
        llama_cpp.llama_memory_clear(self._memory, True)
        self.tokens = []
        self.stale_edits = 0

    def truncate(self, length: int) -> None:
        """Forget every position from ``length`` on (e.g. generated tokens)."""
        if length < len(self.tokens):
            if not llama_cpp.llama_memory_seq_rm(self._memory, 0, length, -1):
                self.clear()
                return
            del self.tokens[length:]

    def evaluate(
        self, plan: ReusePlan, new: Sequence[int], *, stop: Callable[[], bool], abort: Callable[[], bool]
    ) -> int | None:
        """Bring the cache to ``new`` following ``plan``; return how many tokens were
        evaluated, or None if stopped midway.

        ``stop`` (a time budget) is checked between batches, so each batch evaluated is
        kept and the next request continues from it; ``abort`` (the request was cancelled)
        is also polled inside a batch, dropping only the ubatch being computed.

        On cancellation the cache holds what was decoded of the gap followed by the parked
        run, shifted to continue right after it: not a prefix of ``new``, but a token
        sequence the mirror records exactly, so the next request (typically one keystroke
        later) reuses the run instead of evaluating the text after the cursor again.
        """
        memory = self._memory
        n_tail = len(new) - 1 - plan.tail_start if plan.tail_start < len(new) else 0
        old_tail_start = plan.tail_start - plan.shift
        if not llama_cpp.llama_memory_seq_rm(memory, 0, old_tail_start + n_tail if n_tail else plan.keep, -1):
            self.clear()
            plan = ReusePlan(keep=0, tail_start=len(new), shift=0)
            n_tail = 0
        parked = self.tokens[old_tail_start : old_tail_start + n_tail] if n_tail else []
        if n_tail:
            llama_cpp.llama_memory_seq_cp(memory, 0, self.SCRATCH, old_tail_start, old_tail_start + n_tail)
            llama_cpp.llama_memory_seq_rm(memory, 0, plan.keep, -1)
        del self.tokens[plan.keep :]
        gap_end = plan.tail_start if n_tail else len(new)
        completed = self._decode(new[plan.keep : gap_end], plan.keep, stop, abort)
        if n_tail:
            self._reattach(parked, old_tail_start, edited_from=plan.keep)
        if not completed:
            return None
        if n_tail and not self._decode(new[-1:], len(new) - 1, stop, abort):
            return None
        return plan.evaluated(len(new))

    def _reattach(self, parked: list[int], old_start: int, edited_from: int) -> None:
        """Shift the run parked in the scratch sequence to continue right after the
        tokens now cached, and tag it back into sequence 0."""
        memory = self._memory
        start = len(self.tokens)
        llama_cpp.llama_memory_seq_add(memory, self.SCRATCH, old_start, old_start + len(parked), start - old_start)
        llama_cpp.llama_memory_seq_cp(memory, self.SCRATCH, 0, start, start + len(parked))
        llama_cpp.llama_memory_seq_rm(memory, self.SCRATCH, -1, -1)
        self.tokens.extend(parked)
        self.stale_edits += start - edited_from

    def decode_one(self, token: int, position: int) -> None:
        """Append one generated token (its logits start the next step)."""
        if not self._decode([token], position, lambda: False, None):
            raise RuntimeError("llama_decode was aborted without an abort check")  # pragma: no cover

    def _decode(
        self, tokens: Sequence[int], start: int, stop: Callable[[], bool], abort: Callable[[], bool] | None
    ) -> bool:
        """Evaluate ``tokens`` at positions ``start...``; logits only for the very last one.

        Works in batches of n_batch and checks ``stop`` and ``abort`` before each and,
        through llama.cpp's abort callback, ``abort`` inside each; on False what was
        evaluated so far — every finished ubatch — stays cached and recorded.
        """
        if abort is None:
            return self._decode_batches(tokens, start, stop)
        self._abort_check = abort
        llama_cpp.llama_set_abort_callback(self._ctx, self._abort_callback, None)
        try:
            return self._decode_batches(tokens, start, lambda: stop() or abort())
        finally:
            llama_cpp.llama_set_abort_callback(self._ctx, llama_cpp.ggml_abort_callback(), None)
            self._abort_check = lambda: False

    def _decode_batches(self, tokens: Sequence[int], start: int, stop: Callable[[], bool]) -> bool:
        for offset in range(0, len(tokens), self._n_batch):
            if stop():
                return False
            chunk = tokens[offset : offset + self._n_batch]
            batch = self._batch
            batch.n_tokens = len(chunk)
            for i, token in enumerate(chunk):
                batch.token[i] = token
                batch.pos[i] = start + offset + i
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = 0
                batch.logits[i] = 0
            batch.logits[len(chunk) - 1] = 1 if offset + self._n_batch >= len(tokens) else 0
            status = llama_cpp.llama_decode(self._ctx, batch)
            if status == _ABORTED:
                self._keep_finished_ubatches(chunk, start + offset)
                return False
            if status != 0:
                raise RuntimeError(f"llama_decode failed with status {status}")
            self.tokens.extend(chunk)
        return True

    def _keep_finished_ubatches(self, chunk: Sequence[int], first: int) -> None:
        """After an aborted batch, keep what llama.cpp finished and cached of it.

        llama.cpp drops only the ubatch it was computing; the ones before it stay in the
        KV cache. Keeping them (instead of dropping the whole batch) is what lets a user
        who types faster than one batch evaluates still make progress: each cancelled
        request leaves a longer cached prompt for the next keystroke.
        """
        cached_to = int(llama_cpp.llama_memory_seq_pos_max(self._memory, 0)) + 1
        kept = min(len(chunk), max(0, cached_to - first))
        llama_cpp.llama_memory_seq_rm(self._memory, 0, first + kept, -1)
        self.tokens.extend(chunk[:kept])


class GreedySampler:
    """llama.cpp's greedy sampler on the logits of the last decoded token."""

    def __init__(self) -> None:
        self._sampler = llama_cpp.llama_sampler_init_greedy()

    def sample(self, ctx: llama_cpp.llama_context_p) -> int:
        return int(llama_cpp.llama_sampler_sample(self._sampler, ctx, -1))

    def close(self) -> None:
        llama_cpp.llama_sampler_free(self._sampler)

