"""``slm-lsp`` with the code actions registered, for the tests in this folder.

Until ``build_server`` calls ``register_actions`` itself, this wraps it; once it does, the
wrapper sees the code-action feature already there and changes nothing. Arguments are the
``slm-lsp`` command line (``serve --model ...``).
"""

from __future__ import annotations

import sys

from lsprotocol import types

import slm_lsp.lsp.server as server_module
from slm_lsp.actions import register_actions

_build_server = server_module.build_server


def build_server(overrides=None):  # type: ignore[no-untyped-def]
    server = _build_server(overrides)
    if types.TEXT_DOCUMENT_CODE_ACTION not in server.protocol.fm.features:
        register_actions(server)
    return server


server_module.build_server = build_server

if __name__ == "__main__":
    from slm_lsp.cli import main

    sys.exit(main(sys.argv[1:]))
