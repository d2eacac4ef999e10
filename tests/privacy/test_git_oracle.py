"""Path decisions compared with git itself on randomly generated trees (fixed seeds).

git is the oracle: ``git check-ignore --no-index -v`` in a real ``git init`` repository
with nested .gitignore files (negations, directory-only, anchored, ``**``, character
classes, escapes, case, CRLF, BOM), ``.git/info/exclude`` and a global excludes file.
A *leak* is a path git ignores that the gate allows: there must be none. The gate may
exclude more than git only because of the built-in deny list or a ``.slmignore`` file;
any other mismatch fails the test. The figures are printed for the closing report.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from slm_lsp.privacy import PrivacyGate
from slm_lsp.privacy.ignore import Layer, evaluate
from slm_lsp.privacy.ignorefiles import IgnoreFileCache
from tests.privacy.conftest import git, git_ignored, needs_git

SEED = int(os.environ.get("SLM_PRIVACY_ORACLE_SEED", "20240611"))
TREES = int(os.environ.get("SLM_PRIVACY_ORACLE_TREES", "100"))

NAMES = ["a", "b", "A", "B", "build", "Build", "keep.log", "x.log", "X.LOG", "foo", "bar", "secrets", "m.py",
         "n.txt", "sp ace", "d.d", "[x]", "!bang", "#hash", "é.py", "q?", "tmp", "a1", "a2", "ab"]
DENIED_NAMES = [".env", "id_rsa", "x.pem", "secrets.yaml", ".npmrc"]
WILD = ["*.log", "*.py", "?", "[ab]", "[!a]*", "[a-c]", "[[:digit:]]*", "[[:upper:]]*", "a[0-9]", "*", "**", "***",
        "[]a]", "[!]]*", "\\[x]", "\\#hash", "\\!bang", "q\\?", "*.LOG", "[a-]*", "é*"]


def _pattern(rng: random.Random) -> str:
    name = rng.choice(NAMES + WILD)
    other = rng.choice(NAMES)
    forms = [
        name, name, f"/{name}", f"{name}/", f"/{name}/", f"**/{name}", f"{name}/**", f"{other}/{name}",
        f"{other}/*", f"{other}/**/{name}", f"*{name[-2:]}", f"{name}*", f"a**/{name}", f"{name}\\ ",
        f"{name}   ", f"{other}/{name}/", f"**/{other}/{name}", "/**/" + name, "#" + name, "", f"{name}/*/",
    ]
    pattern = rng.choice(forms)
    if rng.random() < 0.3:
        pattern = "!" + pattern
    return pattern


def _ignore_file(rng: random.Random, count: int) -> bytes:
    lines = [_pattern(rng) for _ in range(count)]
    eol = "\r\n" if rng.random() < 0.15 else "\n"
    data = eol.join(lines) + (eol if rng.random() < 0.8 else "")
    raw = data.encode("utf-8")
    return (b"\xef\xbb\xbf" + raw) if rng.random() < 0.1 else raw


def _build(root: Path, rng: random.Random) -> tuple[list[Path], int]:
    paths: list[Path] = []
    slmignores = 0

    def fill(directory: Path, depth: int) -> None:
        nonlocal slmignores
        for _ in range(rng.randint(1, 5)):
            name = rng.choice(DENIED_NAMES) if rng.random() < 0.06 else rng.choice(NAMES)
            path = directory / name
            if path.exists():
                continue
            if depth < 3 and rng.random() < 0.45:
                path.mkdir()
                paths.append(path)
                fill(path, depth + 1)
            else:
                path.write_text("x\n")
                paths.append(path)
        if rng.random() < 0.6:
            (directory / ".gitignore").write_bytes(_ignore_file(rng, rng.randint(1, 6)))
        if rng.random() < 0.08:
            (directory / ".slmignore").write_bytes(_ignore_file(rng, rng.randint(1, 2)))
            slmignores += 1

    fill(root, 0)
    return paths, slmignores


@dataclass
class Tally:
    decisions: int = 0
    files: int = 0
    directories: int = 0
    git_ignored: int = 0
    leaks: list[str] = field(default_factory=list)
    over_deny: int = 0
    over_slmignore: int = 0
    other: list[str] = field(default_factory=list)


def _compare(repo: Path, paths: list[Path], gate: PrivacyGate, tally: Tally, tag: str) -> None:
    relative = [p.relative_to(repo).as_posix() for p in paths]
    oracle = git_ignored(repo, relative)
    for path, rel in zip(paths, relative):
        decision = gate.check_path(path)
        ignored = oracle[rel]
        tally.decisions += 1
        tally.directories += path.is_dir()
        tally.files += not path.is_dir()
        tally.git_ignored += ignored
        if ignored and not decision.excluded:
            tally.leaks.append(f"{tag}: {rel} (git ignores it; gate: {decision.kind})")
        elif decision.excluded and not ignored:
            if decision.kind == "deny-list":
                tally.over_deny += 1
            elif decision.kind == "slmignore":
                tally.over_slmignore += 1
            else:
                tally.other.append(f"{tag}: {rel} excluded by {decision.rule}")


def _report(capsys: pytest.CaptureFixture[str], title: str, tally: Tally) -> None:
    with capsys.disabled():
        print(
            f"\n[git oracle] {title}: {tally.decisions} decisions ({tally.files} files, {tally.directories} dirs, "
            f"{tally.git_ignored} ignored by git); leaks {len(tally.leaks)}; over-exclusions: deny list "
            f"{tally.over_deny}, .slmignore {tally.over_slmignore}, other {len(tally.other)}"
        )


@needs_git
def test_random_trees_match_git(tmp_path: Path, git_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(SEED)
    tally = Tally()
    global_ignore = Path(git_env["XDG_CONFIG_HOME"]) / "git" / "ignore"
    for index in range(TREES):
        repo = tmp_path / f"t{index}"
        repo.mkdir()
        git(repo, "init", "-q")
        global_ignore.write_bytes(_ignore_file(rng, rng.randint(0, 2)))
        (repo / ".git" / "info").mkdir(exist_ok=True)
        (repo / ".git" / "info" / "exclude").write_bytes(_ignore_file(rng, rng.randint(0, 3)))
        paths, _ = _build(repo, rng)
        _compare(repo, paths, PrivacyGate([repo]), tally, f"tree {index}")
    _report(capsys, f"seed {SEED}, {TREES} trees", tally)
    assert tally.decisions >= 500
    assert tally.git_ignored >= 100, "the generator should make git ignore a good share of paths"
    assert not tally.leaks, "\n".join(tally.leaks[:20])
    assert not tally.other, "\n".join(tally.other[:20])


@needs_git
def test_workspace_root_below_repository_top(tmp_path: Path, git_env: dict[str, str],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The workspace folder is a subdirectory: .gitignore files above it still apply."""
    rng = random.Random(SEED + 1)
    tally = Tally()
    for index in range(15):
        repo = tmp_path / f"r{index}"
        sub = repo / "pkg" / "inner"
        sub.mkdir(parents=True)
        git(repo, "init", "-q")
        (repo / ".gitignore").write_bytes(_ignore_file(rng, rng.randint(2, 6)))
        (repo / "pkg" / ".gitignore").write_bytes(_ignore_file(rng, rng.randint(1, 4)))
        paths, _ = _build(sub, rng)
        _compare(repo, [sub, *paths], PrivacyGate([sub]), tally, f"subroot {index}")
    _report(capsys, "workspace root below the repository top", tally)
    assert not tally.leaks, "\n".join(tally.leaks[:20])
    assert not tally.other, "\n".join(tally.other[:20])


@needs_git
def test_configured_excludes_file_without_git_binary(tmp_path: Path, git_env: dict[str, str],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """core.excludesFile from ~/.gitconfig is honoured by the fallback parser too."""
    rng = random.Random(SEED + 2)
    home = Path(git_env["HOME"])
    custom = home / "my global ignore"
    (home / ".gitconfig").write_text(f'[core]\n\texcludesFile = "~/{custom.name}"  ; custom\n')
    tally = Tally()
    for index in range(12):
        repo = tmp_path / f"c{index}"
        repo.mkdir()
        git(repo, "init", "-q")
        custom.write_bytes(_ignore_file(rng, rng.randint(1, 4)))
        paths, _ = _build(repo, rng)
        for use_git in (True, False):
            _compare(repo, paths, PrivacyGate([repo], use_git=use_git), tally, f"config {index} git={use_git}")
    _report(capsys, "core.excludesFile (git config and fallback parser)", tally)
    assert not tally.leaks, "\n".join(tally.leaks[:20])
    assert not tally.other, "\n".join(tally.other[:20])


@needs_git
@pytest.mark.parametrize(
    ("lines", "files"),
    [
        # the three cases pathspec 1.1.1 gets wrong
        (["secrets/", "!*.py"], ["secrets/app.py", "secrets/x.txt", "app.py"]),
        (["build", "!keep.log"], ["build/keep.log", "build/a.o", "keep.log"]),
        (["foo/*", "!foo/bar/x"], ["foo/bar/x", "foo/bar/y", "foo/baz"]),
        # more of git's rules
        (["*.log", "!logs/"], ["logs/x.log", "logs/y.txt"]),
        (["/a", "b/"], ["a", "x/a", "b/c", "x/b/c", "b"]),
        (["a/**/b"], ["a/b", "a/x/b", "a/x/y/b", "x/a/b"]),
        (["a**/b"], ["a/b", "ax/b", "a/x/y/b"]),
        (["**/foo/bar"], ["foo/bar", "x/foo/bar", "x/y/foo/bar"]),
        (["[[:digit:]]*", "![[:digit:]]keep"], ["1a", "2keep", "a1"]),
        (["\\#x", "\\!y", "z\\ "], ["#x", "!y", "z "]),
        (["d/", "!d/"], ["d/f"]),
        (["*", "!*/", "!*.txt"], ["a.txt", "b.bin", "d/c.txt", "d/e.bin"]),
        (["Foo"], ["foo", "Foo", "FOO"]),
        (["[a-c]*", "![b]x"], ["ax", "bx", "cx", "dx"]),
        (["x[", "y\\"], ["x[", "y\\"]),
    ],
)
def test_known_tricky_patterns(tmp_path: Path, git_env: dict[str, str], lines: list[str], files: list[str]) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / ".gitignore").write_text("\n".join(lines) + "\n")
    for name in sorted(files, key=lambda n: -n.count("/")):  # deeper first: "b" may be "b/c"'s directory
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        if not (repo / name).exists():
            (repo / name).write_text("x")
    oracle = git_ignored(repo, files)
    gate = PrivacyGate([repo])
    assert {name: gate.check_path(repo / name).excluded for name in files} == oracle


@needs_git
def test_layer_evaluation_without_memo_matches_git(tmp_path: Path, git_env: dict[str, str],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The bare algorithm (no caches, no deny list, no .slmignore) agrees with git exactly,
    over and under: this is the part that must equal git, not merely not leak."""
    rng = random.Random(SEED + 3)
    compared = 0
    for index in range(25):
        repo = tmp_path / f"e{index}"
        repo.mkdir()
        git(repo, "init", "-q")
        paths, _ = _build(repo, rng)
        for slm in repo.rglob(".slmignore"):
            slm.unlink()
        relative = [p.relative_to(repo).as_posix() for p in paths]
        oracle = git_ignored(repo, relative)
        cache = IgnoreFileCache()
        layer = Layer("git", repo, (), ".gitignore")
        for path, rel in zip(paths, relative):
            parts = tuple(os.fsencode(p) for p in rel.split("/"))
            verdict = evaluate(layer, parts, path.is_dir(), cache)
            assert verdict.excluded == oracle[rel], f"{rel}: git={oracle[rel]} ours={verdict.rule}"
            compared += 1
    with capsys.disabled():
        print(f"\n[git oracle] bare git algorithm: {compared} decisions, all equal to git (no leak, no over-exclusion)")
    assert compared >= 200
