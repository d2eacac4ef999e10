"""The pygls layer: translates LSP messages into pipeline calls and back, and nothing more.

Holds the server and its handlers, JSON-RPC robustness (framing, validation), process
lifecycle (signals, closed input, a dead editor), LSP text and position semantics, and the
completion service (the single model worker thread, supersede and cancel).

May import every other package. Only ``slm_lsp.cli`` and the actions' own LSP handlers
(``slm_lsp.actions.lsp``) import this package; no pipeline stage, ``models`` or ``config`` does.
"""
