"""Fill-in-the-middle formats, detected from the GGUF's own tokenizer.

File names lie ("my-model-final.gguf"); the tokenizer does not. llama.cpp records the FIM
special tokens of a vocabulary (``llama_vocab_fim_pre/suf/mid/pad/rep/sep``), either
from explicit GGUF keys or by recognising their texts. The *texts* of those tokens tell
the family apart (``<｜fim▁begin｜>`` is deepseek-coder, ``<fim_prefix>`` StarCoder,
``[PREFIX]`` Codestral ...), and the architecture separates families that share texts
(Qwen2.5-Coder and CodeGemma both use ``<|fim_prefix|>``). A model without FIM tokens
runs in prefix-only mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Order(str, Enum):
    """How the prompt pieces are laid out around the FIM tokens."""

    PSM = "psm"  # <pre> prefix <suf> suffix <mid>   (most coder models)
    SPM_CODESTRAL = "spm"  # [SUFFIX] suffix [PREFIX] prefix   (Codestral: no middle token)
    PREFIX_ONLY = "prefix-only"  # plain continuation of the prefix


@dataclass(frozen=True)
class VocabFacts:
    """What the engine reads from a loaded model to decide its FIM format."""

    architecture: str
    name: str
    tokenizer_pre: str
    fim_pre: int | None
    fim_suf: int | None
    fim_mid: int | None
    fim_pad: int | None
    fim_rep: int | None
    fim_sep: int | None
    token_text: dict[int, str]  # texts of the FIM tokens above, by id
    bos: int | None
    add_bos: bool


@dataclass(frozen=True)
class FimFormat:
    """A model's prompt format: the family name, the layout and the special token ids."""

    family: str
    order: Order
    pre: int | None = None
    suf: int | None = None
    mid: int | None = None
    rep: int | None = None
    sep: int | None = None
    bos: int | None = None

    @property
    def supports_fim(self) -> bool:
        return self.order is not Order.PREFIX_ONLY

    @property
    def has_repo_tokens(self) -> bool:
        """Whether the tokenizer has file-separator tokens for repository-level prompts."""
        return self.supports_fim and self.sep is not None

    def control_tokens(self) -> set[int]:
        """Special tokens that end a completion if the model emits them."""
        return {t for t in (self.pre, self.suf, self.mid, self.rep, self.sep) if t is not None}


# Token text of llama_vocab_fim_pre -> family name; architecture refines shared texts.
_FAMILY_BY_PRE_TEXT: dict[str, str] = {
    "<｜fim▁begin｜>": "deepseek-coder",
    "<fim_prefix>": "starcoder",
    "<fim-prefix>": "starcoder",
    "<|fim_prefix|>": "qwen2.5-coder",
    "▁<PRE>": "codellama",
    "<PRE>": "codellama",
    "[PREFIX]": "codestral",
}


def detect_format(facts: VocabFacts) -> FimFormat:
    """Choose the FIM format from the vocabulary's FIM tokens and the model metadata."""
    bos = facts.bos if facts.add_bos else None
    pre_text = facts.token_text.get(facts.fim_pre, "") if facts.fim_pre is not None else ""
    family = _FAMILY_BY_PRE_TEXT.get(pre_text)
    arch = facts.architecture.lower()
    if family == "qwen2.5-coder" and arch.startswith("gemma"):
        family = "codegemma"
    if family == "starcoder" and arch == "starcoder2":
        family = "starcoder2"
    if family == "codestral" and facts.fim_suf is not None:
        return FimFormat(family, Order.SPM_CODESTRAL, pre=facts.fim_pre, suf=facts.fim_suf, bos=bos)
    if facts.fim_pre is None or facts.fim_suf is None or facts.fim_mid is None:
        return FimFormat("none", Order.PREFIX_ONLY, bos=bos)
    return FimFormat(
        family or "generic-fim",
        Order.PSM,
        pre=facts.fim_pre,
        suf=facts.fim_suf,
        mid=facts.fim_mid,
        rep=facts.fim_rep,
        sep=facts.fim_sep,
        bos=bos,
    )
