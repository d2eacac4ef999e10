"""The fallback git config reader (used when git is missing or refuses) and repo discovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from slm_lsp.privacy.gitconfig import GitSettings, default_excludes_file, parse_config
from slm_lsp.privacy.gitrepo import common_dir, find_top, git_dir, info_exclude
from tests.privacy.conftest import write


def test_parse_config_handles_what_git_writes() -> None:
    text = (
        "# comment\n[core]\n\trepositoryformatversion = 0\n\texcludesFile = \"~/my ignore\" ; trailing\n"
        "\tignorecase\n[remote \"origin\"]\n\turl = https://example.com/r.git # comment\n"
        "[Core] excludesfile = /last/wins\n[user]\n\tname = A \\\n  B\n"
    )
    values = parse_config(text)
    assert values["core.excludesfile"] == "/last/wins"
    assert values["core.ignorecase"] == "true"
    assert values["remote.origin.url"] == "https://example.com/r.git"
    assert values["user.name"] == "A   B"


def test_fallback_reads_global_then_repository(tmp_path: Path, git_env: dict[str, str]) -> None:
    home = Path(git_env["HOME"])
    (home / ".gitconfig").write_text("[core]\n\texcludesFile = ~/global-ignore\n")
    repo = tmp_path / "repo"
    write(repo, {".git/config": "[core]\n\tignoreCase = true\n"})
    settings = GitSettings(use_git=False)
    assert settings.excludes_file(repo, repo / ".git") == home / "global-ignore"
    assert settings.ignore_case(repo, repo / ".git") is True
    (repo / ".git/config").write_text("[core]\n\texcludesfile = /repo/override\n")
    assert settings.excludes_file(repo, repo / ".git") == Path("/repo/override")


def test_default_excludes_file_follows_xdg(git_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert default_excludes_file() == tmp_path / "xdg" / "git" / "ignore"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert default_excludes_file() == Path(git_env["HOME"]) / ".config" / "git" / "ignore"


def test_gitfiles_and_worktrees(tmp_path: Path) -> None:
    main = write(tmp_path / "main", {".git/info/exclude": "x\n", ".git/worktrees/wt/commondir": "../..\n"})
    worktree = write(tmp_path / "wt", {".git": f"gitdir: {main}/.git/worktrees/wt\n", "src/a.py": "x"})
    assert find_top(worktree / "src") == worktree
    assert git_dir(worktree) == main / ".git/worktrees/wt"
    assert common_dir(main / ".git/worktrees/wt").resolve() == (main / ".git").resolve()
    assert info_exclude(worktree).resolve() == (main / ".git/info/exclude").resolve()  # type: ignore[union-attr]
    submodule = write(tmp_path / "super", {"mod/.git": "gitdir: ../.git/modules/mod\n"})
    assert git_dir(submodule / "mod") == submodule / "mod" / "../.git/modules/mod"
