"""The package layout's import rules (README "Layout"), read from the source with ast.

A stage that imports the LSP layer, or a leaf package that reaches up into the pipeline,
would make the data flow unreadable again; this keeps the rules true as code moves.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "slm_lsp"

# unit -> the slm_lsp units it may import (a unit is a sub-package or a root module)
ALLOWED: dict[str, set[str]] = {
    "privacy": set(),
    "prompt": set(),
    "config": set(),
    # HumanEval needs nothing of slm_lsp; --workspace samples through the gate and runs the pipeline
    "evaluation": {"config", "context", "languages", "nextedit", "pipeline", "privacy"},
    "context": {"privacy", "treesitter"},
    "nextedit": {"context", "privacy", "treesitter"},
    "postprocess": {"treesitter"},
    "engine": {"prompt", "config", "models"},
    "models": {"config", "processes", "engine"},
    "pipeline": {"config", "context", "engine", "models", "postprocess", "privacy", "prompt", "languages", "treesitter"},
}
ROOT_MODULES = {"__init__", "__main__", "cli", "pipeline", "languages", "treesitter", "processes"}


def _unit(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    """The dotted slm_lsp modules ``path`` imports (at module level or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("slm_lsp"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("slm_lsp"))
    return found


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_root_holds_at_most_eight_modules() -> None:
    root = {p.stem for p in PACKAGE.glob("*.py")}
    assert root == ROOT_MODULES and len(root) <= 8


@pytest.mark.parametrize("package", sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()))
def test_every_package_says_its_job_and_what_it_may_import(package: str) -> None:
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text(encoding="utf-8")))
    assert doc, f"slm_lsp/{package}/__init__.py has no docstring"


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_layout(path: Path) -> None:
    unit = _unit(path)
    targets = {m.split(".")[1] for m in _imports(path) if m.count(".") >= 1} - {unit}
    if "lsp" in targets:
        assert path.relative_to(PACKAGE).as_posix() in {"cli.py", "actions/lsp.py"}, f"{path} imports slm_lsp.lsp"
    if unit in ALLOWED:
        assert targets <= ALLOWED[unit], f"{path} imports {sorted(targets - ALLOWED[unit])}"


def test_engine_uses_only_the_file_checks_of_models() -> None:
    used = {m for p in (PACKAGE / "engine").rglob("*.py") for m in _imports(p) if m.startswith("slm_lsp.models")}
    assert used <= {"slm_lsp.models.gguf_file"}


def test_models_use_the_engine_only_for_the_speed_probe_and_verify() -> None:
    users = {
        p.name for p in (PACKAGE / "models").rglob("*.py")
        if any(m.startswith("slm_lsp.engine") for m in _imports(p))
    }
    assert users <= {"doctor.py", "cli.py"}
