"""Path and URI decisions: deny list, .slmignore, config, symlinks, URIs, roots, caching."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from slm_lsp.privacy import PrivacyGate, ignorefiles
from tests.privacy.conftest import git, needs_git, write

DENIED = [
    ".env", ".ENV", ".Env.Local", ".env.production", "config/prod.env", ".envrc", "server.pem", "tls/SERVER.KEY",
    "cert.p12", "a.pfx", "app.jks", "release.keystore", "putty.ppk", "id_rsa", "id_rsa.pub", "ID_ED25519",
    "deploy_rsa", ".ssh/config", ".gnupg/pubring.kbx", ".aws/credentials", ".azure/config", ".kube/config",
    ".docker/config.json", ".npmrc", ".pypirc", ".netrc", ".git-credentials", ".pgpass", ".htpasswd",
    "credentials.json", "credentials-prod.json", "service-account-ci.json", "secrets.yml", "Secrets.YAML",
    "terraform.tfstate", "terraform.tfstate.backup", "prod.tfvars", "vault.kdbx", ".bash_history",
    ".zsh_history", ".python_history", ".env.", "sub/dir/.env", ".git/config",
]
ALLOWED = ["src/main.py", "README.md", "envelope.py", "src/credentials/manager.py", "docs/secrets.md",
           "environment.yml", "key_utils.py", "tokens.py", "docker/config.json", "ssh.py"]


@pytest.fixture
def workspace(tmp_path: Path, git_env: dict[str, str]) -> Path:
    root = tmp_path / "ws"
    write(root, {name: "x\n" for name in DENIED + ALLOWED})
    return root


@pytest.mark.parametrize("name", DENIED)
def test_deny_list_excludes(workspace: Path, name: str) -> None:
    decision = PrivacyGate([workspace]).check_path(workspace / name)
    assert decision.excluded and decision.kind == "deny-list", decision
    assert decision.rule and decision.rule.startswith("built-in deny list: ")


@pytest.mark.parametrize("name", ALLOWED)
def test_ordinary_names_allowed(workspace: Path, name: str) -> None:
    decision = PrivacyGate([workspace]).check_path(workspace / name)
    assert not decision.excluded, decision.rule


def test_repository_files_cannot_lift_the_deny_list(workspace: Path) -> None:
    (workspace / ".gitignore").write_text("!.env\n!*.pem\n!.aws/\n")
    (workspace / ".slmignore").write_text("!.env\n!id_rsa\n")
    gate = PrivacyGate([workspace])
    for name in (".env", "server.pem", ".aws/credentials", "id_rsa"):
        assert gate.check_path(workspace / name).kind == "deny-list"


def test_slmignore_at_any_level_case_insensitive(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = write(tmp_path / "ws", {"a/b/Private.TXT": "x", "a/b/public.txt": "x", "a/.slmignore": "b/private.txt\n",
                                   "notes/x.md": "x", ".slmignore": "NOTES/\n"})
    gate = PrivacyGate([root])
    assert gate.check_path(root / "a/b/Private.TXT").kind == "slmignore"
    assert not gate.check_path(root / "a/b/public.txt").excluded
    assert gate.check_path(root / "notes/x.md").kind == "slmignore"


def test_slmignore_negation_cannot_lift_gitignore(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    git(root, "init", "-q")
    write(root, {".gitignore": "*.log\n", ".slmignore": "!keep.log\n", "keep.log": "x"})
    assert PrivacyGate([root]).check_path(root / "keep.log").kind == "gitignore"


def test_configured_patterns(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = write(tmp_path / "ws", {"internal/x.py": "x", "src/y.py": "x", "Private_notes.md": "x"})
    gate = PrivacyGate([root], extra_patterns=["internal/", "private_*"])
    assert gate.check_path(root / "internal/x.py").kind == "config"
    assert gate.check_path(root / "Private_notes.md").kind == "config"
    assert not gate.check_path(root / "src/y.py").excluded
    assert PrivacyGate([root], exclude=("internal",)).check_path(root / "internal/x.py").excluded


def test_env_template_needs_allow_pattern_and_clean_scan(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = write(tmp_path / "ws", {".env.example": "API_KEY=\nDB_PASSWORD=changeme\nDEBUG=true\n",
                                   ".env.sample": "API_KEY=\n", ".env": "API_KEY=\n"})
    assert PrivacyGate([root]).check_path(root / ".env.example").excluded
    gate = PrivacyGate([root], allow_patterns=[".env.example", ".env"])
    decision = gate.check_path(root / ".env.example")
    assert not decision.excluded and decision.kind == "template"
    assert gate.check_path(root / ".env.sample").excluded  # not allowed by a pattern
    assert gate.check_path(root / ".env").kind == "deny-list"  # .env itself is never a template
    (root / ".env.example").write_text("API_KEY=sk_live_" + "a1B2c3D4e5F6g7H8i9J0k1L2" + "\n")
    gate.invalidate(root / ".env.example")
    decision = gate.check_path(root / ".env.example")
    assert decision.excluded and decision.kind == "template" and "content scan failed" in (decision.rule or "")


def test_template_inside_denied_directory_stays_excluded(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = write(tmp_path / "ws", {".aws/.env.example": "A=\n"})
    gate = PrivacyGate([root], allow_patterns=[".env.example"])
    assert gate.check_path(root / ".aws/.env.example").kind == "deny-list"


# -- symlinks ---------------------------------------------------------------------------------


def test_symlink_to_denied_file_inside_workspace(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = write(tmp_path / "ws", {".env": "X=1", "src/a.py": "x"})
    (root / "src/config.txt").symlink_to(root / ".env")
    decision = PrivacyGate([root]).check_path(root / "src/config.txt")
    assert decision.excluded and decision.kind == "deny-list" and decision.real_path == (root / ".env").resolve()


def test_symlink_named_like_a_secret_to_innocent_file(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = write(tmp_path / "ws", {"src/a.py": "x"})
    (root / ".env").symlink_to(root / "src/a.py")
    assert PrivacyGate([root]).check_path(root / ".env").excluded


def test_symlink_out_of_the_workspace(tmp_path: Path, git_env: dict[str, str]) -> None:
    outside = write(tmp_path / "outside", {"notes.txt": "x", "dir/inner.py": "x"})
    root = write(tmp_path / "ws", {"a.py": "x"})
    (root / "notes.txt").symlink_to(outside / "notes.txt")
    (root / "linked").symlink_to(outside / "dir", target_is_directory=True)
    gate = PrivacyGate([root])
    for path in (root / "notes.txt", root / "linked" / "inner.py", root / "linked"):
        decision = gate.check_path(path)
        assert decision.excluded and decision.kind == "symlink", decision
    assert gate.read_text(root / "linked" / "inner.py") is None


def test_symlink_into_an_ignored_directory(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    git(root, "init", "-q")
    write(root, {".gitignore": "private/\n", "private/plan.txt": "x", "src/a.py": "x"})
    (root / "src/plan.txt").symlink_to(root / "private/plan.txt")
    assert PrivacyGate([root]).check_path(root / "src/plan.txt").kind == "gitignore"


def test_symlink_within_workspace_to_allowed_file(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = write(tmp_path / "ws", {"src/a.py": "print(1)\n"})
    (root / "b.py").symlink_to(root / "src/a.py")
    gate = PrivacyGate([root])
    assert not gate.check_path(root / "b.py").excluded
    assert gate.read_text(root / "b.py") == "print(1)\n"


def test_symlink_loops_terminate(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = write(tmp_path / "ws", {"a.py": "x"})
    (root / "loop_a").symlink_to(root / "loop_b")
    (root / "loop_b").symlink_to(root / "loop_a")
    (root / "self").symlink_to(root / "self")
    (root / "dirloop").symlink_to(root, target_is_directory=True)
    gate = PrivacyGate([root])
    for name in ("loop_a", "loop_b", "self", "loop_a/x.py"):
        decision = gate.check_path(root / name)
        assert decision.excluded, name
        assert gate.read_text(root / name) is None
    assert not gate.check_path(root / "dirloop/dirloop/dirloop/a.py").excluded  # resolves to a.py: fine
    assert gate.read_text(root / "dirloop/dirloop/a.py") == "x"


def test_workspace_root_given_through_a_symlink(tmp_path: Path, git_env: dict[str, str]) -> None:
    real = write(tmp_path / "real", {"a.py": "x", ".env": "X=1"})
    alias = tmp_path / "alias"
    alias.symlink_to(real, target_is_directory=True)
    gate = PrivacyGate([alias])
    assert not gate.check_path(alias / "a.py").excluded
    assert not gate.check_path(real / "a.py").excluded
    assert gate.check_path(alias / ".env").excluded
    assert gate.read_text(alias / "a.py") == "x"


def test_prefix_sibling_is_not_inside_the_workspace(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = write(tmp_path / "ws", {"a.py": "x"})
    evil = write(tmp_path / "ws-evil", {"b.py": "x"})
    (root / "b.py").symlink_to(evil / "b.py")
    assert PrivacyGate([root]).check_path(root / "b.py").kind == "symlink"
    assert PrivacyGate([root]).read_text(evil / "b.py") is None  # outside every root


# -- URIs ----------------------------------------------------------------------------------------


def test_uris_resolve_traversal_and_encoding(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = write(tmp_path / "ws", {"src/a.py": "x", ".env": "X=1"})
    gate = PrivacyGate([root])
    base = root.as_uri()
    assert not gate.check_uri(f"{base}/src/a.py").excluded
    for uri in (f"{base}/src/../.env", f"{base}/src/%2e%2e/.env", f"{base}/src/%2E%2E/%2Eenv", f"{base}/%2Eenv",
                f"{base}/src/./../.ENV", f"{base}//.env", f"file://localhost{root}/.env"):
        assert gate.check_uri(uri).excluded, uri


def test_dotdot_after_a_symlink_is_resolved_like_the_kernel(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = write(tmp_path / "ws", {".slmignore": "private/\n", "private/plan.txt": "x", "private/sub/a.txt": "x",
                                   "src/a.py": "x"})
    (root / "src/link").symlink_to(root / "private/sub", target_is_directory=True)
    gate = PrivacyGate([root])
    sneaky = f"{root}/src/link/../plan.txt"  # the kernel opens private/plan.txt; lexically it is src/plan.txt
    assert os.path.realpath(sneaky) == str((root / "private/plan.txt").resolve())
    assert gate.check_path(sneaky).excluded
    assert gate.check_uri(f"{root.as_uri()}/src/link/%2E%2E/plan.txt").excluded
    assert gate.read_text(sneaky) is None


@pytest.mark.parametrize(
    "uri",
    [
        "file:///etc/passwd%00.py", "file:///tmp/a.py\x00", "file://evil.example.com/share/a.py",
        "file:///tmp/a.py?query=1", "file:///tmp/a.py#frag", "git:/repo/a.py?ref=HEAD", "http://x/a.py",
        "vscode-userdata:/settings.json", "output:extension-output", "not a uri", "file:relative/a.py",
    ],
)
def test_bad_uris_are_excluded(uri: str, tmp_path: Path, git_env: dict[str, str]) -> None:
    decision = PrivacyGate([tmp_path]).check_uri(uri)
    assert decision.excluded and decision.kind == "uri", decision


def test_untitled_buffers(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = write(tmp_path / "ws", {"a.py": "x"})
    gate = PrivacyGate([root])
    assert not gate.check_uri("untitled:Untitled-1").excluded
    assert gate.check_uri("untitled:Untitled-1").kind == "untitled"
    assert gate.check_uri(f"untitled:{root}/.env").excluded  # a new .env before its first save
    assert not gate.check_uri(f"untitled:{root}/new.py").excluded
    assert gate.check_uri("untitled:id_rsa").excluded  # a named buffer with no path yet
    assert gate.check_uri("untitled:.env.production").excluded
    assert not gate.check_uri("untitled:notes").excluded


def test_notebook_cells_are_judged_as_their_notebook(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = write(tmp_path / "ws", {"nb.ipynb": "{}", "private/nb.ipynb": "{}", ".slmignore": "private/\n"})
    gate = PrivacyGate([root])
    assert not gate.check_uri(f"vscode-notebook-cell:{root}/nb.ipynb#W0sZmlsZQ%3D%3D").excluded
    assert gate.check_uri(f"vscode-notebook-cell:{root}/private/nb.ipynb#W0").excluded


# -- roots, repositories, failure modes -------------------------------------------------------


@needs_git
def test_lone_file_without_roots_uses_its_repository(tmp_path: Path, git_env: dict[str, str]) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    write(repo, {".gitignore": "generated/\n", "generated/x.py": "x", "src/y.py": "x"})
    gate = PrivacyGate([])
    assert gate.check_path(repo / "generated/x.py").kind == "gitignore"
    assert not gate.check_path(repo / "src/y.py").excluded
    assert gate.read_text(repo / "src/y.py") == "x"
    lone = write(tmp_path / "loose", {"a.py": "y", ".env": "z"})
    assert gate.read_text(lone / "a.py") == "y" and gate.read_text(lone / ".env") is None


@needs_git
def test_nested_repository_obeys_both(tmp_path: Path, git_env: dict[str, str]) -> None:
    outer = tmp_path / "outer"
    outer.mkdir()
    git(outer, "init", "-q")
    write(outer, {".gitignore": "vendor/\n", "vendor/lib/a.py": "x", "libs/inner/b.py": "x", "libs/inner/c.log": "x"})
    git(outer / "vendor" / "lib", "init", "-q")
    git(outer / "libs" / "inner", "init", "-q")
    (outer / "libs/inner/.gitignore").write_text("*.log\n")
    gate = PrivacyGate([outer])
    assert gate.check_path(outer / "vendor/lib/a.py").kind == "gitignore"  # the outer repo ignores vendor/
    assert gate.check_path(outer / "libs/inner/c.log").kind == "gitignore"  # the inner repo's own rules
    assert not gate.check_path(outer / "libs/inner/b.py").excluded


@needs_git
def test_gitignore_changes_after_invalidate(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    git(root, "init", "-q")
    write(root, {"notes/a.txt": "x"})
    gate = PrivacyGate([root], decision_ttl=3600)
    assert not gate.check_path(root / "notes/a.txt").excluded
    (root / ".gitignore").write_text("notes/\n")
    gate.invalidate(root / ".gitignore")
    assert gate.check_path(root / "notes/a.txt").excluded
    (root / ".gitignore").write_text("")
    (root / ".git/info/exclude").write_text("notes\n")
    gate.invalidate(root / ".git/info/exclude")
    assert gate.check_path(root / "notes/a.txt").excluded


@needs_git
def test_changes_are_seen_without_invalidate_after_the_ttl(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    git(root, "init", "-q")
    write(root, {"a.txt": "x"})
    gate = PrivacyGate([root], decision_ttl=0)
    assert not gate.check_path(root / "a.txt").excluded
    (root / ".gitignore").write_text("a.txt\n")
    assert gate.check_path(root / "a.txt").excluded


@needs_git
def test_symlinked_gitignore_is_not_read_like_git(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    git(root, "init", "-q")
    write(root, {"rules.txt": "a.txt\n", "a.txt": "x"})
    (root / ".gitignore").symlink_to(root / "rules.txt")
    assert not PrivacyGate([root]).check_path(root / "a.txt").excluded


def test_unreadable_ignore_file_fails_closed(tmp_path: Path, git_env: dict[str, str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    root = write(tmp_path / "ws", {"sub/.gitignore": "nothing\n", "sub/a.py": "x", "b.py": "x"})
    real_open = os.open

    def refusing_open(path: str | os.PathLike[str], flags: int, *args: object) -> int:
        if os.fspath(path).endswith("sub/.gitignore"):
            raise PermissionError(errno.EACCES, "denied")
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ignorefiles.os, "open", refusing_open)
    gate = PrivacyGate([root])
    decision = gate.check_path(root / "sub/a.py")
    assert decision.excluded and decision.kind == "unreadable-ignore-file"
    assert not gate.check_path(root / "b.py").excluded


def test_internal_errors_fail_closed(tmp_path: Path, git_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    root = write(tmp_path / "ws", {"a.py": "x"})
    gate = PrivacyGate([root])

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(gate._policy, "_judge", broken)
    decision = gate.check_path(root / "a.py")
    assert decision.excluded and decision.kind == "error"
    assert gate.read_text(root / "a.py") is None


def test_explain_names_the_rule(tmp_path: Path, git_env: dict[str, str]) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    git(root, "init", "-q")
    write(root, {".gitignore": "# build output\nbuild/\n", "build/out.js": "x", "src/a.py": "x", ".env": "X=1"})
    gate = PrivacyGate([root])
    text = gate.explain(root / "build/out.js")
    assert "EXCLUDED" in text and f"{root}/.gitignore:2:build/" in text and "build/" in text
    assert "ALLOWED" in gate.explain(root / "src/a.py")
    assert "built-in deny list: .env" in gate.explain((root / ".env").as_uri())
    assert "unsupported URI scheme" in gate.explain("git:/x")
    assert "ALLOWED after redaction" in gate.explain("untitled:Untitled-3")


def test_decisions_are_fast_enough_for_indexing(tmp_path: Path, git_env: dict[str, str]) -> None:
    import time

    root = tmp_path / "ws"
    for a in range(10):
        for b in range(10):
            write(root, {f"p{a}/m{b}/.gitignore": "*.tmp\n!keep.tmp\n", **{f"p{a}/m{b}/f{c}.py": "x" for c in range(5)}})
    (root / ".gitignore").write_text("\n".join(["*.log", "build/", "node_modules/", "/dist", "**/tmp"] * 4))
    files = sorted(root.rglob("*.py"))
    gate = PrivacyGate([root])
    started = time.process_time()
    for path in files:
        gate.check_path(path)
    per_file = (time.process_time() - started) / len(files)
    assert per_file < 0.005, f"{per_file * 1e6:.0f} us CPU per decision"
