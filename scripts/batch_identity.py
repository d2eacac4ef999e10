"""Does llama.cpp give the same logits for a token decoded alone and inside a batch?

Speculative decoding (issue 19: drafts from the prompt, verified in one ``llama_decode``) can
only promise output identical to plain greedy decoding if the logits of a position do not
depend on how many tokens were decoded with it. This script measures that on this machine's
CPU backend: it evaluates the same prompt, then decodes the same continuation one token per
call and in batches of 2–16 with logits for every position, and compares the logits and their
argmax position by position — with llama.cpp's repacked weight layouts (``use_extra_bufts``)
and flash attention on and off, on the same context settings the engine uses (unified KV cache, full SWA cache).

    python scripts/batch_identity.py [--model GGUF]     # default: the embedded model

Prints figures only, never text.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROMPT_TOKENS = 300
CONTINUATION = 16
BATCHES = (2, 4, 8, 16)


def measure(model_path: str, text: bytes, extra_bufts: bool, flash: bool, threads: int) -> list[tuple[int, float, bool, float]]:
    """(batch size, max |Δlogit|, bit-identical, share of positions whose argmax agrees) per batch size."""
    import llama_cpp

    params = llama_cpp.llama_model_default_params()
    params.use_extra_bufts = extra_bufts
    model = llama_cpp.llama_model_load_from_file(model_path.encode(), params)
    if not model:
        raise SystemExit(f"could not load {model_path}")
    vocab = llama_cpp.llama_model_get_vocab(model)
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    cparams = llama_cpp.llama_context_default_params()
    cparams.n_ctx, cparams.n_batch, cparams.n_ubatch = 1024, 512, 256
    cparams.n_threads = cparams.n_threads_batch = threads
    cparams.swa_full, cparams.kv_unified, cparams.n_seq_max = True, True, 2
    cparams.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_AUTO if flash else llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
    ctx = llama_cpp.llama_init_from_model(model, cparams)
    memory = llama_cpp.llama_get_memory(ctx)
    buffer = (llama_cpp.llama_token * 4096)()
    n = llama_cpp.llama_tokenize(vocab, text, len(text), buffer, 4096, True, False)
    ids = list(buffer[:n])
    if len(ids) < PROMPT_TOKENS + CONTINUATION:
        raise SystemExit("the sample text is too short for this tokenizer")
    prompt, continuation = ids[:PROMPT_TOKENS], ids[PROMPT_TOKENS : PROMPT_TOKENS + CONTINUATION]
    batch = llama_cpp.llama_batch_init(512, 0, 1)

    def decode(tokens: list[int], start: int, every_logit: bool) -> None:
        batch.n_tokens = len(tokens)
        for i, token in enumerate(tokens):
            batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, start + i, 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = 1 if every_logit or i == len(tokens) - 1 else 0
        if llama_cpp.llama_decode(ctx, batch) != 0:
            raise SystemExit("llama_decode failed")

    def run(size: int) -> np.ndarray:
        llama_cpp.llama_memory_clear(memory, True)
        decode(prompt, 0, False)
        rows = []
        for offset in range(0, len(continuation), size):
            chunk = continuation[offset : offset + size]
            decode(chunk, len(prompt) + offset, True)
            for i in range(len(chunk)):
                rows.append(np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, i), shape=(n_vocab,)).copy())
        return np.stack(rows)

    alone = run(1)
    results = []
    for size in BATCHES:
        batched = run(size)
        results.append((size, float(np.abs(batched - alone).max()), bool(np.array_equal(batched, alone)),
                        float((batched.argmax(1) == alone.argmax(1)).mean())))
    llama_cpp.llama_batch_free(batch)
    llama_cpp.llama_free(ctx)
    llama_cpp.llama_model_free(model)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="GGUF file (default: the embedded model)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if args.model:
        model_path = args.model
    else:
        from slm_lsp.models.source import ensure_embedded_model

        model_path = str(ensure_embedded_model())
    import llama_cpp

    llama_cpp.llama_backend_init()
    text = (ROOT / "slm_lsp" / "engine" / "kv_cache.py").read_bytes()[:4000]  # real code, as the engine sees it
    print(f"model {Path(model_path).name}; prompt {PROMPT_TOKENS} tokens, {CONTINUATION} continuation tokens\n")
    rows = ["| repacked weights | flash attention | batch | max abs logit difference vs one token per call | bit-identical | argmax agrees |",
            "| --- | --- | --- | --- | --- | --- |"]
    for extra in (True, False):
        for flash in (True, False):
            for size, diff, identical, agree in measure(model_path, text, extra, flash, args.threads):
                rows.append(f"| {'on' if extra else 'off'} | {'auto' if flash else 'off'} | {size} | {diff:.2f} | "
                            f"{'yes' if identical else 'no'} | {100 * agree:.0f} % |")
    print("\n".join(rows))  # after llama.cpp's load messages
    return 0


if __name__ == "__main__":
    sys.exit(main())
