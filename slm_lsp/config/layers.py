"""Configuration sources stacked in precedence order, producing one Settings.

Lowest first: built-in defaults, the user file, the project file, the editor's
``initializationOptions``, ``workspace/didChangeConfiguration``, command-line flags. Each
layer is applied on top of the ones below it and is accepted or refused as a whole, so a
half-valid source never leaves a mix of old and new values in force. Errors name the key
and the source (a file path, or the LSP message that carried the value).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slm_lsp.config.settings import Settings, SettingsError, _snake

# Layer kinds, lowest precedence first.
KINDS = ("user", "project", "initialization", "client", "command line")

# didChangeConfiguration sections the server reads (Neovim `settings = { slm = {...} }`,
# lsp-mode and others by server name). A flat object of known keys is accepted too: Helix
# sends its `config` table as it is.
CLIENT_SECTIONS = ("slm", "slm-lsp")


class LayerError(SettingsError):
    """A source was refused; the message names the key and the source."""


@dataclass(frozen=True)
class Layer:
    """Values from one source. ``source`` is what messages show: a path or an LSP message name."""

    kind: str
    source: str
    values: Mapping[str, Any] = field(default_factory=dict)


def apply(settings: Settings, layer: Layer) -> Settings:
    """``settings`` with ``layer`` on top; raises LayerError naming the key and the source."""
    if not isinstance(layer.values, Mapping):
        raise LayerError(f"{layer.source}: settings must be an object of key/value pairs")
    try:
        return settings.replace(layer.values)
    except SettingsError as exc:
        raise LayerError(f"{layer.source}: {exc}") from None


class ConfigStack:
    """The accepted layers and the settings they produce.

    At start-up a refused layer is reported and left out (the ones below stay in force);
    a layer replaced at run time is refused with an error and the previous one kept.
    """

    def __init__(self, layers: Iterable[Layer] = ()) -> None:
        self._layers: dict[str, Layer] = {}
        self.settings = Settings()
        self.problems: list[str] = []
        for layer in layers:
            try:
                self.replace(layer)
            except LayerError as exc:
                self.problems.append(f"{exc}; ignoring {layer.source}")

    def replace(self, layer: Layer) -> Settings:
        """Put ``layer`` in its kind's place and recompute; on LayerError nothing changes."""
        if layer.kind not in KINDS:
            raise ValueError(f"unknown layer kind {layer.kind!r}")
        layers = {**self._layers, layer.kind: layer}
        settings = Settings()
        for kind in KINDS:
            if kind in layers:
                settings = apply(settings, layers[kind])
        self._layers, self.settings = layers, settings
        return settings

    def sources(self) -> list[str]:
        """The accepted sources, lowest precedence first (shown in slm/status)."""
        return [self._layers[kind].source for kind in KINDS if kind in self._layers and self._layers[kind].values]


def client_settings(payload: Any, source: str) -> Mapping[str, Any] | None:
    """The part of a didChangeConfiguration ``settings`` payload meant for this server, or
    None when it holds nothing for us (clients also send empty or other servers' sections)."""
    if not isinstance(payload, Mapping) or not payload:
        return None
    for section in CLIENT_SECTIONS:
        if section in payload:
            value = payload[section]
            if value is None:
                return {}
            if not isinstance(value, Mapping):
                raise LayerError(f"{source}: section '{section}' must be an object of settings")
            return value
    if all(isinstance(key, str) and _snake(key) in _FIELD_NAMES for key in payload):
        return payload
    return None


_FIELD_NAMES = frozenset(Settings.__dataclass_fields__)
