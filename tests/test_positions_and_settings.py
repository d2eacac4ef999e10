"""Position conversion (UTF-16/8/32, LSP line breaks) and settings validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slm_lsp.config.settings import Settings, SettingsError
from slm_lsp.lsp.positions import PositionError, offset_at, position_at

TEXT = 'a = "😀x"\r\nb = "日本"\rc\n'


@pytest.mark.parametrize(
    ("line", "character", "encoding", "offset"),
    [
        (0, 5, "utf-16", 5),  # just before the emoji
        (0, 7, "utf-16", 6),  # the emoji is two UTF-16 units
        (0, 6, "utf-32", 6),
        (0, 9, "utf-8", 6),  # ... and four UTF-8 bytes
        (1, 6, "utf-16", 16),  # after \r\n; "日" is one unit
        (2, 1, "utf-16", 20),  # a lone \r ends line 1
        (3, 0, "utf-16", 21),  # the empty line after the final \n
    ],
)
def test_offsets(line: int, character: int, encoding: str, offset: int) -> None:
    assert offset_at(TEXT, line, character, encoding=encoding) == offset
    assert position_at(TEXT, offset, encoding=encoding) == (line, character)


@pytest.mark.parametrize(("line", "character", "message"), [(4, 0, "past the end of the document"), (0, 6, "splits"), (0, 40, "past the end of line 0"), (-1, 0, "negative")])
def test_invalid_positions(line: int, character: int, message: str) -> None:
    with pytest.raises(PositionError, match=message):
        offset_at(TEXT, line, character)


def test_clamp_follows_lsp_for_long_characters() -> None:
    assert offset_at(TEXT, 0, 40, clamp=True) == 8


@given(st.lists(st.sampled_from(["a", "😀", "日", "\n", "\r\n", "\r", " "]), max_size=40).map("".join), st.data())
def test_round_trip(text: str, data: st.DataObject) -> None:
    offset = data.draw(st.integers(min_value=0, max_value=len(text)))
    if offset and text[offset - 1 : offset + 1] == "\r\n":
        return  # between \r and \n is not a position
    line, character = position_at(text, offset)
    assert offset_at(text, line, character) == offset


def test_settings_accept_camel_case_and_reject_bad_values() -> None:
    settings = Settings().replace({"nCtx": 8192, "maxTokensSingle": 32, "model": "/m.gguf"})
    assert (settings.n_ctx, settings.max_tokens_single, settings.model) == (8192, 32, "/m.gguf")
    for bad, key in [({"nCtx": "big"}, "nCtx"), ({"suffixRatio": 2}, "suffixRatio"), ({"colour": 1}, "colour"), ({"nCtx": 256}, "nCtx")]:
        with pytest.raises(SettingsError, match=key):
            settings.replace(bad)
