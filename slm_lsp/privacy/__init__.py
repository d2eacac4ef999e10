"""The privacy gate: no secret and no excluded file ever reaches a prompt, a log or a cache.

Every piece of prompt text — the open document's prefix and suffix, other files,
definitions, recent edits, code actions, the CLI — goes through ``PrivacyGate.admit``,
which refuses excluded sources (``GateError``) and redacts secret-shaped strings; the
prompt builder calls ``final_check`` on the pieces just before tokenization. Model output
goes through ``scan_output``. Everything fails closed.

Modules, one job each: ``wildmatch`` (git patterns), ``ignore`` (git's exclusion
algorithm), ``ignorefiles`` (reading and caching ignore files), ``gitrepo`` and
``gitconfig`` (work trees, info/exclude, core.excludesFile), ``denylist`` (built-in
names), ``roots``, ``uris``, ``policy`` (one decision per path) with ``decision``
(its result), ``reader`` (safe reads),
``redactor`` with ``tokens``, ``keywords``, ``pemkeys``, ``entropy``, ``values`` and
``textscan`` (content redaction), ``pieces`` (sealed prompt pieces) and ``gate``.
"""

from slm_lsp.privacy.decision import GateError, PathDecision
from slm_lsp.privacy.gate import PrivacyGate
from slm_lsp.privacy.pieces import PromptPiece
from slm_lsp.privacy.redactor import Finding, Redaction, redact

__all__ = ["Finding", "GateError", "PathDecision", "PrivacyGate", "PromptPiece", "Redaction", "redact"]
