"""The token budget always holds, and cuts fall on statement boundaries (else whole lines)."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slm_lsp.context import ContextEngine, ContextResult
from slm_lsp.context.syntax import parse
from slm_lsp.context.window import cut_window, ends_statement, starts_statement
from slm_lsp.privacy import GateError, PrivacyGate
from tests.context.conftest import cursor_at, regex_count, write_tree

VOCAB = Path(__file__).resolve().parent.parent / "data" / "vocab" / "ggml-vocab-qwen2.gguf.gz"
STDLIB_SAMPLE = Path(sys.modules["os"].__file__ or "")  # a real, large Python file


def total_tokens(engine: ContextEngine, result: ContextResult, count: Callable[[str], int]) -> int:
    """What the budget promises to bound: prefix, suffix, and each extra with its overhead."""
    extras = sum(count(p.text) + engine.piece_overhead(p.source, count) for p in result.extras)
    return count(result.prefix.text) + count(result.suffix.text) + extras


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContextEngine]:
    """An engine over a workspace with definitions to import, shared by the property tests."""
    root = write_tree(tmp_path_factory.mktemp("budget"), {
        "lib/shapes.py": "".join(
            f"class Shape{i}:\n    \"\"\"Shape number {i}.\"\"\"\n\n    def area(self) -> float:\n"
            f"        return {i} * 2.5\n\n\n" for i in range(40)),
        "lib/__init__.py": "from .shapes import *\n",
    })
    gate = PrivacyGate([root])
    engine = ContextEngine([root], gate)
    engine.start_indexing()
    assert engine.wait_until_indexed(30)
    yield engine
    engine.shutdown()


def test_prefix_starts_at_a_statement_not_inside_a_call() -> None:
    text, cursor = cursor_at(
        "import os\n\n"
        "def a():\n"
        "    x = call(\n"
        "        first_argument,\n"
        "        second_argument,\n"
        "    )\n"
        "    y = 2\n"
        "    return y\n\n"
        "def b():\n"
        "    z = 3\n"
        "    <|>\n"
    )
    parsed = parse(text, "python")
    # exactly enough tokens to reach back to the second argument line
    budget = regex_count(text[text.index("        second_argument"):cursor])
    window = cut_window(text, cursor, parsed, regex_count, prefix_budget=budget, suffix_budget=10, slack=0.5)
    assert window.prefix.startswith("    y = 2\n")
    assert window.prefix_tokens <= budget
    line_cut = cut_window(text, cursor, None, regex_count, prefix_budget=budget, suffix_budget=10, slack=0.5)
    assert line_cut.prefix.startswith("        second_argument,\n")  # no grammar: whole lines


def test_suffix_ends_after_a_whole_statement() -> None:
    text, cursor = cursor_at(
        "def f():\n    a = 1<|>\n    b = g(\n        1,\n        2,\n    )\n    c = 3\n"
    )
    parsed = parse(text, "python")
    budget = regex_count(text[cursor:text.index("        2,")])
    window = cut_window(text, cursor, parsed, regex_count, prefix_budget=regex_count(text[:cursor]),
                        suffix_budget=budget, slack=0.9)
    assert window.suffix == "\n"  # stops before the half-written call rather than inside it


def test_one_huge_statement_falls_back_to_line_cuts() -> None:
    text = "DATA = [\n" + "".join(f"    {i},\n" for i in range(400)) + "]\nprint(DATA)\n"
    cursor = text.index("    399,")
    parsed = parse(text, "python")
    window = cut_window(text, cursor, parsed, regex_count, prefix_budget=200, suffix_budget=20, slack=0.3)
    assert 150 <= window.prefix_tokens <= 200  # the statement start is far away: cut at a line
    assert window.prefix.startswith("    ") and window.prefix.split("\n", 1)[0].strip().endswith(",")


def test_a_single_enormous_line_is_cut_by_characters() -> None:
    text = "x = '" + "abc " * 5000 + "'"
    cursor = len(text) - 1
    window = cut_window(text, cursor, parse(text, "python"), regex_count, prefix_budget=50, suffix_budget=5, slack=0.3)
    assert text[:cursor].endswith(window.prefix) and window.suffix == "'"
    assert window.prefix_tokens >= 45 and window.prefix_tokens + window.suffix_tokens <= 55


def test_offsets_are_characters_with_non_ascii_text() -> None:
    text, cursor = cursor_at("名前 = '日本語 🎉'\n\ndef grüße():\n    return 名前<|>\n")
    parsed = parse(text, "python")
    line_starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    starts = [o for o in line_starts if starts_statement(parsed, o)]  # type: ignore[arg-type]
    assert starts == [0, text.index("def grüße"), text.index("    return")]
    ends = [o for o in line_starts[1:] if ends_statement(parsed, o)]  # type: ignore[arg-type]
    assert ends == [text.index("\n") + 1, len(text)]
    window = cut_window(text, cursor, parsed, regex_count, prefix_budget=1000, suffix_budget=10, slack=0.3)
    assert window.prefix == text[:cursor] and window.start == 0 and window.end == len(text)


def test_unused_suffix_budget_goes_to_the_prefix() -> None:
    text = "".join(f"value_{i} = {i}\n" for i in range(200))
    window = cut_window(text, len(text), parse(text, "python"), regex_count, prefix_budget=100,
                        suffix_budget=100, slack=0.3)
    assert window.suffix == "" and 180 <= window.prefix_tokens <= 200


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(st.one_of(
        st.sampled_from(["from lib import Shape3, Shape7\n", "def f(x):\n", "    return Shape3().area()\n",
                         "class K:\n", "    pass\n", "\n", "x = [\n", "    1,\n", "]\n", "    s = Shape7(\n"]),
        st.text(min_size=0, max_size=200).map(lambda s: s + "\n"),
        st.text(alphabet="ab ({[\"'", min_size=100, max_size=3000),
    ), max_size=60),
    cursor_fraction=st.floats(min_value=0.0, max_value=1.0),
    budget=st.integers(min_value=0, max_value=600),
    prefix_ratio=st.floats(min_value=0.0, max_value=1.0),
)
def test_budget_always_holds(engine: ContextEngine, lines: list[str], cursor_fraction: float, budget: int,
                             prefix_ratio: float) -> None:
    text = "".join(lines)
    offset = int(len(text) * cursor_fraction)
    uri = (engine.roots[0] / "main.py").as_uri()
    result = engine.assemble(uri, text, offset, "python", count_tokens=regex_count, budget_tokens=budget,
                             prefix_ratio=prefix_ratio)
    assert total_tokens(engine, result, regex_count) <= budget
    engine.gate.final_check([result.prefix, result.suffix, *result.extras])
    assert 0 <= result.prefix_start_offset <= offset <= result.suffix_end_offset <= len(text)
    if engine.gate.redact(text, hint="main.py").clean:  # nothing secret-shaped: the pieces are the cut text
        assert text[result.prefix_start_offset:offset] == result.prefix.text
        assert text[offset:result.suffix_end_offset] == result.suffix.text


def test_definitions_fill_the_rest_of_the_budget(engine: ContextEngine) -> None:
    text = "from lib import *\n\nshapes = [Shape1(), Shape2(), Shape3()]\nprint(shapes[0].<|>)\n"
    text, offset = cursor_at(text)
    uri = (engine.roots[0] / "main.py").as_uri()
    result = engine.assemble(uri, text, offset, "python", count_tokens=regex_count, budget_tokens=400)
    assert any("class Shape1:" in p.text for p in result.extras)
    assert 300 < total_tokens(engine, result, regex_count) <= 400


@pytest.fixture(scope="module")
def qwen_count(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], int]:
    """Token counts from llama.cpp with Qwen2.5-Coder's real vocabulary (vocab-only model)."""
    llama_cpp = pytest.importorskip("llama_cpp")
    if not VOCAB.exists():
        pytest.skip("no Qwen2 vocab file in tests/data/vocab")
    model_path = tmp_path_factory.mktemp("vocab") / "qwen2.gguf"
    model_path.write_bytes(gzip.decompress(VOCAB.read_bytes()))
    model = llama_cpp.Llama(model_path=str(model_path), vocab_only=True, verbose=False)

    def count(text: str) -> int:
        return len(model.tokenize(text.encode("utf-8", "surrogatepass"), add_bos=False, special=False))

    return count


def test_budget_holds_with_a_real_tokenizer(engine: ContextEngine, qwen_count: Callable[[str], int]) -> None:
    text = STDLIB_SAMPLE.read_text()
    uri = (engine.roots[0] / "os_copy.py").as_uri()
    for fraction in (0.0, 0.1, 0.37, 0.5, 0.81, 1.0):
        offset = int(len(text) * fraction)
        for budget in (0, 17, 256, 1500):
            result = engine.assemble(uri, text, offset, "python", count_tokens=qwen_count, budget_tokens=budget)
            assert total_tokens(engine, result, qwen_count) <= budget
            if budget >= 256 and offset > 0:
                assert result.tokens["prefix"] > 0.5 * 0.7 * budget  # the budget is used, not wasted


def test_budget_nothing_else_uses_goes_to_the_current_file(engine: ContextEngine) -> None:
    text = "".join(f"standalone_{i} = {i} * 3\n" for i in range(400))
    uri = (engine.roots[0] / "alone.py").as_uri()
    result = engine.assemble(uri, text, len(text), "python", count_tokens=regex_count, budget_tokens=500)
    assert not [p for p in result.extras if p.kind == "definition"]
    recent = sum(count + engine.piece_overhead(p.source, regex_count)
                 for p in result.extras for count in [regex_count(p.text)])
    assert 500 - 12 <= result.tokens["prefix"] + recent <= 500  # whole lines: a line's worth may be left


def test_a_secret_straddling_the_prefix_cut_is_still_redacted(engine: ContextEngine) -> None:
    body = "".join(f"{'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'[i:] * 2}\n"[:65] + "\n"
                   for i in range(20))
    key = "-----BEGIN RSA PRIVATE KEY-----\n" + body + "-----END RSA PRIVATE KEY-----\n"
    text = 'KEY = """' + key + '"""\n\nvalue = 1\n'
    uri = (engine.roots[0] / "keys_module.py").as_uri()
    budget = regex_count(text[text.index(body.splitlines()[10]):])  # the line walk ends inside the key
    result = engine.assemble(uri, text, len(text), "python", count_tokens=regex_count, budget_tokens=budget,
                             extras_ratio=0.0)
    assert result.prefix_start_offset > text.index("BEGIN")  # the cut is inside the key
    assert not any(line in result.prefix.text for line in body.splitlines())
    assert "value = 1" in result.prefix.text


def test_an_excluded_document_gets_no_context(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TOKEN=abc\n")
    engine = ContextEngine([tmp_path], PrivacyGate([tmp_path]))
    with pytest.raises(GateError):
        engine.assemble((tmp_path / ".env").as_uri(), "TOKEN=abc\n", 3, None, count_tokens=regex_count,
                        budget_tokens=100)
    assert not engine.recent.has_other(None)


def test_a_cursor_inside_a_secret_shows_neither_half(engine: ContextEngine) -> None:
    text = 'import os\n\ndb_password = "Zr8kLq2vNw9xTqq"\nprint(os.name)\n'
    uri = (engine.roots[0] / "settings.py").as_uri()
    result = engine.assemble(uri, text, text.index("Lq2"), "python", count_tokens=regex_count, budget_tokens=300)
    shown = result.prefix.text + result.suffix.text
    assert "Zr8k" not in shown and "Lq2vNw9xTqq" not in shown and "<redacted:" in shown
    assert result.suffix.text.startswith('"\nprint(os.name)')
