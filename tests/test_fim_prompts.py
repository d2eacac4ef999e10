"""FIM family detection and prompt layout, asserted on the token ids llama.cpp evaluated.

Tiny random-weight models carry real tokenizers (deepseek-coder, Qwen2.5-Coder,
StarCoder2, and two without FIM tokens). The expected ids are spelled out from the
vocabularies' FIM token ids and an independent tokenization through llama-cpp-python,
then compared with the engine's KV-cache contents after a real generation.
"""

from __future__ import annotations

import logging

import llama_cpp
import pytest

from slm_lsp.engine.local_engine import Engine
from slm_lsp.prompt.builder import PromptParts, Snippet, build_prompt
from slm_lsp.prompt.fim import Order, VocabFacts, detect_format
from tests.tiny_models import tiny_model_path

PREFIX = "def area(r):\n    # <|fim_prefix|> <fim_suffix> <｜fim▁hole｜> stay text\n    return "
SUFFIX = "\n\nprint(area(2))\n"

# (vocab, family, order, (pre, suf, mid), bos) — ids as llama.cpp reports them.
CASES = [
    ("deepseek-coder", "deepseek-coder", Order.PSM, (32016, 32015, 32017), 32013),
    ("qwen2.5-coder", "qwen2.5-coder", Order.PSM, (151659, 151661, 151660), None),
    ("starcoder", "starcoder2", Order.PSM, (1, 3, 2), None),
    ("qwen2", "none", Order.PREFIX_ONLY, None, None),
    ("nofim", "none", Order.PREFIX_ONLY, None, 1),
]


@pytest.fixture(scope="module")
def engines() -> dict[str, Engine]:
    return {vocab: Engine.load(tiny_model_path(vocab), n_ctx=512, n_threads=1) for vocab, *_ in CASES}


def _plain_tokens(engine: Engine, text: str) -> list[int]:
    """Tokenize independently of the engine: llama-cpp-python, no BOS, no special parsing."""
    llm = llama_cpp.Llama(model_path=str(engine.info.path), vocab_only=True, verbose=False)
    return list(llm.tokenize(text.encode(), add_bos=False, special=False))


@pytest.mark.parametrize(("vocab", "family", "order", "fim_ids", "bos"), CASES)
def test_family_and_exact_prompt_ids(
    engines: dict[str, Engine], vocab: str, family: str, order: Order, fim_ids: tuple[int, int, int] | None, bos: int | None
) -> None:
    engine = engines[vocab]
    assert engine.fim.family == family
    assert engine.fim.order is order
    prefix_ids = _plain_tokens(engine, PREFIX.rstrip(" "))
    lead = [bos] if bos is not None else []
    if fim_ids is None:
        expected = lead + prefix_ids
    else:
        pre, suf, mid = fim_ids
        expected = lead + [pre, *prefix_ids, suf, *_plain_tokens(engine, SUFFIX), mid]
    ids = build_prompt(engine.fim, engine.tokenize, PromptParts(prefix=PREFIX.rstrip(" "), suffix=SUFFIX))
    assert ids == expected
    engine.generate(ids, max_tokens=3)
    fed = engine._sequence.tokens[: len(ids)]  # what llama.cpp holds in its KV cache
    assert fed == expected
    # Text that merely looks like a FIM token stays ordinary text.
    specials = set(fim_ids or ()) | engine.fim.control_tokens()
    assert sum(1 for token in fed if token in specials) == (3 if fim_ids else 0)


def test_repository_layout_uses_file_separator_tokens(engines: dict[str, Engine]) -> None:
    engine = engines["qwen2.5-coder"]
    assert (engine.fim.rep, engine.fim.sep) == (151663, 151664)
    parts = PromptParts(
        prefix="x = helper(", suffix=")\n", snippets=[Snippet("pkg/util.py", "def helper(n):\n    return n\n")],
        path="main.py", repo_name="demo",
    )
    ids = build_prompt(engine.fim, engine.tokenize, parts)
    tok = engine.tokenize
    expected = (
        [151663, *tok("demo\n"), 151664, *tok("pkg/util.py\ndef helper(n):\n    return n\n"), 151664, *tok("main.py\n")]
        + [151659, *tok("x = helper("), 151661, *tok(")\n"), 151660]
    )
    assert ids == expected


def test_path_comments_for_models_without_repo_tokens(engines: dict[str, Engine]) -> None:
    engine = engines["deepseek-coder"]
    parts = PromptParts(
        prefix="x = helper(", suffix=")\n", snippets=[Snippet("pkg/util.py", "def helper(n): ...")], language="python"
    )
    ids = build_prompt(engine.fim, engine.tokenize, parts)
    tok = engine.tokenize
    assert ids == [32013, 32016, *tok("# Path: pkg/util.py\ndef helper(n): ...\n\n"), *tok("x = helper("), 32015, *tok(")\n"), 32017]


def test_prefix_only_mode_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="slm_lsp.engine.local_engine"):
        Engine.load(tiny_model_path("nofim"), n_ctx=256, n_threads=1)
    notes = [r for r in caplog.records if "prefix-only" in r.getMessage()]
    assert len(notes) == 1


def _facts(pre_text: str, arch: str, mid: bool = True) -> VocabFacts:
    return VocabFacts(
        architecture=arch, name="m", tokenizer_pre="", fim_pre=10, fim_suf=11, fim_mid=12 if mid else None,
        fim_pad=None, fim_rep=None, fim_sep=None, token_text={10: pre_text}, bos=1, add_bos=True,
    )


@pytest.mark.parametrize(
    ("pre_text", "arch", "mid", "family", "order"),
    [
        ("<|fim_prefix|>", "gemma", True, "codegemma", Order.PSM),
        ("<|fim_prefix|>", "qwen2", True, "qwen2.5-coder", Order.PSM),
        ("▁<PRE>", "llama", True, "codellama", Order.PSM),
        ("[PREFIX]", "llama", False, "codestral", Order.SPM_CODESTRAL),
        ("<fim_prefix>", "starcoder", True, "starcoder", Order.PSM),
        ("<weird_prefix>", "llama", True, "generic-fim", Order.PSM),
    ],
)
def test_detection_for_families_without_a_vocab_file(pre_text: str, arch: str, mid: bool, family: str, order: Order) -> None:
    fmt = detect_format(_facts(pre_text, arch, mid))
    assert (fmt.family, fmt.order) == (family, order)


def test_codestral_layout_puts_suffix_first() -> None:
    fmt = detect_format(_facts("[PREFIX]", "llama", mid=False))
    tokenize = lambda text: [ord(c) for c in text]  # a transparent stand-in tokenizer
    ids = build_prompt(fmt, tokenize, PromptParts(prefix="ab", suffix="cd"))
    assert ids == [1, 11, ord("c"), ord("d"), 10, ord("a"), ord("b")]
