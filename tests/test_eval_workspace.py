"""Workspace holes: deterministic sampling, only admitted files, scores and the comparisons.

The workspace is a real git repository indexed by the real context stage and privacy
gate, as ``slm-lsp eval --workspace`` does; no model is needed here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from slm_lsp.context import ContextEngine
from slm_lsp.evaluation.compare import compare_with_baseline, paired, sign_test
from slm_lsp.evaluation.workspace_holes import KINDS, sample_holes
from slm_lsp.evaluation.workspace_report import markdown
from slm_lsp.evaluation.workspace_runner import VariantRun, parse_variant, workspace_files
from slm_lsp.evaluation.workspace_scores import chars_saved, score, would_accept
from slm_lsp.privacy import PrivacyGate

SECRET = "AKIAZ7CANARY4KEYQ2XW"

MODULE = '''"""Shapes."""

import math


class Circle:
    def __init__(self, radius):
        self.radius = radius

    def area(self):
        """The area, rounded to three places."""
        value = math.pi * self.radius ** 2
        return round(value, 3)

    def scaled(self, factor):
        if factor <= 0:
            raise ValueError("factor must be positive")
        return Circle(self.radius * factor)


def total_area(shapes):
    # the sum of every area
    result = 0.0
    for shape in shapes:
        result += shape.area()
    return max(result, 0.0)
'''

SCRIPT = """export function greet(name, greeting) {
  const text = `${greeting}, ${name}!`;
  console.log(text.trim());
  return text.length;
}
"""


def make_workspace(root: Path) -> Path:
    """A git work tree with code, an excluded .env, a git-ignored module and a key in an admitted file."""
    (root / "pkg").mkdir(parents=True)
    (root / "build").mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text("build/\n")
    (root / ".env").write_text("DATABASE_URL=postgres://admin:CANARYenvPw9@db/prod\n")
    (root / "build" / "generated.py").write_text("def generated_helper(a, b):\n    return compute(a, b)\n")
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "shapes.py").write_text(MODULE)
    (root / "pkg" / "cloud.py").write_text(
        f'AWS_ACCESS_KEY_ID = "{SECRET}"\n\n\ndef upload(bucket, data):\n    return bucket.put(data, key=AWS_ACCESS_KEY_ID)\n'
    )
    (root / "web.js").write_text(SCRIPT)
    return root


@pytest.fixture
def context(tmp_path: Path) -> ContextEngine:
    root = make_workspace(tmp_path / "repo")
    engine = ContextEngine([root], PrivacyGate([root]))
    engine.start_indexing()
    assert engine.wait_until_indexed(60)
    yield engine
    engine.shutdown()


def test_same_seed_same_holes_other_seed_other_holes(context: ContextEngine) -> None:
    files = workspace_files(context)
    first = sample_holes(files, n=12, seed=3)
    again = sample_holes(workspace_files(context), n=12, seed=3)
    other = sample_holes(files, n=12, seed=4)
    assert [h.id for h in first] == [h.id for h in again]
    assert [(h.truth, h.document) for h in first] == [(h.truth, h.document) for h in again]
    assert [h.id for h in first] != [h.id for h in other]
    assert len(first) == 12 and {h.kind for h in first} == set(KINDS)  # an equal share per kind: 3 each
    assert all(sum(h.kind == kind for h in first) == 3 for kind in KINDS)


def test_kinds_and_languages_restrict_the_sample(context: ContextEngine) -> None:
    holes = sample_holes(workspace_files(context, ["javascript"]), n=50, seed=0, kinds=["args", "line"])
    assert holes and {h.file.relative for h in holes} == {"web.js"} and {h.kind for h in holes} <= {"args", "line"}
    assert all(h.file.text[h.start - 1] == "(" and h.file.text[h.end] == ")" for h in holes if h.kind == "args")


def test_holes_are_what_each_kind_promises(context: ContextEngine) -> None:
    holes = sample_holes(workspace_files(context, ["python"]), n=200, seed=0)
    by_kind = {kind: [h for h in holes if h.kind == kind] for kind in KINDS}
    assert all(by_kind.values())
    for hole in holes:
        assert hole.document[: hole.start] + hole.truth + hole.document[hole.start :] == hole.file.text
        assert hole.truth.strip() and not hole.truth.startswith("#")
    for hole in by_kind["line"]:  # from the indentation to the end of the line
        assert hole.file.text[hole.end : hole.end + 1] in ("\n", "") and "\n" not in hole.truth
        assert not hole.file.text[hole.start - hole.column : hole.start].strip()
    for hole in by_kind["rest"]:  # from the end of a token inside the line
        assert hole.file.text[hole.start - hole.column : hole.start].strip() and "\n" not in hole.truth
    assert any(h.truth == "value = math.pi * self.radius ** 2\n        return round(value, 3)" for h in by_kind["block"])
    assert not any(h.truth.startswith('"""') for h in by_kind["block"])  # the body after the docstring
    assert "# the sum of every area" not in {h.truth for h in holes}  # comment lines are not code to write


def test_only_admitted_files_and_no_secret_lines(context: ContextEngine) -> None:
    files = workspace_files(context)
    assert {f.relative for f in files} == {"pkg/__init__.py", "pkg/shapes.py", "pkg/cloud.py", "web.js"}
    holes = sample_holes(files, n=500, seed=0)
    assert holes and not any(h.file.relative.startswith(("build/", ".env")) for h in holes)
    cloud = [h for h in holes if h.file.relative == "pkg/cloud.py"]
    assert cloud, "the file with a key still gives holes on its other lines"
    assert all(SECRET not in h.truth and h.line != 0 for h in cloud)


def test_scores() -> None:
    assert would_accept("return x", "return x + 1") and chars_saved("return x", "return x + 1") == 8
    assert would_accept("for a in b:\n", "for a in b:\n    pass")  # the first line of a block
    assert not would_accept("return y", "return x") and chars_saved("return y", "return x") == 0
    assert not would_accept("   ", "return x")
    result = score("return x  ", "return x")
    assert result.exact_match and result.would_accept and result.chars_saved == 8 and result.edit_similarity == 1.0


def test_sign_test_and_paired_differences() -> None:
    assert sign_test(0, 0) == 1.0 and sign_test(5, 5) == 1.0
    assert sign_test(10, 0) == pytest.approx(2 / 1024) and sign_test(0, 10) == sign_test(10, 0)
    assert sign_test(9, 2) == pytest.approx(2 * sum(__import__("math").comb(11, i) for i in range(3)) / 2**11)
    result = paired("exact_match", [1, 0, 0, 1], [1, 1, 1, 0])
    assert (result.wins, result.losses, result.ties, result.mean_difference) == (2, 1, 1, 0.25)


def test_variant_specs() -> None:
    assert parse_variant("promptTokens=512,suffixRatio=0.1").overrides == {"promptTokens": 512, "suffixRatio": 0.1}
    assert parse_variant("model=/m/x.gguf").overrides == {"model": "/m/x.gguf"}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_variant("promptTokens")


def _report(exact: float, ids: list[str]) -> dict:
    return {"variants": [{"name": "base", "metrics": {"exact_match": exact, "edit_similarity": 0.5,
                                                      "would_accept": 0.4, "chars_saved_share": 0.2,
                                                      "tests_passed": None}}],
            "holes": [{"id": i, "results": {"base": {"exact_match": exact >= 0.5, "edit_similarity": 0.5,
                                                      "would_accept": True, "chars_saved": 3}}} for i in ids]}


def test_baseline_gate_tolerance() -> None:
    assert compare_with_baseline(_report(0.50, ["a"]), _report(0.51, ["a"]), 0.02).passed
    failed = compare_with_baseline(_report(0.40, ["a"]), _report(0.50, ["a"]), 0.02)
    assert not failed.passed and [r.metric for r in failed.regressions] == ["exact_match"]
    assert failed.same_holes and any("wins" in row for row in failed.rows)
    other = compare_with_baseline(_report(0.60, ["a"]), _report(0.50, ["b"]), 0.02)
    assert other.passed and not other.same_holes and not any("wins" in row for row in other.rows)


def test_gating_curve_per_variant_counts_would_accept_among_non_empty_suggestions() -> None:
    run = VariantRun(parse_variant("minConfidence=0.3"), min_confidence=0.3)
    run.results = [
        {"completion": "a", "would_accept": True, "confidence": 0.9},
        {"completion": "b", "would_accept": False, "confidence": 0.2},
        {"completion": "c", "would_accept": True, "confidence": 0.25},
        {"completion": "", "would_accept": False, "confidence": None},  # nothing suggested: not in the curve
    ]
    points = {p.threshold: (p.shown, p.right_shown) for p in run.gating()}
    assert points[0.0] == (3, 2) and points[0.3] == (1, 1) and points[0.5] == (1, 1)
    assert VariantRun(parse_variant("x=1")).gating() == []  # no results, no curve
    report = {"workspace": "w", "seed": 0, "n": 4, "holes_by_kind": {"line": 4}, "languages": [], "files": 1,
              "variants": [{"name": "v", "model": "m", "error": None, "metrics": {}, "by_kind": {},
                            "min_confidence": 0.3, "gating": [p.as_dict() for p in run.gating()]}],
              "paired": [], "holes": []}
    text = markdown(report)
    assert "Confidence gating, v" in text and "| 0.3 (in force) | 1 | 1 (-50%) | 0 (-100%) | 1.000 | 0.500 |" in text
