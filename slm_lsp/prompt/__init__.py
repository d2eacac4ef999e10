"""The prompt stage: which fill-in-the-middle format a model speaks, and the exact token layout.

``fim`` derives the format from the GGUF's own vocabulary (never from the file name);
``builder`` lays prefix, suffix and context pieces out as token ids within the budget.

Imports nothing from the rest of slm_lsp, so every stage can use it.
"""
