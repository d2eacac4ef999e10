"""The path policy: one decision for one absolute path, from every rule that applies.

A path is excluded if any of these excludes it (they are independent, so a negation in
one family can never re-include what another excludes):

1. the built-in deny list (``denylist.py``), on every component of the path as named and
   of its real path; only the user's allow patterns plus a clean content scan can lift its
   ``.env.*``/``*.env`` template entries;
2. git's rules (``.gitignore`` at every level, ``info/exclude``, ``core.excludesFile``) for
   the work tree holding the path, including work trees above the workspace root. A
   nested repository (a directory holding ``.git``) is judged by its own rules *and* by
   whether the outer repository ignores the directory it lives in;
3. ``.slmignore`` files at any level (gitignore syntax, case-insensitive);
4. the configured extra patterns (gitignore syntax relative to the workspace root,
   case-insensitive);
5. symlinks: the path as named and its resolved target are both judged by 1-4, the target
   must be inside the workspace (or, outside every root, inside the path's own implied
   root), and a symlink loop is excluded.

Unreadable ignore files and any internal error exclude (fail closed).
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from slm_lsp.privacy import denylist
from slm_lsp.privacy.decision import PathDecision
from slm_lsp.privacy.gitconfig import GitSettings
from slm_lsp.privacy.gitrepo import find_top, git_dir, has_git, info_exclude
from slm_lsp.privacy.ignore import DirMemo, Layer, Verdict, evaluate
from slm_lsp.privacy.ignorefiles import IgnoreFileCache, Loaded
from slm_lsp.privacy.roots import Root, choose, inside_any
from slm_lsp.privacy.wildmatch import IgnorePattern, parse_lines

TemplateCheck = Callable[[Path], tuple[bool, str]]
_GIT_SETTINGS_TTL = 30.0


@dataclass(frozen=True)
class _RepoSettings:
    excludes_file: Path
    info_exclude: Path | None
    ignore_case: bool


@dataclass(frozen=True)
class _Outcome:
    excluded: bool
    kind: str = "allowed"
    rule: str | None = None


def compile_patterns(patterns: Sequence[str], label: str) -> tuple[IgnorePattern, ...]:
    """Configured gitignore-syntax patterns, matched case-insensitively."""
    data = "\n".join(patterns).encode("utf-8", "surrogateescape")
    return tuple(parse_lines(data, source=label, base=b"", casefold=True))


class PathPolicy:
    def __init__(
        self,
        roots: Sequence[Root],
        *,
        extra_patterns: Sequence[str],
        allow_patterns: Sequence[str],
        template_check: TemplateCheck,
        use_git: bool = True,
        ttl: float = 2.0,
    ) -> None:
        self.roots = tuple(roots)
        self._extra = compile_patterns(extra_patterns, "config extra pattern")
        self._allow = compile_patterns(allow_patterns, "config allow pattern")
        self._template_check = template_check
        self._git = GitSettings(use_git=use_git)
        self.files = IgnoreFileCache()
        self.memo = DirMemo(ttl)
        self._lock = threading.Lock()
        self._ttl = ttl
        # Git settings cost two ``git config`` runs per repository: kept longer than decisions.
        self._repos: dict[Path, tuple[float, _RepoSettings]] = {}
        self._tops: dict[Path, tuple[float, Path]] = {}

    def forget(self) -> None:
        """Drop cached ignore files and git settings (something changed on disk)."""
        self.files.clear()
        self.memo.clear()
        with self._lock:
            self._repos.clear()
            self._tops.clear()

    # -- the decision ---------------------------------------------------------------------

    def decide(self, lexical: Path, *, full: bool = False) -> PathDecision:
        """Decide on ``lexical`` (absolute, normalised). ``full`` gathers every layer's note."""
        notes: list[str] = []
        name = str(lexical)
        if "\x00" in name:
            return PathDecision(lexical, True, "NUL byte in path", "error")
        try:
            os.stat(name)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return PathDecision(lexical, True, "symlink loop", "symlink")
            if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.EACCES):
                return PathDecision(lexical, True, f"cannot resolve ({errno.errorcode.get(exc.errno or 0, 'error')})",
                                    "error")
        real = Path(os.path.realpath(name))
        root, parts = choose(lexical, self.roots)
        notes.append(f"root: {root.given}" + ("" if root.configured else " (implied: no workspace folder holds it)"))
        first: _Outcome | None = None
        if real != lexical:
            notes.append(f"resolves to: {real}")
            containers = self.roots if root.configured else (root, *self.roots)
            if not inside_any(real, containers):
                outcome = _Outcome(True, "symlink", f"symlink target outside the workspace: {real}")
                notes.append(outcome.rule or "")
                if not full:
                    return PathDecision(lexical, True, outcome.rule, outcome.kind, real, tuple(notes))
                first = outcome
        is_dir = os.path.isdir(name) and not os.path.islink(name)
        outcomes = [self._judge(lexical, root, parts, is_dir, notes, full=full, label="path")]
        first = first or (outcomes[0] if outcomes[0].excluded else None)
        if real != lexical and (full or first is None):
            real_root, real_parts = choose(real, self.roots)
            outcomes.append(self._judge(real, real_root, real_parts, os.path.isdir(real), notes, full=full,
                                        label="target"))
            first = first or (outcomes[-1] if outcomes[-1].excluded else None)
        if first is not None:
            return PathDecision(lexical, True, first.rule, first.kind, real, tuple(notes))
        lifted = next((o for o in outcomes if o.kind == "template"), None)
        if lifted is not None:
            return PathDecision(lexical, False, lifted.rule, "template", real, tuple(notes))
        return PathDecision(lexical, False, None, "allowed", real, tuple(notes))

    def _judge(
        self, path: Path, root: Root, parts: tuple[str, ...], is_dir: bool, notes: list[str], *, full: bool, label: str
    ) -> _Outcome:
        found: _Outcome | None = None

        def note(outcome: _Outcome, text: str) -> bool:
            nonlocal found
            notes.append(f"{label} {text}")
            if outcome.excluded and found is None:
                found = outcome
            return found is not None and not full

        lifted: _Outcome | None = None
        deny = denylist.match(path.parts)
        if deny is not None:
            rule, _index = deny
            outcome = self._deny(rule, path, root, parts)
            lifted = None if outcome.excluded else outcome
            if note(outcome, f"deny list: {outcome.rule}"):
                return outcome
        elif full:
            note(_Outcome(False), "deny list: no match")

        base_top = self._base_top(root.real)
        prefix = root.real.parts[len(base_top.parts) :] if base_top != root.real else ()
        all_parts = tuple(os.fsencode(p) for p in (*prefix, *parts))
        for top, segment, segment_is_dir in self._segments(base_top, len(prefix), all_parts, is_dir):
            verdict = evaluate(self._git_layer(top), segment, segment_is_dir, self.files, self.memo)
            outcome = _outcome(verdict, "gitignore")
            if note(outcome, f"git ({top}): {_describe(verdict)}"):
                return outcome
        slm = Layer(".slmignore", base_top, (), ".slmignore", follow=True, casefold=True)
        verdict = evaluate(slm, all_parts, is_dir, self.files, self.memo)
        outcome = _outcome(verdict, "slmignore")
        if note(outcome, f".slmignore: {_describe(verdict)}"):
            return outcome
        if self._extra:
            config = Layer("config", root.real, (self._extra,), casefold=True)
            verdict = evaluate(config, tuple(os.fsencode(p) for p in parts), is_dir, self.files, self.memo)
            outcome = _outcome(verdict, "config")
            if note(outcome, f"configured patterns: {_describe(verdict)}"):
                return outcome
        return found or lifted or _Outcome(False)

    def _base_top(self, root: Path) -> Path:
        """The work tree holding ``root`` (or ``root``), remembered like the git settings."""
        now = time.monotonic()
        with self._lock:
            cached = self._tops.get(root)
        if cached is not None and cached[0] > now:
            return cached[1]
        top = find_top(root) or root
        with self._lock:
            self._tops[root] = (now + self._ttl, top)
        return top

    def _deny(self, rule: denylist.DenyRule, path: Path, root: Root, parts: tuple[str, ...]) -> _Outcome:
        described = f"built-in deny list: {rule.pattern}"
        if not rule.template:
            return _Outcome(True, "deny-list", described)
        if not self._allow or not parts:
            return _Outcome(True, "deny-list", described)
        allowed = evaluate(Layer("allow", root.real, (self._allow,), casefold=True),
                           tuple(os.fsencode(p) for p in parts), False, self.files)
        if not allowed.excluded:
            return _Outcome(True, "deny-list", described)
        clean, why = self._template_check(path)
        if not clean:
            return _Outcome(True, "template", f"{described}; allowed as a template by "
                                              f"{allowed.rule} but its content scan failed: {why}")
        return _Outcome(False, "template", f"{described} lifted by {allowed.rule} (clean content scan)")

    def _segments(
        self, base_top: Path, first_inner: int, parts: tuple[bytes, ...], is_dir: bool
    ) -> list[tuple[Path, tuple[bytes, ...], bool]]:
        """Split ``parts`` at nested work trees: (top, parts under it, last part is a dir)."""
        segments: list[tuple[Path, tuple[bytes, ...], bool]] = []
        top = base_top
        start = 0
        directory = os.fspath(base_top)
        for index, part in enumerate(parts[:-1]):
            directory = os.path.join(directory, os.fsdecode(part))
            if index >= first_inner and has_git(directory):
                segments.append((top, parts[start : index + 1], True))
                top, start = Path(directory), index + 1
        segments.append((top, parts[start:], is_dir))
        return segments

    def _git_layer(self, top: Path) -> Layer:
        settings = self._repo_settings(top)
        fixed: list[Loaded] = [
            self.files.load(settings.excludes_file, base=b"", follow=True, casefold=settings.ignore_case)
        ]
        if settings.info_exclude is not None:
            fixed.append(self.files.load(settings.info_exclude, base=b"", follow=True, casefold=settings.ignore_case))
        return Layer("git", top, tuple(fixed), ".gitignore", follow=False, casefold=settings.ignore_case)

    def _repo_settings(self, top: Path) -> _RepoSettings:
        now = time.monotonic()
        with self._lock:
            cached = self._repos.get(top)
        if cached is not None and cached[0] > now:
            return cached[1]
        is_repo = has_git(top)
        repo_dir = git_dir(top) if is_repo else None
        settings = _RepoSettings(
            excludes_file=self._git.excludes_file(top if is_repo else None, repo_dir),
            info_exclude=info_exclude(top) if is_repo else None,
            ignore_case=self._git.ignore_case(top, repo_dir) if is_repo else False,
        )
        with self._lock:
            self._repos[top] = (now + max(self._ttl, _GIT_SETTINGS_TTL), settings)
        return settings


def _outcome(verdict: Verdict, kind: str) -> _Outcome:
    if not verdict.excluded:
        return _Outcome(False)
    if verdict.rule is not None and verdict.rule.startswith("unreadable ignore file"):
        return _Outcome(True, "unreadable-ignore-file", verdict.rule)
    rule = verdict.rule
    if verdict.via is not None:
        rule = f"{rule} (excludes the directory {verdict.via})"
    return _Outcome(True, kind, rule)


def _describe(verdict: Verdict) -> str:
    if verdict.excluded:
        return "excluded by " + (verdict.rule or "?") + (f" (directory {verdict.via})" if verdict.via else "")
    if verdict.pattern is not None:
        return f"re-included by {verdict.rule}"
    return "no match"
