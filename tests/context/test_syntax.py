"""Incremental re-parsing and character/byte offsets: the basis every cut and snippet relies on."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from slm_lsp.context.syntax import (
    OffsetMap,
    common_prefix_length,
    common_suffix_length,
    parse,
)

BASE = "def f(x):\n    return x + 1\n\n# café ☕ 🎉\nclass K:\n    name = 'ä'\n"


@settings(max_examples=200, deadline=None)
@given(start=st.integers(0, len(BASE)), length=st.integers(0, 12),
       inserted=st.text(alphabet="ab :()\n\t'é☕🎉", max_size=8))
def test_an_incremental_reparse_equals_a_fresh_parse(start: int, length: int, inserted: str) -> None:
    edited = BASE[:start] + inserted + BASE[start + length:]
    previous = parse(BASE, "python")
    incremental = parse(edited, "python", previous)
    fresh = parse(edited, "python")
    assert incremental is not None and fresh is not None
    assert str(incremental.root) == str(fresh.root)
    assert str(previous.root) == str(parse(BASE, "python").root)  # type: ignore[union-attr]  # old tree intact


@settings(max_examples=200, deadline=None)
@given(a=st.text(alphabet="ab\n", max_size=6000), cut=st.floats(0, 1), span=st.integers(0, 5000),
       inserted=st.text(alphabet="abc", max_size=6))
def test_common_prefix_and_suffix_lengths(a: str, cut: float, span: int, inserted: str) -> None:
    start = int(len(a) * cut)
    b = a[:start] + inserted + a[start + span:]
    prefix = common_prefix_length(a, b)
    assert a[:prefix] == b[:prefix] and (prefix == min(len(a), len(b)) or a[prefix] != b[prefix])
    suffix = common_suffix_length(a, b, prefix)
    assert suffix <= min(len(a), len(b)) - prefix
    assert a[len(a) - suffix:] == b[len(b) - suffix:]
    assert suffix == min(len(a), len(b)) - prefix or a[len(a) - suffix - 1] != b[len(b) - suffix - 1]


def test_offset_map_round_trips_through_utf8() -> None:
    for text in ("aé☕🎉\nb\r\nc\u2028d", "x = 'aé☕🎉'\n" * 1500):  # one checkpoint block, then several
        data = text.encode("utf-8")
        offsets = OffsetMap(text, data)
        for index in range(0, len(text) + 1, 1 if len(text) < 100 else 7):
            byte = offsets.byte(index)
            assert byte == len(text[:index].encode("utf-8"))
            assert offsets.char(byte) == index
        assert offsets.byte(len(text)) == len(data) and offsets.char(len(data)) == len(text)


def test_unknown_grammars_give_no_tree() -> None:
    assert parse("x", "no-such-language") is None
