"""How relevant a name is to the code around the cursor.

The code the model is about to write is most like the code right around the cursor, so a
definition matters more the closer to the cursor its name is used: each use within the window
counts 1/(1 + distance in lines / ``FALLOFF``) (lines taken four at a time), uses after the
cursor count half. A name typed
right before the cursor as ``qualifier.`` (or ``::``/``->``) marks every member of that module
or type as wanted, and ones starting with the partially typed word even more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_MEMBER_ACCESS = re.compile(r"([A-Za-z_$][A-Za-z0-9_$]*(?:(?:\.|::)[A-Za-z_$][A-Za-z0-9_$]*)*)(?:\.|::|->)"
                            r"([A-Za-z_$][A-Za-z0-9_$]*)?$")
_PARTIAL = re.compile(r"[A-Za-z0-9_$]*$")
FALLOFF = 8.0
_GROUP = 4
SUFFIX_WEIGHT = 0.5
MAX_WEIGHT = 4.0


@dataclass(frozen=True)
class CursorFocus:
    """What is being written at the cursor: nearby names with weights, and a member access."""

    weights: dict[str, float]
    qualifier: str | None  # ``utils`` in ``utils.pa|``
    partial: str  # ``pa`` in ``utils.pa|``

    def weight(self, name: str) -> float:
        return self.weights.get(name, 0.0)


def focus(prefix: str, suffix: str) -> CursorFocus:
    """Weights of the identifiers in ``prefix``/``suffix`` by their line distance to the cursor."""
    weights: dict[str, float] = {}
    _accumulate(weights, prefix, reverse=True, scale=1.0)
    _accumulate(weights, suffix, reverse=False, scale=SUFFIX_WEIGHT)
    line = prefix[prefix.rfind("\n") + 1 :]
    access = _MEMBER_ACCESS.search(line)
    if access is not None:
        qualifier, partial = access.group(1), access.group(2) or ""
    else:
        qualifier, partial = None, _PARTIAL.search(line).group(0)  # type: ignore[union-attr]
    return CursorFocus({k: min(v, MAX_WEIGHT) for k, v in weights.items()}, qualifier, partial)


def _accumulate(weights: dict[str, float], text: str, *, reverse: bool, scale: float) -> None:
    """Add each identifier's weight, lines taken ``_GROUP`` at a time (one regex pass per group)."""
    lines = text.split("\n")
    if reverse:
        lines.reverse()
    for first in range(0, len(lines), _GROUP):
        weight = scale / (1.0 + (first + _GROUP / 2) / FALLOFF)
        for name in _IDENTIFIER.findall("\n".join(lines[first : first + _GROUP])):
            weights[name] = weights.get(name, 0.0) + weight
