"""The privacy gate: the one door every piece of prompt text goes through. Fails closed.

Paths and URIs are decided by ``policy.PathPolicy`` (deny list, git ignore rules,
``.slmignore``, configured patterns, symlinks). Text is redacted by ``redactor.redact``.
Decisions are cached for ``decision_ttl`` seconds; ignore files are re-validated by stat,
and ``invalidate`` drops everything at once when an ignore file or git setting changes.

Logging: this package logs paths, rule names, counts and kinds of findings — never
document text, prompt text or secret values, at any level.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Iterable
from pathlib import Path, PurePath

from slm_lsp.privacy import denylist
from slm_lsp.privacy.decision import GateError, PathDecision
from slm_lsp.privacy.pieces import PromptPiece, Sealer
from slm_lsp.privacy.policy import PathPolicy
from slm_lsp.privacy.reader import read_utf8
from slm_lsp.privacy.redactor import Redaction, overlapping, placeholder, redact
from slm_lsp.privacy.roots import Root, inside_any
from slm_lsp.privacy.uris import looks_like_uri, normalise, parse_uri
from slm_lsp.privacy.values import PLACEHOLDER_TEXT

log = logging.getLogger(__name__)

DEFAULT_MAX_FILE_BYTES = 1 << 20
DEFAULT_MAX_LINE_CHARS = 10_000
_OUTPUT_CONTEXT_CHARS = 2000
_CACHE_LIMIT = 50_000

PathLike = str | os.PathLike[str]


class PrivacyGate:
    """Decides which files may be read and admits (redacts) every piece of prompt text.

    ``roots`` are the workspace folders; with none (the CLI on a lone file) a path is judged
    under its own git work tree, or its directory. ``extra_patterns`` add exclusions
    (gitignore syntax, relative to each root); ``allow_patterns`` may lift the built-in deny
    list's ``.env.*``/``*.env`` template entries, and only for files whose content scan
    finds nothing. ``exclude`` is an alias of ``extra_patterns``.
    """

    def __init__(
        self,
        roots: Iterable[PathLike] = (),
        extra_patterns: Iterable[str] = (),
        allow_patterns: Iterable[str] = (),
        *,
        exclude: Iterable[str] = (),
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        max_line_chars: int = DEFAULT_MAX_LINE_CHARS,
        decision_ttl: float = 2.0,
        use_git: bool = True,
    ) -> None:
        self.max_file_bytes = max_file_bytes
        self.max_line_chars = max_line_chars
        self.decision_ttl = decision_ttl
        self._extra = (*extra_patterns, *exclude)
        self._allow = tuple(allow_patterns)
        self._use_git = use_git
        self._lock = threading.RLock()
        self._decisions: dict[str, tuple[float, PathDecision]] = {}
        self._templates: dict[tuple[str, int, int, int], tuple[bool, str]] = {}
        self._sealer = Sealer(secrets.token_bytes(32))
        self._roots: tuple[Root, ...] = ()
        self._policy = self._make_policy(())
        self.set_roots(roots)

    # -- configuration ----------------------------------------------------------------------

    @property
    def roots(self) -> tuple[Path, ...]:
        return tuple(root.real for root in self._roots)

    def set_roots(self, roots: Iterable[PathLike]) -> None:
        """Replace the workspace folders (``workspace/didChangeWorkspaceFolders``)."""
        made = tuple(Root.of(root) for root in roots)
        with self._lock:
            self._roots = made
            self._policy = self._make_policy(made)
            self._decisions.clear()
        log.debug("privacy gate roots: %s", [str(r.real) for r in made])

    def _make_policy(self, roots: tuple[Root, ...]) -> PathPolicy:
        return PathPolicy(roots, extra_patterns=self._extra, allow_patterns=self._allow,
                          template_check=self._template_clean, use_git=self._use_git, ttl=self.decision_ttl)

    def invalidate(self, path: PathLike | None = None) -> None:
        """Forget cached decisions and ignore files: call when a ``.gitignore``,
        ``.slmignore``, ``.git/info/exclude``, git config or global excludes file changes
        (``path`` is informational: everything is dropped, which is cheap and always right)."""
        with self._lock:
            self._decisions.clear()
            self._templates.clear()
            self._policy.forget()
        log.debug("privacy gate caches dropped (%s changed)", os.fspath(path) if path is not None else "something")

    # -- decisions ----------------------------------------------------------------------------

    def check_path(self, path: PathLike) -> PathDecision:
        """Whether ``path`` may be read or used as a prompt source; cached briefly.

        A path with ``..`` is judged both as written with ``..`` collapsed and as the kernel
        resolves it (symlinks first, then ``..``): ``ws/link/../x`` may be another file.
        """
        try:
            raw = os.fspath(path)
            lexical = Path(normalise(raw))
        except (TypeError, ValueError) as exc:
            return PathDecision(None, True, f"invalid path ({type(exc).__name__})", "error")
        decision = self._check_lexical(lexical)
        if not decision.excluded and ".." in Path(raw).parts:
            kernel = Path(os.path.realpath(raw))
            if kernel != decision.real_path:
                other = self._check_lexical(kernel)
                if other.excluded:
                    return PathDecision(lexical, True, other.rule, other.kind, kernel, other.notes)
        return decision

    def _check_lexical(self, lexical: Path) -> PathDecision:
        key = str(lexical)
        now = time.monotonic()
        with self._lock:
            cached = self._decisions.get(key)
            policy = self._policy
        if cached is not None and cached[0] > now:
            return cached[1]
        decision = self._decide(policy, lexical, full=False)
        with self._lock:
            if len(self._decisions) >= _CACHE_LIMIT:
                self._decisions.clear()
            self._decisions[key] = (now + self.decision_ttl, decision)
        log.debug("path %s: %s%s", key, "excluded" if decision.excluded else "allowed",
                  f" ({decision.kind})" if decision.excluded else "")
        return decision

    @staticmethod
    def _decide(policy: PathPolicy, lexical: Path, *, full: bool) -> PathDecision:
        try:
            return policy.decide(lexical, full=full)
        except Exception as exc:  # noqa: BLE001 - any failure means "excluded"
            log.warning("privacy gate failed on %s (%s): treating it as excluded", lexical, type(exc).__name__)
            return PathDecision(lexical, True, f"internal error ({type(exc).__name__}): failing closed", "error")

    def check_uri(self, uri: str) -> PathDecision:
        """Decide on a document URI. ``file:`` is resolved to real paths; ``untitled:`` is
        allowed (its text is always redacted by ``admit``) unless the future file name it
        carries is excluded; other schemes are excluded."""
        target = parse_uri(uri)
        if target.kind == "rejected":
            log.debug("URI rejected (%s)", target.reason)
            return PathDecision(None, True, f"URI rejected: {target.reason}", "uri")
        if target.kind == "untitled":
            if target.path is not None:
                decision = self.check_path(target.path)
                if decision.excluded:
                    return decision
            else:
                name = uri.split(":", 1)[1].rsplit("/", 1)[-1]
                denied = denylist.match([name])
                if denied is not None:
                    return PathDecision(None, True, f"built-in deny list: {denied[0].pattern}", "deny-list")
            return PathDecision(None, False, None, "untitled", None,
                                ("untitled buffer: no file on disk; its text is redacted before any use",))
        assert target.path is not None
        return self.check_path(target.path)

    def check_source(self, source: str | PurePath | None) -> PathDecision:
        """Decide on a piece's source: a URI, an absolute path, a workspace-relative path
        (``pkg/mod.py``, or ``root-name/pkg/mod.py`` with several roots), or None / "untitled"
        for text with no file (allowed, redacted)."""
        if source is None or (isinstance(source, str) and source in ("", "untitled")):
            return PathDecision(None, False, None, "untitled", None, ("no source file: text is redacted",))
        if isinstance(source, str) and looks_like_uri(source):
            return self.check_uri(source)
        text = os.fspath(source)
        if os.path.isabs(text):
            return self.check_path(text)
        return self._check_relative(text)

    def _check_relative(self, relative: str) -> PathDecision:
        parts = PurePath(relative).parts
        if ".." in parts or "\x00" in relative:
            return PathDecision(None, True, "relative source escapes the workspace", "error")
        with self._lock:
            roots = self._roots
        candidates = [root.real / relative for root in roots] or [Path(normalise(relative))]
        if len(roots) > 1 and len(parts) > 1:
            candidates += [root.real.joinpath(*parts[1:]) for root in roots if parts[0] in (root.given.name, root.real.name)]
        decisions = [self.check_path(candidate) for candidate in candidates]
        for decision in decisions:
            if decision.excluded:
                return decision
        existing = [d for d, c in zip(decisions, candidates) if os.path.lexists(c)]
        return (existing or decisions)[0]

    # -- reading --------------------------------------------------------------------------------

    def read_text(self, path: PathLike) -> str | None:
        """The file's text with secrets redacted, or None: excluded, outside the workspace,
        not a regular file, over ``max_file_bytes``, a line over ``max_line_chars``, binary
        (NUL in the first 8 KB), UTF-16/32 or not valid UTF-8. Never decodes lossily."""
        decision = self.check_path(path)
        if decision.excluded or decision.path is None:
            log.debug("not reading %s: excluded (%s)", os.fspath(path), decision.kind)
            return None
        real = decision.real_path or decision.path
        with self._lock:
            roots = self._roots
        if roots and not inside_any(real, roots):
            log.debug("not reading %s: outside the workspace", decision.path)
            return None
        outcome = read_utf8(str(real), max_bytes=self.max_file_bytes, max_line_chars=self.max_line_chars)
        if outcome.text is None:
            log.debug("not reading %s: %s", decision.path, outcome.reason)
            return None
        if Path(os.path.realpath(decision.path)) != real:
            log.debug("not reading %s: it changed while being read", decision.path)
            return None
        redaction = redact(outcome.text, hint=real.name)
        if redaction.findings:
            log.debug("read %s: redacted %s", decision.path, redaction.kinds())
        return redaction.text

    def _template_clean(self, path: Path) -> tuple[bool, str]:
        """Whether a deny-listed template (``.env.example``) holds no secret-shaped value."""
        real = os.path.realpath(path)
        try:
            info = os.stat(real)
        except OSError:
            return False, "cannot be read"
        key = (real, info.st_ino, info.st_size, info.st_mtime_ns)
        with self._lock:
            cached = self._templates.get(key)
        if cached is not None:
            return cached
        outcome = read_utf8(real, max_bytes=self.max_file_bytes, max_line_chars=self.max_line_chars)
        if outcome.text is None:
            result = (False, outcome.reason or "cannot be read")
        else:
            found = redact(outcome.text, hint=Path(real).name)
            result = (True, "clean") if found.clean else (False, f"{len(found.findings)} secret-shaped value(s)")
        with self._lock:
            self._templates[key] = result
        return result

    # -- text -----------------------------------------------------------------------------------

    def redact(self, text: str, *, hint: str | PurePath | None = None) -> Redaction:
        """Secrets in ``text`` replaced by ``<redacted:KIND>``; ``hint`` is a file name that
        tells code (unquoted identifiers are variables) from configuration (they are values)."""
        return redact(text, hint=hint)

    def admit(self, piece: PromptPiece) -> PromptPiece:
        """Check the piece's source and redact its text; returns a sealed piece.

        Raises GateError if the source is excluded — including the open document itself:
        an excluded file gets no completion at all. Text with no file (``untitled:``, None)
        is admitted after redaction. Redact whole texts before cutting windows where you can
        (``admit_document``): a piece cut through a secret can only be judged on what it holds.
        """
        if not isinstance(piece, PromptPiece):
            raise GateError(f"not a PromptPiece: {type(piece).__name__}")
        decision = self.check_source(piece.source)
        source = _display(piece.source)
        if decision.excluded:
            log.debug("refused %s piece from %s (%s)", piece.kind, source, decision.kind)
            raise GateError(f"source {source} is excluded: {decision.rule}", source=source, rule=decision.rule)
        redaction = redact(piece.text, hint=_hint(piece.source))
        log.debug("admitted %s piece from %s: %d chars, %d redaction(s) %s", piece.kind, source,
                  len(redaction.text), len(redaction.findings), redaction.kinds() if redaction.findings else "")
        return self._sealed(redaction.text, piece.source, piece.kind)

    def admit_document(
        self, text: str, cursor: int, source: str | PurePath | None, *, kinds: tuple[str, str] = ("prefix", "suffix")
    ) -> tuple[PromptPiece, PromptPiece]:
        """The open document redacted as a whole, split at ``cursor`` (mapped through the
        redaction; a cursor inside a secret moves after its placeholder). Use this rather
        than admitting prefix and suffix separately: a secret cut in two by the cursor would
        otherwise leave two halves that no longer look like a secret."""
        if not 0 <= cursor <= len(text):
            raise ValueError(f"cursor {cursor} is outside the document ({len(text)} characters)")
        decision = self.check_source(source)
        shown = _display(source)
        if decision.excluded:
            log.debug("refused document %s (%s)", shown, decision.kind)
            raise GateError(f"source {shown} is excluded: {decision.rule}", source=shown, rule=decision.rule)
        redaction = redact(text, hint=_hint(source))
        at = redaction.map_offset(cursor)
        log.debug("admitted document %s: %d chars, %d redaction(s) %s", shown, len(text), len(redaction.findings),
                  redaction.kinds() if redaction.findings else "")
        return (self._sealed(redaction.text[:at], source, kinds[0]), self._sealed(redaction.text[at:], source, kinds[1]))

    def narrow(self, piece: PromptPiece, start: int, end: int | None = None) -> PromptPiece:
        """An admitted piece cut to ``text[start:end]``, still admitted (token-budget trims)."""
        if not self._sealer.valid(piece):
            raise GateError(f"cannot narrow a piece that was not admitted ({piece.kind} from {_display(piece.source)})")
        return self._sealed(piece.text[start:end], piece.source, piece.kind)

    def final_check(self, pieces: Iterable[PromptPiece]) -> None:
        """The last check before tokenization: every piece was admitted by this gate and not
        changed since, and its source is (still) not excluded. Raises GateError otherwise."""
        for piece in pieces:
            if not isinstance(piece, PromptPiece):
                raise GateError(f"prompt contains raw {type(piece).__name__}, not an admitted PromptPiece")
            if not self._sealer.valid(piece):
                log.debug("final check: %s piece from %s was not admitted", piece.kind, _display(piece.source))
                raise GateError(f"{piece.kind} piece from {_display(piece.source)} was not admitted by the gate "
                                "(or was changed after admission)", source=_display(piece.source))
            decision = self.check_source(piece.source)
            if decision.excluded:
                raise GateError(f"source {_display(piece.source)} is excluded: {decision.rule}",
                                source=_display(piece.source), rule=decision.rule)

    def scan_output(self, text: str, *, prefix: str = "", hint: str | PurePath | None = None,
                    redact_secrets: bool = False) -> str | None:
        """Model output checked before anyone sees it.

        Default: a completion that would emit a secret-shaped string — judged together with
        the end of ``prefix`` (the document before the cursor), so ``password = "`` + ``hunter2"``
        counts — or that echoes a ``<redacted:...>`` placeholder, is *dropped* (None): a
        half-redacted completion is useless in an editor. With ``redact_secrets=True`` (prose
        such as explanations) the secrets are replaced by placeholders instead and the text
        is kept.
        """
        context = prefix[-_OUTPUT_CONTEXT_CHARS:]
        combined = context + text
        redaction = redact(combined, hint=hint)
        hits = overlapping(redaction.findings, len(context))
        echoed = PLACEHOLDER_TEXT.search(text) is not None
        if not hits and not echoed:
            return text
        kinds = sorted({f.kind for f in hits})
        if not redact_secrets:
            log.debug("dropped model output: %d secret-shaped string(s) %s%s", len(hits), kinds,
                      ", echoed placeholder" if echoed else "")
            return None
        log.debug("redacted model output: %d secret-shaped string(s) %s", len(hits), kinds)
        out: list[str] = []
        cursor = len(context)
        for finding in sorted(hits, key=lambda f: f.start):
            start = max(finding.start, cursor)
            out.append(combined[cursor:start])
            out.append(placeholder(finding.kind))
            cursor = max(cursor, finding.end)
        out.append(combined[cursor:])
        return "".join(out)

    def explain(self, target: PathLike) -> str:
        """Why a path or URI is excluded or allowed, for ``slm-lsp why FILE`` and the LSP."""
        raw = os.fspath(target)
        lines: list[str] = []
        if isinstance(target, str) and looks_like_uri(raw):
            parsed = parse_uri(raw)
            if parsed.kind == "rejected":
                lines += [f"{parsed.scheme or 'URI'}: EXCLUDED", f"  rule: URI rejected: {parsed.reason}"]
                return self._safe("\n".join(lines))
            if parsed.kind == "untitled" and parsed.path is None:
                lines += ["untitled buffer: ALLOWED after redaction",
                          "  no file on disk: its text is redacted before any use"]
                return self._safe("\n".join(lines))
            raw = parsed.path or raw
        lexical = Path(normalise(raw))
        with self._lock:
            policy = self._policy
        decision = self._decide(policy, lexical, full=True)
        lines.append(f"{lexical}: {'EXCLUDED' if decision.excluded else 'ALLOWED'}")
        if decision.excluded:
            lines.append(f"  rule: {decision.rule}")
            lines.append(f"  kind: {decision.kind}")
        else:
            lines.append("  no rule excludes it; its text is still redacted before use")
        lines.append("  checked:")
        lines += [f"    - {note}" for note in decision.notes]
        return self._safe("\n".join(lines))

    # -- helpers --------------------------------------------------------------------------------

    def _sealed(self, text: str, source: str | PurePath | None, kind: str) -> PromptPiece:
        return PromptPiece(text, source, kind, self._sealer.seal(text, source, kind))

    @staticmethod
    def _safe(text: str) -> str:
        """Explanations quote ignore-file patterns and paths: redact them too, to be sure."""
        return redact(text).text


def _display(source: str | PurePath | None) -> str:
    return "untitled" if source is None else str(source)


def _hint(source: str | PurePath | None) -> str | None:
    if source is None:
        return None
    text = str(source)
    if looks_like_uri(text):
        parsed = parse_uri(text)
        return parsed.path
    return text
