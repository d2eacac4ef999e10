"""``slm-lsp`` whose model answers every generation with the text in ``$SLM_TEST_SCRIPT``
(see scripted.py), recording each prompt, NUL-separated, in the file ``$SLM_TEST_PROMPTS``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import slm_lsp.engine.local_engine as local_engine
from tests.actions.scripted import scripted_generate

_load = local_engine.Engine.load.__func__  # type: ignore[attr-defined]


class _Recorded(list):  # type: ignore[type-arg]
    def append(self, prompt: str) -> None:
        with Path(os.environ["SLM_TEST_PROMPTS"]).open("a", encoding="utf-8") as out:
            out.write(prompt + "\0")


def load(cls, *args, **kwargs):  # type: ignore[no-untyped-def]
    engine = _load(cls, *args, **kwargs)
    engine.generate = scripted_generate(engine, lambda: Path(os.environ["SLM_TEST_SCRIPT"]).read_text(), _Recorded())
    return engine


local_engine.Engine.load = classmethod(load)  # type: ignore[method-assign, assignment]

if __name__ == "__main__":
    import tests.actions.serve_with_actions  # noqa: F401 - registers the actions as the normal wrapper does
    from slm_lsp.cli import main

    sys.exit(main(sys.argv[1:]))
