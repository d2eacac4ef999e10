"""One completion, start to finish: gate → context → prompt → engine → post-process.

This is the single code path behind the language server, ``slm-lsp complete``,
``slm-lsp batch`` and ``slm-lsp eval``: they differ only in how they build a
CompletionRequest and what they do with the CompletionResult. The pipeline is
synchronous and must run on the one thread that owns the engine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from slm_lsp.config.settings import Settings
from slm_lsp.context import ContextEngine
from slm_lsp.engine.backends import CompletionEngine, Notify, load_engine
from slm_lsp.engine.local_engine import Generation
from slm_lsp.engine.result_cache import LRU, TypedAhead, prompt_key
from slm_lsp.models.source import ModelChoice, materialise
from slm_lsp.postprocess import (
    CompletionMode,
    InlineEdit,
    decide_mode,
    postprocess,
    stop_sequences,
    to_inline_edit,
)
from slm_lsp.postprocess.confidence import gated, kept_tokens, rest_confidence
from slm_lsp.privacy import GateError, PrivacyGate
from slm_lsp.prompt import suffix_rank
from slm_lsp.prompt.builder import PromptParts, Snippet, build_prompt

log = logging.getLogger(__name__)

_EXTRACT_SUFFIX_RATIO = 0.1  # of the file budget: room for suffix_extract's 400 characters or the ranked tokens
_SCORED_SUFFIX_TOKENS = 16  # tokens after the cursor each ranked candidate is scored on (README "Quality")
_LAYOUT_TOKENS = 48  # room for what the prompt adds once: BOS, FIM tokens, repo and file headers

ProgressReport = Callable[[str, float | None], None]
"""Receives (message, fraction done or None) while a model loads."""


@dataclass(frozen=True)
class Selection:
    """The item selected in the editor's completion popup (LSP ``selectedCompletionInfo``).

    An inline completion must then extend that item's text and replace the same range.
    """

    start: int  # offsets into the document text
    end: int
    text: str


@dataclass(frozen=True)
class CompletionRequest:
    """Document text and cursor, in Python string offsets (code points)."""

    text: str
    offset: int
    uri: str | None = None
    language: str | None = None
    selection: Selection | None = None


@dataclass
class CompletionResult:
    """What to insert: ``insert_text`` replaces ``text[start:end]`` of the request."""

    insert_text: str
    start: int
    end: int
    completion: str  # the model's contribution after post-processing
    raw: str  # the model's output before post-processing
    model: str
    family: str
    stop_reason: str
    timings: dict[str, float | int] = field(default_factory=dict)
    # Probability of the least likely token the suggestion keeps (None: unknown or nothing
    # generated); below minConfidence the suggestion is withheld and ``gated`` is set.
    confidence: float | None = None
    gated: bool = False
    stop_sequence: str = ""  # the stop sequence that ended generation, for evaluation records

    def as_dict(self) -> dict[str, object]:
        return {
            "text": self.insert_text,
            "start": self.start,
            "end": self.end,
            "model": self.model,
            "family": self.family,
            "stop_reason": self.stop_reason,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "gated": self.gated,
            "timings": self.timings,
        }


@dataclass(frozen=True)
class _Prepared:
    """A request made ready for the model: the prompt and what post-processing needs."""

    ids: list[int]
    max_tokens: int
    stops: list[str]
    key: str  # the result cache's key for this prompt
    mode: CompletionMode
    before: str
    after: str
    typed: str  # whitespace at the cursor moved out of the prompt
    lead: str  # the popup selection's text the suggestion must start with
    # The code below the cursor as the gate admitted it (redacted, cut to its share of the
    # budget): what suffix ranking may show the model; "" when the prompt reserves it none.
    admitted_suffix: str = ""


class Pipeline:
    """Runs completions on one loaded engine with one set of settings."""

    def __init__(self, engine: CompletionEngine, settings: Settings, context: ContextEngine | None = None) -> None:
        self.engine = engine
        self.settings = settings
        # Without a workspace the gate judges each file under its own git work tree.
        self.context = context or ContextEngine([], PrivacyGate())
        self._results: LRU[str, Generation] = LRU(settings.result_cache_size)
        self._typed_ahead = TypedAhead()

    @classmethod
    def load(
        cls,
        settings: Settings,
        choice: ModelChoice,
        progress: ProgressReport | None = None,
        context: ContextEngine | None = None,
        notify: Notify | None = None,
    ) -> Pipeline:
        """Materialise and load the chosen model on the configured backend; raises
        ModelFileError with a clear message. ``notify`` receives backend notices (remote down)."""
        report = progress or (lambda message, fraction: None)
        report("resolving model", 0.0)
        path = materialise(choice, lambda fraction, message: report(message, fraction * 0.5))
        report(f"loading {path.name}", 0.5)
        engine = load_engine(settings, path, report, notify or log.warning)
        report("model ready", 1.0)
        return cls(engine, settings, context)

    def complete(
        self,
        request: CompletionRequest,
        cancelled: Callable[[], bool] = lambda: False,
        keep_prompt: Callable[[], bool] = lambda: False,
    ) -> CompletionResult:
        """Complete at the request's cursor; ``keep_prompt`` (see the engine) lets a
        cancelled request finish the prompt a newer one will reuse."""
        prepared = self._prepare(request)
        if isinstance(prepared, CompletionResult):
            return prepared
        cached = self._results.get(prepared.key)
        if cached is not None:
            generation = Generation(
                cached.text, "cache", logprobs=cached.logprobs, token_ends=cached.token_ends, stop_sequence=cached.stop_sequence
            )
            ended = cached.stop_reason
        else:
            generation = self._generate(prepared, cancelled, keep_prompt, request.language)
            ended = generation.stop_reason
            if ended in ("end", "stop", "length"):
                self._results.put(prepared.key, generation)
        completion, start = self._postprocessed(prepared, generation, ended, request.language)
        before, after = prepared.before, prepared.after
        scored = time.perf_counter()
        tokens = kept_tokens(generation.text, completion, generation.logprobs, generation.token_ends, start=start)
        confidence = rest_confidence(tokens, 0)
        generation.timings.confidence_ms += (time.perf_counter() - scored) * 1000
        if request.selection is None:  # withheld or not: typing its start may confirm it
            self._typed_ahead.remember(request.uri or "", before, after, completion, tokens)
        withheld = gated(confidence, self.settings.min_confidence)
        if withheld:
            completion = ""
        result = self._result(request, _edit(request, completion, prepared.lead), completion, generation.text, generation)
        result.confidence, result.gated = confidence, withheld
        return result

    def prefetch(self, request: CompletionRequest, cancelled: Callable[[], bool] = lambda: False) -> dict[str, object]:
        """Evaluate the prompt a completion at the request's cursor would need, generating
        nothing, so the first real request there starts warm.

        Same gate, context and prompt as ``complete`` (an excluded file evaluates nothing);
        returns the outcome and timings for ``slm/status``.
        """
        warm = getattr(self.engine, "warm", None)
        if warm is None:  # a remote server keeps its own cache
            return {"outcome": "unsupported"}
        if not 0 <= request.offset <= len(request.text):
            return {"outcome": "bad position"}
        prepared = self._prepare(request)
        if isinstance(prepared, CompletionResult):
            return {"outcome": prepared.stop_reason}
        if self._results.get(prepared.key) is not None:
            return {"outcome": "cached"}
        timings = warm(prepared.ids, cancelled=cancelled)
        return {"outcome": "yielded" if cancelled() else "warm", **timings.as_dict()}

    def _prepare(self, request: CompletionRequest) -> _Prepared | CompletionResult:
        """Gate, context and prompt for a request; a finished result when no model call is
        needed (excluded file, typed-ahead suggestion)."""
        if not 0 <= request.offset <= len(request.text):
            raise ValueError(f"cursor offset {request.offset} is outside the document")
        gate = self.context.gate
        if gate.check_source(request.uri).excluded:  # no completion at all for an excluded file
            return self._result(request, None, "", "", Generation("", "excluded"))
        text, cursor, lead = _apply_selection(request)
        before, after = text[:cursor], text[cursor:]
        doc_key = request.uri or ""
        if request.selection is None and (rest := self._typed_ahead.lookup(doc_key, before, after)) is not None:
            # The rest of the last suggestion (it passed the output scan then), judged on the
            # tokens not typed yet: shown if sure enough, else the model is asked again.
            confidence = rest_confidence(rest.tokens, rest.typed)
            if not gated(confidence, self.settings.min_confidence):
                text = rest.text
                result = self._result(request, _edit(request, text, lead), text, text, Generation(text, "typed-ahead"))
                result.confidence = confidence
                return result
        try:
            context = self.context.assemble(
                request.uri, text, cursor, request.language,
                count_tokens=self.engine.count_tokens,
                budget_tokens=self.settings.prompt_tokens - _LAYOUT_TOKENS,
                prefix_ratio=self._prefix_ratio(),
            )
            gate.final_check([*context.extras, context.prefix, context.suffix])
        except GateError as exc:
            log.info("no completion: %s", exc)
            return self._result(request, None, "", "", Generation("", "excluded"))
        mode = decide_mode(before, after, request.language)
        max_tokens = self._max_tokens(mode is CompletionMode.MULTI)
        stops = stop_sequences(request.language, mode, prefix=before, suffix=after)
        prompt_prefix, typed = _heal_trailing_whitespace(context.prefix.text)
        parts = PromptParts(
            prefix=prompt_prefix,
            suffix=context.suffix.text if self.engine.fim.supports_fim or self.settings.suffix_extract else "",
            snippets=[Snippet(str(piece.source), piece.text) for piece in context.extras],
            path=context.path,
            repo_name=self.context.roots[0].name if self.context.roots else None,
            language=request.language,
            suffix_extract=self.settings.suffix_extract and not self.engine.fim.supports_fim,
        )
        ids = build_prompt(self.engine.fim, self.engine.tokenize, parts)
        return _Prepared(
            ids, max_tokens, stops, prompt_key(ids, max_tokens, stops), mode, before, after, typed, lead, context.suffix.text
        )

    def _postprocessed(self, prepared: _Prepared, generation: Generation, ended: str, language: str | None) -> tuple[str, int]:
        """The suggestion post-processing and the output scan make of ``generation``, and
        where the model's text it came from begins (after whitespace the user typed)."""
        raw = _drop_typed(generation.text, prepared.typed)
        start = len(generation.text) - len(raw)
        mode = prepared.mode
        if ended == "deadline":  # cut short: keep whole lines only
            raw = raw[: raw.rfind("\n") + 1] if mode.lines else ""
        completion = postprocess(
            raw, prepared.before, prepared.after, language, mode, truncated=ended == "length", stopped_at=generation.stop_sequence
        )
        return self.context.gate.scan_output(completion, prefix=prepared.before) or "", start

    def _generate(
        self, prepared: _Prepared, cancelled: Callable[[], bool], keep_prompt: Callable[[], bool], language: str | None
    ) -> Generation:
        prompt_limit = self.settings.max_prompt_seconds
        candidates = self._candidates(prepared)
        generation = self.engine.generate(
            prepared.ids,
            max_tokens=prepared.max_tokens,
            stop=prepared.stops,
            cancelled=cancelled,
            prompt_deadline=time.monotonic() + prompt_limit if prompt_limit else None,
            generation_seconds=self.settings.max_generation_seconds or None,
            keep_prompt=keep_prompt,
            **({"branches": candidates - 1} if candidates > 1 else {}),
        )
        if candidates > 1 and generation.stop_reason in ("end", "stop", "length") and not cancelled():
            generation = self._rank(prepared, generation, cancelled, language)
        return generation

    def _candidates(self, prepared: _Prepared) -> int:
        """How many candidate lines to rank by the code below (1: the greedy line alone).

        Only for a local model without FIM tokens (a FIM model reads the suffix itself; a
        remote server cannot fork its cache), when there is code below the cursor to rank by,
        and for the rest of a line or a gap between statements (FILL): there the code below
        is what the suggestion must lead into. A block's first lines (MULTI) are not ranked."""
        wanted = self.settings.suffix_candidates
        if wanted < 2 or self.engine.fim.supports_fim or prepared.mode is CompletionMode.MULTI:
            return 1
        if not hasattr(self.engine, "alternatives") or not prepared.admitted_suffix.strip():
            return 1
        return min(wanted, 1 + self.engine.max_candidates)  # type: ignore[attr-defined]

    def _rank(self, prepared: _Prepared, greedy: Generation, cancelled: Callable[[], bool], language: str | None) -> Generation:
        """The candidate after which the model best predicts the code below the cursor.

        The alternatives branch where the greedy line's first visible token was chosen;
        each goes through the same post-processing, and the distinct suggestions are
        scored by log p(suggestion + first suffix tokens | prompt) (``suffix_rank``, rule
        SUM: measured better than a length-normalised score, README "Quality"). The greedy
        line stays unless another scores higher; a cancelled or late ranking keeps it.
        """
        started = time.perf_counter()
        engine = self.engine
        # An alternative ends with its line (a different first line is what it offers; going on
        # costs a decode step per token for every alternative).
        alternatives = engine.alternatives(  # type: ignore[attr-defined]
            prepared.ids, greedy, max_tokens=prepared.max_tokens, stop=[*prepared.stops, "\n"], cancelled=cancelled,
            generation_seconds=self.settings.max_generation_seconds or None,
        )
        generations = [greedy, *alternatives]
        texts = [self._postprocessed(prepared, g, g.stop_reason, language)[0] for g in generations]
        distinct = [i for i in suffix_rank.dedupe([suffix_rank.Candidate(t) for t in texts]) if i == 0 or texts[i].strip()]
        chosen = greedy
        if len(distinct) > 1 and not cancelled():
            suffix_ids = engine.tokenize(prepared.admitted_suffix)[:_SCORED_SUFFIX_TOKENS]
            heads = [engine.tokenize(prepared.typed + texts[i]) for i in distinct]
            known = [_common_length(head, generations[i].tokens) for i, head in zip(distinct, heads)]
            scores = engine.score(prepared.ids, [[*head, *suffix_ids] for head in heads], known)  # type: ignore[attr-defined]
            candidates = []
            for i, head, k, row in zip(distinct, heads, known, scores):
                own = [*generations[i].logprobs[:k], *row[: len(head) - k]]
                candidates.append(suffix_rank.Candidate(texts[i], tuple(own), tuple(row[len(head) - k :])))
            picked = suffix_rank.select(candidates, suffix_rank.Rule.SUM, _SCORED_SUFFIX_TOKENS)
            if picked:
                chosen = _with_choice_confidence(
                    generations[distinct[picked]], greedy.branch.index,  # type: ignore[union-attr]
                    suffix_rank.choice_logprob(candidates, picked, suffix_rank.Rule.SUM, _SCORED_SUFFIX_TOKENS),
                )
        chosen.timings = greedy.timings
        chosen.timings.candidates = len(distinct)
        chosen.timings.ranking_ms = (time.perf_counter() - started) * 1000
        return chosen

    def _prefix_ratio(self) -> float:
        """The prefix's share of the file budget: a FIM model reads the suffix in full, a prefix-only
        model only its short extract (when ``suffixExtract`` is on) or the first tokens that
        suffix ranking scores, so the suffix is cut to that (and so passes the gate like the
        rest of the prompt)."""
        if self.engine.fim.supports_fim:
            return 1.0 - self.settings.suffix_ratio
        uses_suffix = self.settings.suffix_extract or self.settings.suffix_candidates > 1
        return 1.0 - _EXTRACT_SUFFIX_RATIO if uses_suffix else 1.0

    def _max_tokens(self, multiline: bool) -> int:
        """The generation budget: the configured maximum, shrunk to the latency target when
        adaptive budgets are on and the decode speed is known.

        A gap between statements (FILL) gets the single-line budget: what is kept is one
        statement or the lines up to the code below, and on HumanEval the model reached that
        code within 25 tokens whenever it did (32 tokens scored the same as 128; README
        "Quality"), while 128 tokens cost several seconds on a laptop."""
        configured = self.settings.max_tokens_multi if multiline else self.settings.max_tokens_single
        speed = self.engine.speed.decode_tps
        if not self.settings.adaptive_budgets or speed is None or multiline:
            return configured
        return max(8, min(configured, int(speed * self.settings.latency_target_ms / 1000)))

    def _result(
        self, request: CompletionRequest, edit: InlineEdit | None, completion: str, raw: str, generation: Generation
    ) -> CompletionResult:
        if edit is None:
            edit = InlineEdit("", request.offset, request.offset)
            completion = ""
        return CompletionResult(
            insert_text=edit.insert_text,
            start=edit.start,
            end=edit.end,
            completion=completion,
            raw=raw,
            model=self.engine.name,
            family=self.engine.fim.family,
            stop_reason=generation.stop_reason,
            timings=generation.timings.as_dict(),
            stop_sequence=generation.stop_sequence,
        )


def _apply_selection(request: CompletionRequest) -> tuple[str, int, str]:
    """Document text and cursor as if the selected popup item were already inserted,
    and the text the suggestion must start with."""
    selection = request.selection
    if selection is None:
        return request.text, request.offset, ""
    text = request.text[: selection.start] + selection.text + request.text[selection.end :]
    return text, selection.start + len(selection.text), selection.text


def _heal_trailing_whitespace(prefix: str) -> tuple[str, str]:
    """Move spaces/tabs at the cursor out of the prompt (a light form of token healing).

    Tokenizers merge a space with the word after it (" b" is one token), so a prompt
    ending in "return " asks the model to continue after a lone-space token it rarely
    saw in training, and output quality drops sharply. The prompt ends before the
    whitespace instead; _drop_typed removes it again from the model's output.
    """
    stripped = prefix.rstrip(" \t")
    return stripped, prefix[len(stripped) :]


def _with_choice_confidence(alternative: Generation, branch: int, logprob: float) -> Generation:
    """``alternative`` with its branch token's log-probability (a runner-up's, low by
    definition) replaced by that of the ranking having chosen right (``choice_logprob``):
    its confidence then reads the rest of its tokens and how clearly the code below won."""
    logprobs = list(alternative.logprobs)
    if branch < len(logprobs):
        logprobs[branch] = logprob
    return replace(alternative, logprobs=tuple(logprobs))


def _common_length(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens ``a`` and ``b`` share."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _drop_typed(generated: str, typed: str) -> str:
    """Remove from ``generated`` the whitespace the user had already typed."""
    if not typed:
        return generated
    return generated[len(typed) :] if generated.startswith(typed) else generated.lstrip(" \t")


def _edit(request: CompletionRequest, completion: str, lead: str) -> InlineEdit | None:
    """The LSP-shaped edit for ``completion`` at the request's cursor or popup selection."""
    start, end = (request.selection.start, request.selection.end) if request.selection else (request.offset, request.offset)
    line_end = request.text.find("\n", end)
    line_after = request.text[end : line_end if line_end >= 0 else len(request.text)].rstrip("\r")
    return to_inline_edit(completion, line_after, start=start, end=end, lead=lead)
