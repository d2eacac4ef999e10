"""The context stage: what code goes into a completion prompt, within the token budget.

``ContextEngine`` (in ``engine``) is the entry point. The other modules each do one step:
``languages`` and ``filters`` (what to index), ``syntax`` (tree-sitter parsing, offsets),
``symbols`` and ``snippets`` (definitions and how they are shown), ``imports`` and ``configs``
(what a file imports, what go.mod/Cargo.toml/tsconfig/package.json declare), ``index`` and
``indexer`` (the workspace index and its background thread), ``documents`` (open documents),
``resolve`` (imports to files), ``relevance`` and ``candidates`` (ranking), ``window`` (the
prefix/suffix cut), ``admission`` (the current document through the privacy gate),
``recent`` (recent edits), ``packing`` (fitting extras into the budget), ``tokens`` (counts),
``paths`` (URIs and the workspace-relative names shown to the model).
"""

from slm_lsp.context.engine import ContextEngine, ContextResult

__all__ = ["ContextEngine", "ContextResult"]
