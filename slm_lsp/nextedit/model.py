"""Model predictors for next-edit models: what they share, and running one.

A next-edit model (Zed's Zeta, Sweep's next-edit 1.5B) reads the recent edits and lines
around the cursor and writes a region of the file back as it expects it to become. Each
format lives in its own module (``zeta``, ``sweep``) and provides ``build`` (the prompt, as
token ids, from gated pieces only) and ``parse`` (the rewritten region out of the raw
output). ``predict`` runs one: prompt, greedy generation on the caller's engine (the
caller is on the model worker thread and passes its cancellation check), parse, the
gate's output scan, then the rewrite diffed against the region's current text into
minimal range edits (``rewrite``). A generation cut by its token budget is dropped: a
half-written region would delete the rest of it.

Prompts are token ids: text pieces between special tokens are joined and tokenized as one
text with ``special=False`` (code that contains ``<|file_sep|>`` stays text), and the
special tokens a vocabulary has are inserted by id. Every piece is checked by the gate's
``final_check`` just before tokenization.

Which format a model speaks is decided by ``choose_format``: the ``nextEditPredictor``
setting, else the catalog entry of the loaded file (``next_edit`` key), else the model's
GGUF name or file name (``zeta``; ``sweep`` + ``next-edit``). A GGUF carries no field that
says "trained for next edits", and Zeta's and Sweep's tokenizers are plain Qwen2.5 ones,
so the vocabulary (unlike FIM) cannot tell.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from slm_lsp.nextedit.history import EditHistory
from slm_lsp.nextedit.propagation import Proposal
from slm_lsp.nextedit.rewrite import range_edits
from slm_lsp.privacy import GateError, PrivacyGate, PromptPiece

FORMATS = ("zeta", "sweep")
ROLE = "model"  # the Proposal role of model proposals

Segment = int | PromptPiece
"""A prompt part: a special token id, or an admitted text piece."""


class Runner(Protocol):
    """What a predictor needs from an engine (``slm_lsp.engine``'s Engine is one)."""

    @property
    def n_ctx(self) -> int: ...

    def tokenize(self, text: str) -> list[int]: ...

    def generate(self, ids: Sequence[int], *, max_tokens: int, stop: Sequence[str] = (),
                 cancelled: Callable[[], bool] = ...) -> Any: ...


Special = Callable[[str], int | None]
"""The id of a special token's text when the vocabulary has it as one token, else None."""


@dataclass(frozen=True)
class Request:
    """A next-edit request for a model: the document as the editor has it, and the history."""

    gate: PrivacyGate
    history: EditHistory
    uri: str
    text: str
    cursor: int
    path: str  # workspace-relative, as the model sees it


@dataclass(frozen=True)
class Prompt:
    """A built prompt and what its answer refers to."""

    ids: list[int]
    region_start: int  # the rewritable region, in the current text
    region_end: int
    max_tokens: int
    stop: tuple[str, ...]


class Format(Protocol):
    name: str

    def build(self, request: Request, runner: Runner, special: Special) -> Prompt | None: ...

    def parse(self, output: str, region: str) -> str | None: ...


@dataclass
class Prediction:
    """A model predictor's answer: proposals nearest the cursor first, and what happened."""

    proposals: list[Proposal] = field(default_factory=list)
    stop_reason: str = "none"  # "none": no prompt could be built (nothing gated in, no room)
    prompt_tokens: int = 0
    generated_tokens: int = 0


def to_ids(gate: PrivacyGate, runner: Runner, segments: Sequence[Segment]) -> list[int]:
    """Token ids of ``segments``: consecutive pieces tokenized as one text, ids kept; the
    gate's final check first (raises GateError for a piece it did not admit)."""
    gate.final_check([s for s in segments if isinstance(s, PromptPiece)])
    ids: list[int] = []
    run: list[str] = []
    for segment in segments:
        if isinstance(segment, PromptPiece):
            run.append(segment.text)
            continue
        ids += runner.tokenize("".join(run))
        run = []
        ids.append(segment)
    return ids + runner.tokenize("".join(run))


def admitted(gate: PrivacyGate, text: str, source: str, kind: str) -> PromptPiece | None:
    """``text`` (made from admitted pieces) admitted again as one piece; None if refused."""
    try:
        return gate.admit(PromptPiece(text=text, source=source, kind=kind))
    except GateError:
        return None


def predict(fmt: Format, request: Request, runner: Runner, special: Special,
            cancelled: Callable[[], bool] = lambda: False) -> Prediction:
    """Run ``fmt`` once for ``request`` (on the model worker thread) and diff its rewrite."""
    try:
        prompt = fmt.build(request, runner, special)
    except GateError:
        prompt = None
    if prompt is None:
        return Prediction()
    generation = runner.generate(prompt.ids, max_tokens=prompt.max_tokens, stop=prompt.stop, cancelled=cancelled)
    timings = getattr(generation, "timings", None)
    result = Prediction(stop_reason=generation.stop_reason, prompt_tokens=len(prompt.ids),
                        generated_tokens=getattr(timings, "generated_tokens", 0))
    region = request.text[prompt.region_start:prompt.region_end]
    rewrite = fmt.parse(generation.text, region) if generation.stop_reason in ("end", "stop") else None
    if rewrite is not None:
        head = request.text[max(0, prompt.region_start - 256):prompt.region_start]
        rewrite = request.gate.scan_output(rewrite, prefix=head, hint=request.path)
    if rewrite is not None:
        edits = range_edits(region, rewrite, prompt.region_start)
        edits.sort(key=lambda e: (abs(e.start - request.cursor), e.start))
        result.proposals = [Proposal(request.uri, e.start, e.end, e.text, ROLE, request.text[e.start:e.end])
                            for e in edits]
    return result


def choose_format(setting: str, *, catalog_format: str | None, model_name: str, file_name: str) -> str | None:
    """The next-edit format of the loaded model, or None (edit propagation only)."""
    if setting == "propagation":
        return None
    if setting in FORMATS:
        return setting
    if catalog_format in FORMATS:
        return catalog_format
    for name in (model_name, file_name):
        if _ZETA.search(name):
            return "zeta"
        if _SWEEP.search(name):
            return "sweep"
    return None


_ZETA = re.compile(r"(?<![a-z])zeta(?![a-z])", re.IGNORECASE)
_SWEEP = re.compile(r"sweep[\w.\s-]*?next[\s_.-]?edit", re.IGNORECASE)
