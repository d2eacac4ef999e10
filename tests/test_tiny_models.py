"""The tiny test models load and run in llama.cpp and keep their real tokenizers' facts.

The expected values are what llama.cpp itself reports for these vocabularies, so other
tests can rely on them for FIM-family detection and exact prompt token ids.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import pytest
from llama_cpp import Llama
from llama_cpp import llama_cpp as C

from tests.tiny_models import (
    VOCABS,
    build_tiny_model,
    decode_value,
    read_vocab_metadata,
    tiny_model_path,
)

FIM_KINDS = ("pre", "suf", "mid", "pad", "rep", "sep")


@dataclass(frozen=True)
class Facts:
    """What llama.cpp reports for one vocabulary (token ids; -1 is LLAMA_TOKEN_NULL)."""

    architecture: str
    tokenizer_pre: str
    fim: dict[str, tuple[int, str] | None]
    bos: int
    eos: int
    eot: int
    add_bos: bool


NO_FIM: dict[str, tuple[int, str] | None] = dict.fromkeys(FIM_KINDS)

EXPECTED: dict[str, Facts] = {
    "deepseek-coder": Facts(
        architecture="llama",
        tokenizer_pre="deepseek-coder",
        fim={
            "pre": (32016, "<｜fim▁begin｜>"),
            "suf": (32015, "<｜fim▁hole｜>"),
            "mid": (32017, "<｜fim▁end｜>"),
            "pad": None,
            "rep": None,
            "sep": None,
        },
        bos=32013,
        eos=32014,
        eot=32014,
        add_bos=True,
    ),
    "qwen2.5-coder": Facts(
        architecture="qwen2",
        tokenizer_pre="qwen2",
        fim={
            "pre": (151659, "<|fim_prefix|>"),
            "suf": (151661, "<|fim_suffix|>"),
            "mid": (151660, "<|fim_middle|>"),
            "pad": (151662, "<|fim_pad|>"),
            "rep": (151663, "<|repo_name|>"),
            "sep": (151664, "<|file_sep|>"),
        },
        bos=151643,
        eos=151643,
        eot=151645,
        add_bos=False,
    ),
    "starcoder": Facts(
        architecture="starcoder2",
        tokenizer_pre="starcoder",
        fim={
            "pre": (1, "<fim_prefix>"),
            "suf": (3, "<fim_suffix>"),
            "mid": (2, "<fim_middle>"),
            "pad": (4, "<fim_pad>"),
            "rep": None,
            "sep": None,
        },
        bos=0,
        eos=0,
        eot=0,
        add_bos=False,
    ),
    "qwen2": Facts(
        architecture="qwen2",
        tokenizer_pre="qwen2",
        fim=NO_FIM,
        bos=151643,
        eos=151643,
        eot=151645,
        add_bos=False,
    ),
    "nofim": Facts(
        architecture="llama",
        tokenizer_pre="default",
        fim=NO_FIM,
        bos=1,
        eos=2,
        eot=-1,
        add_bos=True,
    ),
}


def load(path: Path) -> Llama:
    """Load as the server would, small context; verbose=False keeps llama.cpp's log quiet."""
    return Llama(model_path=str(path), n_ctx=512, verbose=False)


@pytest.fixture(scope="module", params=sorted(VOCABS))
def vocab_llm(request: pytest.FixtureRequest) -> Iterator[tuple[str, Llama]]:
    """One loaded model per vocab, shared by this module's tests (loading Qwen's takes ~0.5 s)."""
    llm = load(tiny_model_path(request.param))
    yield request.param, llm
    llm.close()


def reported_facts(llm: Llama) -> Facts:
    """The facts as llama.cpp derives them at load time, not as the metadata spells them."""
    vocab = C.llama_model_get_vocab(llm.model)

    def with_text(token: int) -> tuple[int, str] | None:
        return None if token == C.LLAMA_TOKEN_NULL else (token, C.llama_vocab_get_text(vocab, token).decode())

    return Facts(
        architecture=llm.metadata["general.architecture"],
        tokenizer_pre=llm.metadata["tokenizer.ggml.pre"],
        fim={kind: with_text(getattr(C, f"llama_vocab_fim_{kind}")(vocab)) for kind in FIM_KINDS},
        bos=C.llama_vocab_bos(vocab),
        eos=C.llama_vocab_eos(vocab),
        eot=C.llama_vocab_eot(vocab),
        add_bos=C.llama_vocab_get_add_bos(vocab),
    )


def test_every_vocab_has_expected_facts() -> None:
    assert sorted(EXPECTED) == sorted(VOCABS)


def test_llama_cpp_reports_the_real_tokenizer_facts(vocab_llm: tuple[str, Llama]) -> None:
    vocab, llm = vocab_llm
    assert reported_facts(llm) == EXPECTED[vocab]


def test_architecture_is_the_source_vocab_files(vocab_llm: tuple[str, Llama]) -> None:
    vocab, llm = vocab_llm
    source_arch = decode_value(read_vocab_metadata(vocab)["general.architecture"])
    assert llm.metadata["general.architecture"] == source_arch


def test_fim_texts_tokenize_to_their_ids_only_as_special_text(vocab_llm: tuple[str, Llama]) -> None:
    """Parsed as special text a FIM marker is its one control token; as plain text it is not."""
    vocab, llm = vocab_llm
    for token in EXPECTED[vocab].fim.values():
        if token is not None:
            token_id, text = token
            assert llm.tokenize(text.encode(), add_bos=False, special=True) == [token_id]
            assert token_id not in llm.tokenize(text.encode(), add_bos=False, special=False)


def test_generates_greedily_and_deterministically(vocab_llm: tuple[str, Llama]) -> None:
    _, llm = vocab_llm
    prompt = llm.tokenize(b"def add(a, b):\n    return", add_bos=True)
    runs = []
    for _ in range(2):
        llm.reset()
        runs.append(list(islice(llm.generate(prompt, temp=0.0), 4)))
    assert len(runs[0]) == 4
    assert all(0 <= token < llm.n_vocab() for token in runs[0])
    assert runs[0] == runs[1]


@pytest.mark.parametrize("vocab", sorted(VOCABS))
def test_fresh_build_and_load_are_fast(
    vocab: str, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    """Timings go to the junit report and stdout; the bound only catches a gross regression."""
    start = time.perf_counter()
    path = build_tiny_model(vocab, tmp_path / "model.gguf")
    built = time.perf_counter()
    load(path).close()
    loaded = time.perf_counter()
    record_property("build_seconds", round(built - start, 3))
    record_property("load_seconds", round(loaded - built, 3))
    print(f"{vocab}: build {built - start:.3f} s, load {loaded - built:.3f} s, {path.stat().st_size / 1e6:.1f} MB")
    assert built - start < 10


def test_build_is_deterministic_from_the_seed(tmp_path: Path) -> None:
    first = build_tiny_model("nofim", tmp_path / "a.gguf", seed=1).read_bytes()
    again = build_tiny_model("nofim", tmp_path / "b.gguf", seed=1).read_bytes()
    other = build_tiny_model("nofim", tmp_path / "c.gguf", seed=2).read_bytes()
    assert first == again
    assert first != other


def test_dimensions_and_name_are_written(tmp_path: Path) -> None:
    path = build_tiny_model("starcoder", tmp_path / "m.gguf", n_embd=32, n_layer=1, n_head=2, n_ctx_train=1024, name="sc")
    llm = load(path)
    try:
        assert llm.metadata["general.name"] == "sc"
        assert llm.metadata["starcoder2.embedding_length"] == "32"
        assert llm.metadata["starcoder2.block_count"] == "1"
        assert llm.metadata["starcoder2.context_length"] == "1024"
    finally:
        llm.close()


def test_extra_metadata_overrides_adds_and_removes_keys(tmp_path: Path) -> None:
    """Existing keys keep their GGUF type and new ints are UINT32, as llama.cpp insists."""
    no_bos = build_tiny_model(
        "deepseek-coder", tmp_path / "no-bos.gguf", extra_metadata={"tokenizer.ggml.add_bos_token": False}
    )
    explicit_fim = build_tiny_model(
        "nofim",
        tmp_path / "explicit-fim.gguf",
        extra_metadata={
            "tokenizer.ggml.add_bos_token": None,
            "tokenizer.ggml.fim_pre_token_id": 3,
            "general.license": "mit",
        },
    )
    llm = load(no_bos)
    try:
        assert reported_facts(llm).add_bos is False
    finally:
        llm.close()
    llm = load(explicit_fim)
    try:
        assert "tokenizer.ggml.add_bos_token" not in llm.metadata
        assert llm.metadata["general.license"] == "mit"
        assert reported_facts(llm).fim["pre"] == (3, "<0x00>")  # an explicit id wins over text search
    finally:
        llm.close()


def test_unknown_vocab_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown vocab"):
        build_tiny_model("gpt-9", tmp_path / "x.gguf")
