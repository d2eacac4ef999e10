"""Tiny GGUF models with real llama.cpp tokenizers, built by the tests themselves.

Real coder models are hundreds of megabytes, but what the server derives from a model
(FIM family, control-token ids, whether a BOS is added, the exact prompt token ids)
depends only on its tokenizer and architecture. So a test model here is a few layers
of random weights around a *real* tokenizer copied from one of llama.cpp's vocab-only
files (``tests/data/vocab``): llama.cpp loads and runs it like any other model, in well
under a second, and reports the same vocabulary facts as the real model would.
llama.cpp ships no Qwen2.5 vocabulary, so ``qwen2.5-coder`` is its Qwen2 one with the
Qwen2.5 added tokens (FIM among them) written into their ids, as in the real tokenizer.

The vocab files are stored gzip-compressed (Qwen2's is 6 MB raw). The tokenizer
key/values are copied as raw bytes and the model is written directly in GGUF v3 layout:
``gguf.GGUFReader`` needs ~10 s to parse Qwen2's 300k strings and ``GGUFWriter`` ~2 s to
re-pack them, while copying bytes keeps every build well under a second.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from gguf import (
    GGUF_DEFAULT_ALIGNMENT,
    GGMLQuantizationType,
    GGUFValueType,
    LlamaFileType,
    TokenType,
)

VOCAB_DIR = Path(__file__).resolve().parent / "data" / "vocab"


@dataclass(frozen=True)
class _VocabSource:
    """A llama.cpp vocab-only file (gzip-compressed in VOCAB_DIR), optionally with tokens
    written over its ``[PADn]`` placeholders from id ``first_added`` on."""

    file_name: str
    added_tokens: tuple[str, ...] = ()
    first_added: int = 0


# llama.cpp ships the *Qwen2* vocabulary, whose ids from 151646 on are placeholders.
# Qwen2.5(-Coder) is the same BPE vocabulary plus these added tokens (its
# tokenizer_config.json / added_tokens.json), which carry the FIM tokens.
_QWEN25_ADDED = (
    "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>", "<|box_end|>",
    "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
    "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>",
    "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
    "<|repo_name|>", "<|file_sep|>",
)  # fmt: skip

# Short vocab name -> where its tokenizer comes from. "qwen2" (no FIM tokens, BPE, no
# BOS) and "nofim" (Llama's SentencePiece vocabulary: no FIM tokens, adds a BOS) are
# the two vocabularies without FIM; the other three are the coder families.
VOCABS: dict[str, _VocabSource] = {
    "deepseek-coder": _VocabSource("ggml-vocab-deepseek-coder.gguf.gz"),
    "qwen2": _VocabSource("ggml-vocab-qwen2.gguf.gz"),
    "qwen2.5-coder": _VocabSource("ggml-vocab-qwen2.gguf.gz", _QWEN25_ADDED, first_added=151646),
    "starcoder": _VocabSource("ggml-vocab-starcoder.gguf.gz"),
    "nofim": _VocabSource("ggml-vocab-llama-spm.gguf.gz"),
}

# numpy layout of the fixed-size GGUF value types (GGUF files are little-endian).
_SCALAR_DTYPES: dict[GGUFValueType, np.dtype[Any]] = {
    vtype: np.dtype(code)
    for vtype, code in {
        GGUFValueType.UINT8: "<u1",
        GGUFValueType.INT8: "<i1",
        GGUFValueType.UINT16: "<u2",
        GGUFValueType.INT16: "<i2",
        GGUFValueType.UINT32: "<u4",
        GGUFValueType.INT32: "<i4",
        GGUFValueType.UINT64: "<u8",
        GGUFValueType.INT64: "<i8",
        GGUFValueType.FLOAT32: "<f4",
        GGUFValueType.FLOAT64: "<f8",
        GGUFValueType.BOOL: "?",
    }.items()
}

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


@dataclass(frozen=True)
class _ArchShape:
    """How an architecture's blocks differ, as far as llama.cpp's tensor loader cares.

    llama: RMSNorm, SwiGLU, no biases. qwen2: llama plus Q/K/V biases. starcoder2:
    LayerNorm with biases, biases on every projection, and a plain (ungated) MLP.
    """

    qkv_bias: bool
    layernorm: bool


_ARCHS: dict[str, _ArchShape] = {
    "llama": _ArchShape(qkv_bias=False, layernorm=False),
    "qwen2": _ArchShape(qkv_bias=True, layernorm=False),
    "starcoder2": _ArchShape(qkv_bias=True, layernorm=True),
}


def read_vocab_metadata(vocab: str) -> dict[str, bytes]:
    """Every key of a vocab's source file mapped to its encoded value (type tag + payload),
    with the vocab's added tokens applied.

    Keeping the encoded bytes lets the builder copy the tokenizer without decoding it;
    ``decode_value`` turns one into a Python value where a test needs to look.
    """
    try:
        source = VOCABS[vocab]
    except KeyError:
        raise ValueError(f"unknown vocab {vocab!r}; choose from {sorted(VOCABS)}") from None
    metadata = _parse_kv(gzip.decompress((VOCAB_DIR / source.file_name).read_bytes()), source.file_name)
    if source.added_tokens:
        _add_tokens(metadata, source.first_added, source.added_tokens)
    return metadata


def _add_tokens(metadata: dict[str, bytes], first: int, texts: tuple[str, ...]) -> None:
    """Write ``texts`` over the placeholder tokens from id ``first`` on.

    Types follow llama.cpp's convert_hf_to_gguf.py: ``<|...|>`` texts are CONTROL tokens,
    other added tokens USER_DEFINED (both are matched as special text when tokenizing).
    """
    tokens = decode_value(metadata["tokenizer.ggml.tokens"])
    types = decode_value(metadata["tokenizer.ggml.token_type"])
    for token_id, text in enumerate(texts, start=first):
        if not tokens[token_id].startswith("[PAD"):
            raise ValueError(f"token {token_id} is {tokens[token_id]!r}, not a placeholder")
        tokens[token_id] = text
        control = text.startswith("<|") and text.endswith("|>")
        types[token_id] = int(TokenType.CONTROL if control else TokenType.USER_DEFINED)
    metadata["tokenizer.ggml.tokens"] = _encode(tokens, GGUFValueType.ARRAY, GGUFValueType.STRING)
    metadata["tokenizer.ggml.token_type"] = _encode(types, GGUFValueType.ARRAY, GGUFValueType.INT32)


def _parse_kv(data: bytes, file_name: str) -> dict[str, bytes]:
    """The key/value section of a GGUF v3 file, each value kept encoded."""
    magic, version, _n_tensors, n_kv = struct.unpack_from("<4sIQQ", data, 0)
    if magic != b"GGUF" or version != 3:
        raise ValueError(f"{file_name} is not a GGUF v3 file (magic {magic!r}, version {version})")
    pos = 24

    def skip_str() -> int:
        """Move past one length-prefixed string; return where its bytes start."""
        nonlocal pos
        start = pos + 8
        pos = start + _U64.unpack_from(data, pos)[0]
        return start

    metadata: dict[str, bytes] = {}
    for _ in range(n_kv):
        key_start = skip_str()
        key = data[key_start:pos].decode("utf-8")
        value_start = pos
        vtype = GGUFValueType(_U32.unpack_from(data, pos)[0])
        pos += 4
        if vtype == GGUFValueType.STRING:
            skip_str()
        elif vtype == GGUFValueType.ARRAY:
            sub_type = GGUFValueType(_U32.unpack_from(data, pos)[0])
            count = _U64.unpack_from(data, pos + 4)[0]
            pos += 12
            if sub_type == GGUFValueType.STRING:
                for _ in range(count):
                    skip_str()
            else:
                pos += _SCALAR_DTYPES[sub_type].itemsize * count
        else:
            pos += _SCALAR_DTYPES[vtype].itemsize
        metadata[key] = data[value_start:pos]
    return metadata


def decode_value(encoded: bytes) -> Any:
    """Python value of one encoded metadata value (as stored by ``read_vocab_metadata``)."""
    vtype, sub_type = _types_of(encoded)
    if vtype == GGUFValueType.STRING:
        return encoded[12:].decode("utf-8")
    if vtype != GGUFValueType.ARRAY:
        return np.frombuffer(encoded, _SCALAR_DTYPES[vtype], count=1, offset=4).tolist()[0]
    count = _U64.unpack_from(encoded, 8)[0]
    if sub_type != GGUFValueType.STRING:
        return np.frombuffer(encoded, _SCALAR_DTYPES[sub_type], count=count, offset=16).tolist()
    items, pos = [], 16
    for _ in range(count):
        length = _U64.unpack_from(encoded, pos)[0]
        items.append(encoded[pos + 8 : pos + 8 + length].decode("utf-8"))
        pos += 8 + length
    return items


def _types_of(encoded: bytes) -> tuple[GGUFValueType, GGUFValueType | None]:
    """Value type and, for an array, element type of an encoded value."""
    vtype = GGUFValueType(_U32.unpack_from(encoded, 0)[0])
    sub_type = GGUFValueType(_U32.unpack_from(encoded, 4)[0]) if vtype == GGUFValueType.ARRAY else None
    return vtype, sub_type


def _encode_str(text: str) -> bytes:
    raw = text.encode("utf-8")
    return _U64.pack(len(raw)) + raw


def _encode(value: Any, vtype: GGUFValueType, sub_type: GGUFValueType | None = None) -> bytes:
    """Encode a metadata value with its type tag, as GGUF stores it after the key."""
    head = _U32.pack(vtype)
    if vtype == GGUFValueType.STRING:
        return head + _encode_str(value)
    if vtype != GGUFValueType.ARRAY:
        return head + np.asarray(value, _SCALAR_DTYPES[vtype]).tobytes()
    if sub_type is None:
        raise ValueError("an array needs an element type")
    if sub_type == GGUFValueType.STRING:
        body = b"".join(_encode_str(item) for item in value)
    else:
        body = np.asarray(value, _SCALAR_DTYPES[sub_type]).tobytes()
    return head + _U32.pack(sub_type) + _U64.pack(len(value)) + body


def _guess_type(value: Any) -> GGUFValueType:
    """GGUF type for a new key: ints are UINT32, the type of llama.cpp's id and count keys."""
    if isinstance(value, bool):
        return GGUFValueType.BOOL
    if isinstance(value, int):
        return GGUFValueType.UINT32
    if isinstance(value, float):
        return GGUFValueType.FLOAT32
    if isinstance(value, str):
        return GGUFValueType.STRING
    if isinstance(value, (list, tuple)) and value:
        return GGUFValueType.ARRAY
    raise TypeError(f"no GGUF type for {value!r}")


def build_tiny_model(
    vocab: str,
    out_path: Path,
    *,
    n_embd: int = 64,
    n_layer: int = 2,
    n_head: int = 4,
    n_ctx_train: int = 4096,
    seed: int = 0,
    name: str | None = None,
    extra_metadata: dict[str, Any] | None = None,
    n_ff: int | None = None,
    n_head_kv: int | None = None,
    rope_freq_base: float = 10000.0,
    tied_output: bool = True,
    greedy_token: int | None = None,
    counting: bool = False,
    successors: dict[int, int] | None = None,
) -> Path:
    """Write a random-weight model around the real tokenizer of ``vocab`` to ``out_path``.

    The architecture is the vocab file's own (llama for deepseek-coder and nofim, qwen2 for
    qwen2 and qwen2.5-coder, starcoder2 for starcoder), since the server tells some FIM
    families apart by architecture. Every ``tokenizer.*`` key of the vocab is copied, so
    llama.cpp finds the same special and FIM tokens as in the real model. Weights are f16 matrices and f32 norms/biases drawn
    from ``seed``; by default the output projection is tied to the token embedding to stay small.

    ``extra_metadata`` adds or overrides keys after everything else; a value of None
    removes the key (e.g. ``tokenizer.ggml.add_bos_token`` to test llama.cpp's default).
    An existing key keeps its GGUF type, which llama.cpp checks strictly; a new int is
    written as UINT32, a list as an array typed by its first element.

    A real model's full shape (for benchmarks) needs the remaining knobs: ``n_ff`` (feed-forward
    width, default ``4 * n_embd``), ``n_head_kv`` (grouped-query attention, default
    ``n_head``), ``rope_freq_base`` and ``tied_output=False`` for a separate ``output.weight``.
    ``greedy_token`` (needs an untied output) makes greedy decoding emit that token after any
    input, so a benchmark generates a fixed number of tokens: every token embedding gets a
    large shared component that dominates the final hidden state, and only that token's output
    row points along it. Speed does not depend on weight values.
    ``counting`` (needs an untied output) makes greedy decoding emit the token after the last
    input token in vocabulary order, so the text runs on without ever repeating itself — what
    tests of streaming and cancellation need now that loops end a generation.
    ``successors`` (needs an untied output) is counting with a chosen order: after token ``a``
    greedy decoding emits ``successors[a]`` (after a token not in it, one of the successors), so a
    test scripts what the model answers — a chain of distinct tokens ending in an end token —
    and everything else (prompt, engine, stops) runs for real.
    """
    source = read_vocab_metadata(vocab)
    arch = decode_value(source["general.architecture"])
    if arch not in _ARCHS:
        raise ValueError(f"vocab {vocab!r} has architecture {arch!r}; supported: {sorted(_ARCHS)}")
    if n_embd % n_head:
        raise ValueError(f"n_embd ({n_embd}) must be a multiple of n_head ({n_head})")
    shape = _ARCHS[arch]
    n_vocab = _U64.unpack_from(source["tokenizer.ggml.tokens"], 8)[0]
    n_ff = n_ff or 4 * n_embd
    n_head_kv = n_head_kv or n_head
    if n_head % n_head_kv:
        raise ValueError(f"n_head ({n_head}) must be a multiple of n_head_kv ({n_head_kv})")
    n_embd_kv = n_embd // n_head * n_head_kv
    if greedy_token is not None and (tied_output or not 0 <= greedy_token < n_vocab):
        raise ValueError("greedy_token needs tied_output=False and a token id of the vocabulary")
    if counting and (tied_output or greedy_token is not None):
        raise ValueError("counting needs tied_output=False and no greedy_token")
    if successors is not None and (tied_output or greedy_token is not None or counting):
        raise ValueError("successors needs tied_output=False, no greedy_token and no counting")
    if successors is not None and len(set(successors.values())) != len(successors):
        raise ValueError("successors must map to distinct tokens (an output row follows one token)")

    string, u32, f32 = GGUFValueType.STRING, GGUFValueType.UINT32, GGUFValueType.FLOAT32
    norm_eps_key = "layer_norm_epsilon" if shape.layernorm else "layer_norm_rms_epsilon"
    metadata: dict[str, bytes] = {
        "general.architecture": _encode(arch, string),
        "general.name": _encode(name or f"tiny-{vocab}", string),
        "general.file_type": _encode(int(LlamaFileType.MOSTLY_F16), u32),
        f"{arch}.vocab_size": _encode(n_vocab, u32),
        f"{arch}.context_length": _encode(n_ctx_train, u32),
        f"{arch}.embedding_length": _encode(n_embd, u32),
        f"{arch}.block_count": _encode(n_layer, u32),
        f"{arch}.feed_forward_length": _encode(n_ff, u32),
        f"{arch}.attention.head_count": _encode(n_head, u32),
        f"{arch}.attention.head_count_kv": _encode(n_head_kv, u32),
        f"{arch}.attention.{norm_eps_key}": _encode(1e-5, f32),
        f"{arch}.rope.freq_base": _encode(rope_freq_base, f32),
    }
    metadata.update({k: v for k, v in source.items() if k.startswith("tokenizer.")})
    for key, value in (extra_metadata or {}).items():
        if value is None:
            metadata.pop(key, None)
        elif key in metadata:
            metadata[key] = _encode(value, *_types_of(metadata[key]))
        else:
            vtype = _guess_type(value)
            sub_type = _guess_type(value[0]) if vtype == GGUFValueType.ARRAY else None
            metadata[key] = _encode(value, vtype, sub_type)

    rng = np.random.default_rng(seed)

    def matrix(rows: int, cols: int) -> np.ndarray:
        # numpy (rows, cols) is ggml's {cols, rows}: one row per output unit.
        return (rng.standard_normal((rows, cols), dtype=np.float32) * 0.02).astype(np.float16)

    def vector(n: int, mean: float) -> np.ndarray:
        return mean + 0.02 * rng.standard_normal(n, dtype=np.float32)

    tensors: dict[str, np.ndarray] = {"token_embd.weight": matrix(n_vocab, n_embd)}
    for i in range(n_layer):
        blk = f"blk.{i}"
        tensors[f"{blk}.attn_norm.weight"] = vector(n_embd, 1.0)
        for proj in ("attn_q", "attn_k", "attn_v"):
            rows = n_embd if proj == "attn_q" else n_embd_kv
            tensors[f"{blk}.{proj}.weight"] = matrix(rows, n_embd)
            if shape.qkv_bias:
                tensors[f"{blk}.{proj}.bias"] = vector(rows, 0.0)
        tensors[f"{blk}.attn_output.weight"] = matrix(n_embd, n_embd)
        tensors[f"{blk}.ffn_norm.weight"] = vector(n_embd, 1.0)
        if not shape.layernorm:
            tensors[f"{blk}.ffn_gate.weight"] = matrix(n_ff, n_embd)
        tensors[f"{blk}.ffn_up.weight"] = matrix(n_ff, n_embd)
        tensors[f"{blk}.ffn_down.weight"] = matrix(n_embd, n_ff)
        if shape.layernorm:
            tensors[f"{blk}.attn_norm.bias"] = vector(n_embd, 0.0)
            tensors[f"{blk}.attn_output.bias"] = vector(n_embd, 0.0)
            tensors[f"{blk}.ffn_norm.bias"] = vector(n_embd, 0.0)
            tensors[f"{blk}.ffn_up.bias"] = vector(n_ff, 0.0)
            tensors[f"{blk}.ffn_down.bias"] = vector(n_embd, 0.0)
    tensors["output_norm.weight"] = vector(n_embd, 1.0)
    if shape.layernorm:
        tensors["output_norm.bias"] = vector(n_embd, 0.0)
    if not tied_output:
        tensors["output.weight"] = matrix(n_vocab, n_embd)
    if greedy_token is not None:
        # Residual stream ~ 50 * direction (each layer adds a few units at most), so the
        # normalised final state is ~ direction and greedy_token's logit (~200) beats the
        # random rows (~1) whatever the input.
        direction = np.where(rng.standard_normal(n_embd) > 0, 1.0, -1.0).astype(np.float32)
        tensors["token_embd.weight"] += (50.0 * direction).astype(np.float16)
        tensors["output.weight"][greedy_token] = (0.1 * direction).astype(np.float16)

    if counting:
        # Each token embedding is its own random ±50 sign vector, far larger than what the
        # layers add, so the final state points along the last token's vector; the output row
        # of token j is the vector of token j-1, so the largest logit is the next token's
        # (self-agreement 64 vs at most ~35 for any other of 32k random sign vectors).
        signs = np.where(rng.standard_normal((n_vocab, n_embd)) > 0, 1.0, -1.0).astype(np.float32)
        tensors["token_embd.weight"] = (50.0 * signs).astype(np.float16)
        tensors["output.weight"] = (0.1 * np.roll(signs, 1, axis=0)).astype(np.float16)
    if successors is not None:
        # As counting, with only the successors' output rows set (to their predecessor's vector).
        signs = np.where(rng.standard_normal((n_vocab, n_embd)) > 0, 1.0, -1.0).astype(np.float32)
        tensors["token_embd.weight"] = (50.0 * signs).astype(np.float16)
        rows = np.zeros((n_vocab, n_embd), dtype=np.float16)
        for before, after in successors.items():
            rows[after] = (0.1 * signs[before]).astype(np.float16)
        tensors["output.weight"] = rows

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    _write_gguf(out_path, metadata, tensors)
    return out_path


def _write_gguf(path: Path, metadata: dict[str, bytes], tensors: dict[str, np.ndarray]) -> None:
    """Write GGUF v3: header, key/values, tensor infos, then the tensor data, each aligned."""
    align = GGUF_DEFAULT_ALIGNMENT
    ggml_types = {np.dtype(np.float16): GGMLQuantizationType.F16, np.dtype(np.float32): GGMLQuantizationType.F32}
    header = bytearray(struct.pack("<4sIQQ", b"GGUF", 3, len(tensors), len(metadata)))
    for key, encoded in metadata.items():
        header += _encode_str(key) + encoded
    offset = 0
    for tensor_name, array in tensors.items():
        dims = array.shape[::-1]  # ggml lists the innermost dimension first
        header += _encode_str(tensor_name) + _U32.pack(len(dims)) + struct.pack(f"<{len(dims)}Q", *dims)
        header += _U32.pack(ggml_types[array.dtype]) + _U64.pack(offset)
        offset += -(-array.nbytes // align) * align
    with path.open("wb") as out:
        out.write(header + bytes(-len(header) % align))
        for array in tensors.values():
            out.write(array.tobytes())
            out.write(bytes(-array.nbytes % align))


@functools.cache
def _cache_dir() -> Path:
    """Per-content directory: a change to this builder or to a vocab file gets new models."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for file_name in sorted({source.file_name for source in VOCABS.values()}):
        digest.update((VOCAB_DIR / file_name).read_bytes())
    return Path(tempfile.gettempdir()) / "slm-lsp-test-models" / digest.hexdigest()[:16]


@functools.cache
def counting_model_path() -> Path:
    """A tiny Llama-vocabulary model (no FIM, like "nofim") whose greedy text never repeats
    itself: it counts through the vocabulary (``build_tiny_model(counting=True)``)."""
    path = _cache_dir() / "tiny-nofim-counting.gguf"
    if not path.exists():
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        build_tiny_model("nofim", partial, tied_output=False, counting=True, name="tiny-nofim-counting")
        os.replace(partial, path)
    return path


@functools.cache
def tiny_model_path(vocab: str) -> Path:
    """The default tiny model for ``vocab``, built once and shared by every test.

    Models live in a content-addressed temp directory, so later test runs (and parallel
    workers) reuse them; each is written under a private name and renamed into place,
    so no process ever sees a half-written file.
    """
    path = _cache_dir() / f"tiny-{vocab}.gguf"
    if not path.exists():
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        build_tiny_model(vocab, partial)
        os.replace(partial, path)
    return path
