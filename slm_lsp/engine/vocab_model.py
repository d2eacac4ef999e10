"""A GGUF's tokenizer without its weights, for the remote backend.

The pipeline measures budgets and lays out FIM prompts in the model's own token ids, so
even when another process generates, the tokenizer must be here. llama.cpp can load a
vocabulary alone (``vocab_only``): milliseconds and a few megabytes instead of the model.
The object offers the part of ``llama_cpp.Llama``'s surface that the engine helpers and
the code actions read (``model``, ``metadata``, ``tokenize``, ``detokenize``).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from pathlib import Path

from slm_lsp.models.gguf_file import ModelFileError


class VocabModel:
    """The vocabulary of one GGUF file, loaded with ``vocab_only``."""

    def __init__(self, path: Path) -> None:
        import llama_cpp
        from llama_cpp._internals import LlamaModel

        params = llama_cpp.llama_model_default_params()
        params.vocab_only = True
        try:
            # verbose=True keeps llama-cpp-python from dup2()ing /dev/null over fds 1 and 2
            # (see Engine.load); its Python-level chatter is captured instead.
            with contextlib.redirect_stderr(io.StringIO()):
                self._model = LlamaModel(path_model=str(path), params=params, verbose=True)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelFileError(path, f"llama.cpp could not load its vocabulary ({exc})") from exc
        self.model = self._model.model
        self.metadata: dict[str, str] = self._model.metadata()

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]:
        return list(self._model.tokenize(text, add_bos, special))

    def detokenize(self, tokens: Sequence[int], special: bool = False) -> bytes:
        return bytes(self._model.detokenize(list(tokens), special=special))

    def close(self) -> None:
        self._model.close()
