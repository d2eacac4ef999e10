"""``python -m slm_lsp`` is the ``slm-lsp`` command."""

import sys

from slm_lsp.cli import main

sys.exit(main())
