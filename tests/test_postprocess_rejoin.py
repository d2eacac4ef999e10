"""Block completion where code already follows the cursor: stop at that code, never repeat it.

Each case is a document with the cursor marked ``█``, the raw model output, how generation
ended ("stop" = at the stop sequence ``stop_sequences`` gave for this cursor, "end" = an
end token, "length" = the token limit, "other" = another stop sequence) and the text that must be inserted. The cases go
through ``decide_mode``, ``stop_sequences`` and ``postprocess`` as the pipeline calls them.
"""

from __future__ import annotations

import pytest

from slm_lsp.postprocess import CompletionMode, decide_mode, postprocess, stop_sequences

SINGLE, MULTI, FILL = CompletionMode.SINGLE, CompletionMode.MULTI, CompletionMode.FILL

PY_PARENS = (
    "def groups(s):\n"
    "    depth = 0\n"
    "    for c in s:\n"
    "        if c == '(':\n"
    "            depth += 1\n"
    "█\n"
    "            if depth == 0:\n"
    "                out.append(c)\n"
    "    return out\n"
)
PY_SUM = "def total(xs):\n    result = 0\n    for x in xs:\n        result += x\n█\n    return result\n"
PY_GAP = "def mean(xs):\n    total = 0\n█\n    return total / len(xs)\n"
JS_SUM = "function total(xs) {\n  let sum = 0;\n█\n  return sum;\n}\n"
JS_END = "function f(xs) {\n  if (xs.length) {\n    first(xs);\n█\n  }\n  return xs;\n}\n"
GO_GAP = "func total(xs []int) int {\n\tsum := 0\n█\n\treturn sum\n}\n"


def case(language: str, document: str, raw: str, ended: str, mode: CompletionMode, expected: str, why: str) -> object:
    return pytest.param(language, document, raw, ended, mode, expected, id=why)


CASES = [
    # The model reaches the next line: everything before it is the fill, dedent and all.
    case("python", PY_PARENS, "            cur.append(c)\n        elif c == ')':\n            depth -= 1\n", "stop", FILL,
         "            cur.append(c)\n        elif c == ')':\n            depth -= 1", "py-reached-by-stop-keeps-dedented-elif"),
    case("python", PY_PARENS,
         "            cur.append(c)\n        elif c == ')':\n            depth -= 1\n            if depth == 0:\n", "end", FILL,
         "            cur.append(c)\n        elif c == ')':\n            depth -= 1", "py-reached-in-text-is-cut-before-it"),
    case("python", PY_GAP, "    for x in xs:\n        total += x\n", "stop", FILL,
         "    for x in xs:\n        total += x", "py-gap-filled-with-a-loop"),
    # The model wrote the next line in its own spacing: still the same line.
    case("python", PY_GAP, "    for x in xs:\n        total += x\n    return total/len(xs)\n", "end", FILL,
         "    for x in xs:\n        total += x", "py-reached-with-other-spacing"),
    # Same text at another indentation is another line (here: inside the loop, which stays whole).
    case("python", PY_GAP, "    for x in xs:\n        total += x\n        return total / len(xs)\n", "end", FILL,
         "    for x in xs:\n        total += x\n        return total / len(xs)", "py-same-text-deeper-is-not-the-target"),
    # Not reached: only the first statement (with its block), never the model's whole guess.
    case("python", PY_GAP, "    for x in xs:\n        total += x\n    print(total)\n    return total\n", "end", FILL,
         "    for x in xs:\n        total += x", "py-not-reached-keeps-the-first-statement-and-its-block"),
    case("python", PY_GAP, "    # add them up\n    total = sum(xs)\n    count = len(xs)\n", "length", FILL,
         "    # add them up\n    total = sum(xs)", "py-not-reached-comment-then-statement"),
    # Never repeat the suffix: the model's first line is the next line itself.
    case("python", PY_GAP, "    return total / len(xs)\n", "end", FILL, "", "py-first-line-repeats-the-suffix"),
    # End of a block whose function goes on below (MULTI): reaching the next line allows a dedent ...
    case("python", PY_SUM, "        result += 1\n    result *= 2\n", "stop", MULTI,
         "        result += 1\n    result *= 2", "py-block-end-reached"),
    # ... not reaching it stops at the block's end, as without a target.
    case("python", PY_SUM, "        result += 1\n    print(result)\n", "other", MULTI,
         "        result += 1", "py-block-end-not-reached-stops-at-dedent"),
    # Reached, but a line in between does not parse: tree-sitter keeps the longest valid cut.
    case("python", PY_PARENS, "            cur.append(c)\n        elif:\n            depth -= 1\n", "stop", FILL,
         "            cur.append(c)", "py-reached-but-invalid-is-cut-by-tree-sitter"),
    # An empty body at the end of the file: no target, the block ends where the indentation does.
    case("python", "def double(x):█", "\n    return x * 2\n\nprint(double(2))\n", "end", MULTI,
         "\n    return x * 2", "py-empty-body-ends-at-dedent"),
    # A completion must not end opening a block whose body nothing supplies ...
    case("python", "def f(s):\n    r = []\n█\n", "    for g in s:\n        if g:\n            continue\n        if g in r:\n",
         "length", MULTI, "    for g in s:\n        if g:\n            continue", "py-opener-without-body-is-dropped"),
    # ... but the body may be the code below.
    case("python", "def f(s):\n    r = []\n█\n        r.append(c)\n    return r\n", "    n = 0\n    for c in s:\n", "stop",
         FILL, "    n = 0\n    for c in s:", "py-opener-whose-body-is-below-is-kept"),
    # JavaScript
    case("javascript", JS_SUM, "  for (const x of xs) {\n    sum += x;\n  }\n", "stop", FILL,
         "  for (const x of xs) {\n    sum += x;\n  }", "js-reached"),
    case("javascript", JS_SUM, "  for (const x of xs) {\n    sum += x;\n  }\n  console.log(sum);\n", "end", FILL,
         "  for (const x of xs) {\n    sum += x;\n  }", "js-not-reached-keeps-the-statement-with-its-brace"),
    case("javascript", JS_SUM, "  return sum;\n}\n", "end", FILL, "", "js-first-line-repeats-the-suffix"),
    # The block ends with a closing brace below: no target (closers repeat at every level), the
    # bracket rule stops at the model's own closer of that block.
    case("javascript", JS_END, "    second(xs);\n  }\n  return xs;\n", "end", MULTI, "    second(xs);", "js-block-end-at-closer"),
    # Go
    case("go", GO_GAP, "\tfor _, x := range xs {\n\t\tsum += x\n\t}\n", "stop", FILL,
         "\tfor _, x := range xs {\n\t\tsum += x\n\t}", "go-reached"),
    case("go", GO_GAP, "\tsum = len(xs)\n\tsum *= 2\n", "length", FILL, "\tsum = len(xs)", "go-not-reached-truncated"),
]


@pytest.mark.parametrize(("language", "document", "raw", "ended", "mode", "expected"), CASES)
def test_block_completion_up_to_the_code_below(
    language: str, document: str, raw: str, ended: str, mode: CompletionMode, expected: str
) -> None:
    prefix, suffix = document.split("█")
    assert decide_mode(prefix, suffix, language) == mode
    stops = stop_sequences(language, mode, prefix=prefix, suffix=suffix)
    stopped_at = stops[0] if ended == "stop" else stops[-1] if ended == "other" else ""
    text = postprocess(raw, prefix, suffix, language, mode, truncated=ended == "length", stopped_at=stopped_at)
    assert text == expected


PY_STOPS = ["\n\n\n", "\n```", "\n\ndef ", "\n\nclass ", "\n\nasync def ", "\n\n@", "\nif __name__"]
STOPS = [
    # With code below in the block, generation stops only at that code's first line, in full.
    ("python", PY_GAP, ["\n    return total / len(xs)\n", *PY_STOPS]),
    ("python", PY_SUM, ["\n    return result\n", *PY_STOPS]),
    ("go", GO_GAP, ["\n\treturn sum\n", "\n\n\n", "\n```", "\n\nfunc ", "\n\ntype "]),
    # No target: the next line only closes brackets, or starts another definition.
    ("javascript", JS_END, ["\n\n\n", "\n```", "\n\nfunction ", "\n\nexport ", "\n\nclass ", "\n\nasync function "]),
    ("python", "def f(x):\n    y = x\n    █\n\n\ndef g():\n    pass\n", PY_STOPS),
    # Between two top-level statements the next one is the target (FILL).
    ("python", "import os\n█\nimport sys\n", ["\nimport sys\n", *PY_STOPS]),
]


@pytest.mark.parametrize(("language", "document", "stops"), STOPS, ids=[f"{s[0]}-{s[1][-20:]!r}" for s in STOPS])
def test_stop_sequences_at_the_cursor(language: str, document: str, stops: list[str]) -> None:
    prefix, suffix = document.split("█")
    assert stop_sequences(language, decide_mode(prefix, suffix, language), prefix=prefix, suffix=suffix) == stops


def test_another_stop_does_not_count_as_reaching_the_code_below() -> None:
    # Stopped at two blank lines, not at the next line: the model's guess beyond the first
    # statement is not offered (FILL), and the dedent rule applies (MULTI).
    prefix, suffix = PY_GAP.split("█")
    raw = "    for x in xs:\n        total += x\n    print(total)"
    assert postprocess(raw, prefix, suffix, "python", FILL, stopped_at="\n\n\n") == "    for x in xs:\n        total += x"
    prefix, suffix = PY_SUM.split("█")
    assert postprocess("        result += 1\n    print(result)", prefix, suffix, "python", MULTI, stopped_at="\n\n\n") == (
        "        result += 1"
    )


def test_the_engine_reports_which_stop_ended_generation() -> None:
    from slm_lsp.engine.local_engine import first_stop, matched_stop

    stops = ["\n    return x\n", "\n\n\n", "\n\ndef "]
    assert matched_stop("    y = 1\n    return x\n", stops) == (9, "\n    return x\n")
    assert matched_stop("    y = 1\n\n\ndef g", stops) == (9, "\n\n\n")  # earliest; tie: the first listed
    assert matched_stop("    y = 1\n    return xs\n", stops) is None  # the target line only in full
    assert first_stop("a\n\n\nb", stops) == 1
