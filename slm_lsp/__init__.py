"""slm-lsp: offline inline code completion from a local GGUF coder model, served over LSP."""

__version__ = "0.1.0"
