"""Next-edit cases mined from a git repository's history, and their scores.

A commit that touches one file in two or more hunks is a sequence of edits someone really
made. For each k, the first k hunks are replayed through the same edit history the server
keeps (so coalescing, the privacy gate and the bounds all apply), each line hunk as the
word-level changes an editor would send, left to right; the predictor is asked for the
next edit with the cursor at the end of hunk k, and its first proposal is scored against
what the commit did next:

- *location hit*: the proposed range overlaps hunk k+1 (lines; an insertion between two
  lines counts the lines on either side), *hit (any)*: it overlaps any later hunk of the
  commit (the author's order need not be the file's);
- *exact*: applying the proposal alone gives the same text as applying hunk k+1 alone;
  *exact (any)*: the same for some later hunk.

With a next-edit model (``ModelVariant``: its format, the loaded engine), the model
predictor is asked at the same points, on the first ``ModelVariant.max_cases`` cases, and
scored the same way in its own row (its first proposal, nearest the cursor), with how its
generations ended and their token counts.

Only files the privacy gate admits are mined (judged by path under the repository's
current rules), and what is reported are counts, rates and times — never code.
"""

from __future__ import annotations

import difflib
import re
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from slm_lsp.context.languages import grammar_for_path
from slm_lsp.nextedit import EditHistory, NextEdits, Proposal
from slm_lsp.nextedit.model import Runner, Special
from slm_lsp.nextedit.roles import grammar_roles
from slm_lsp.privacy import PrivacyGate

MAX_FILE_CHARS = 400_000
MAX_HUNKS = 40  # a commit rewriting a file in more hunks is a reformat, not a sequence of edits


@dataclass(frozen=True)
class LineHunk:
    """Lines ``[start, end)`` of the file before the commit became ``lines``."""

    start: int
    end: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Commit:
    sha: str
    path: str
    before: str
    hunks: tuple[LineHunk, ...]


@dataclass
class CaseResult:
    role: str | None  # the first proposal's role, None when there was none
    hit: bool
    hit_any: bool
    exact: bool
    exact_any: bool
    seconds: float


@dataclass(frozen=True)
class ModelVariant:
    """A next-edit model to score besides propagation: its format and the loaded engine."""

    format: str
    runner: Runner
    special: Special
    max_cases: int


@dataclass
class ModelRun:
    """How one model prediction ended (for the report: no code, only counts)."""

    stop_reason: str
    prompt_tokens: int
    generated_tokens: int


@dataclass
class NextEditReport:
    repository: str
    multi_file: bool = False
    commits_scanned: int = 0
    commits_used: int = 0
    files_refused: int = 0  # by the privacy gate
    cases: list[CaseResult] = field(default_factory=list)
    model_format: str | None = None
    model_cases: list[CaseResult] = field(default_factory=list)
    model_runs: list[ModelRun] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "repository": self.repository,
            "multiFile": self.multi_file,
            "commitsScanned": self.commits_scanned,
            "commitsUsed": self.commits_used,
            "filesRefusedByGate": self.files_refused,
            **_scores(self.cases),
        }
        if self.model_format is not None:
            runs = [r for r in self.model_runs if r.stop_reason != "none"]  # "none": no prompt was built
            data["model"] = {
                "format": self.model_format, **_scores(self.model_cases),
                "stopReasons": dict(sorted(Counter(r.stop_reason for r in self.model_runs).items())),
                "promptTokensMean": round(statistics.fmean(r.prompt_tokens for r in runs), 1) if runs else None,
                "generatedTokensMean": round(statistics.fmean(r.generated_tokens for r in runs), 1) if runs else None,
            }
        return data


def _scores(cases: list[CaseResult]) -> dict[str, object]:
    answered = [c for c in cases if c.role is not None]
    times = sorted(c.seconds * 1000 for c in cases)

    def rate(hits: int, total: int) -> float | None:
        return round(hits / total, 4) if total else None

    return {
        "cases": len(cases),
        "answered": len(answered),
        "coverage": rate(len(answered), len(cases)),
        "locationHit": rate(sum(c.hit for c in cases), len(cases)),
        "locationHitAny": rate(sum(c.hit_any for c in cases), len(cases)),
        "exactMatch": rate(sum(c.exact for c in cases), len(cases)),
        "exactMatchAny": rate(sum(c.exact_any for c in cases), len(cases)),
        "precision": {"locationHit": rate(sum(c.hit for c in answered), len(answered)),
                      "locationHitAny": rate(sum(c.hit_any for c in answered), len(answered)),
                      "exactMatchAny": rate(sum(c.exact_any for c in answered), len(answered))},
        "byRole": {role: {"answered": n, "hitAny": sum(c.hit_any for c in answered if c.role == role),
                          "exactAny": sum(c.exact_any for c in answered if c.role == role)}
                   for role, n in sorted(Counter(c.role for c in answered).items())},
        "latencyMs": {"p50": _percentile(times, 0.5), "p95": _percentile(times, 0.95),
                      "max": round(times[-1], 2) if times else None,
                      "mean": round(statistics.fmean(times), 2) if times else None},
    }


def _percentile(ordered: list[float], q: float) -> float | None:
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2) if ordered else None


# -- mining ----------------------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> str | None:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        return None
    try:
        return done.stdout.decode("utf-8")
    except UnicodeDecodeError:
        return None


def mine(repo: Path, gate: PrivacyGate, max_commits: int, report: NextEditReport, *,
         multi_file: bool = False) -> Iterator[Commit]:
    """Non-merge commits (newest first, at most ``max_commits``) that modify exactly one
    admitted file of a language propagation knows, in at least two hunks; with
    ``multi_file`` every such file of any commit, each its own sequence."""
    listing = _git(repo, "rev-list", "--no-merges", f"--max-count={max_commits}", "HEAD") or ""
    for sha in listing.split():
        report.commits_scanned += 1
        changed = _git(repo, "diff-tree", "--no-commit-id", "-r", "--name-status", "--no-renames", sha)
        rows = [row.split("\t") for row in (changed or "").splitlines() if row]
        if len(rows) != 1 and not multi_file:
            continue
        for row in rows:
            if row[0] != "M" or len(row) != 2 or grammar_roles(grammar_for_path(row[1])) is None:
                continue
            if gate.check_path(repo / row[1]).excluded:
                report.files_refused += 1
                continue
            commit = _commit(repo, sha, row[1])
            if commit is not None:
                yield commit


def _commit(repo: Path, sha: str, path: str) -> Commit | None:
    before, after = _git(repo, "show", f"{sha}^:{path}"), _git(repo, "show", f"{sha}:{path}")
    if before is None or after is None or max(len(before), len(after)) > MAX_FILE_CHARS:
        return None
    hunks = line_hunks(before, after)
    return Commit(sha, path, before, tuple(hunks)) if 2 <= len(hunks) <= MAX_HUNKS else None


def line_hunks(before: str, after: str) -> list[LineHunk]:
    """The line-level differences (difflib's, top to bottom)."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return [LineHunk(i1, i2, tuple(new[j1:j2])) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def token_changes(old: str, new: str) -> list[tuple[int, int, str]]:
    """``old`` → ``new`` as word-level replacements, left to right, each in the coordinates of
    the text after the ones before it: what an editor's changes look like, where a line hunk
    of a commit is many of them at once."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    changes: list[tuple[int, int, str]] = []
    delta = 0
    starts = [0]
    for token in a:
        starts.append(starts[-1] + len(token))
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        replacement = "".join(b[j1:j2])
        changes.append((starts[i1] + delta, starts[i2] + delta, replacement))
        delta += len(replacement) - (starts[i2] - starts[i1])
    return changes


_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


# -- replay and score ----------------------------------------------------------------------------


def evaluate_commit(commit: Commit, repo: Path, gate: PrivacyGate, report: NextEditReport,
                    clock: Callable[[], float] = time.perf_counter, model: ModelVariant | None = None) -> None:
    """Replay the commit's hunks one by one and score a prediction after each but the last."""
    uri = (repo / commit.path).as_uri()
    history = EditHistory(gate, max_hunks=MAX_HUNKS)
    edits = NextEdits(gate, history)
    history.opened(uri, commit.before)
    if history.document(uri) is None:
        report.files_refused += 1
        return
    lines = commit.before.splitlines(keepends=True)
    shift = 0  # lines added minus removed by the hunks applied so far
    for k, hunk in enumerate(commit.hunks[:-1]):
        start = hunk.start + shift
        offset = sum(map(len, lines[:start]))
        old_text, new_text = "".join(lines[start:start + hunk.end - hunk.start]), "".join(hunk.lines)
        cursor = offset
        for at, end, replacement in token_changes(old_text, new_text):  # as typed: left to right
            history.replace(uri, offset + at, offset + end, replacement)
            cursor = offset + at + len(replacement)
        lines[start:start + hunk.end - hunk.start] = list(hunk.lines)
        shift += len(hunk.lines) - (hunk.end - hunk.start)
        text = "".join(lines)
        began = clock()
        proposals = edits.suggest(uri, cursor, text=text).proposals
        seconds = clock() - began
        later = [LineHunk(h.start + shift, h.end + shift, h.lines) for h in commit.hunks[k + 1:]]
        report.cases.append(_score(text, lines, proposals[0] if proposals else None, later, seconds))
        if model is not None and len(report.model_cases) < model.max_cases:
            began = clock()
            found = edits.predict(model.format, model.runner, model.special, uri, cursor, text=text).proposals
            seconds = clock() - began
            report.model_cases.append(_score(text, lines, found[0] if found else None, later, seconds))
            last = edits.last_prediction
            report.model_runs.append(ModelRun(last.stop_reason, last.prompt_tokens, last.generated_tokens))
    report.commits_used += 1


def _score(text: str, lines: list[str], proposal: Proposal | None, later: list[LineHunk],
           seconds: float) -> CaseResult:
    if proposal is None:
        return CaseResult(None, False, False, False, False, seconds)
    first = text.count("\n", 0, proposal.start)
    last = text.count("\n", 0, max(proposal.start, proposal.end - 1))
    proposed = text[:proposal.start] + proposal.text + text[proposal.end:]
    hits = [_overlaps(first, last, h) for h in later]
    exact = [proposed == "".join([*lines[:h.start], *h.lines, *lines[h.end:]]) for h in later]
    return CaseResult(proposal.role, hits[0], any(hits), exact[0], any(exact), seconds)


def _overlaps(first: int, last: int, hunk: LineHunk) -> bool:
    """Whether lines ``first..last`` meet the hunk's lines (an insertion: the lines around it)."""
    low, high = (hunk.start, hunk.end - 1) if hunk.end > hunk.start else (hunk.start - 1, hunk.start)
    return first <= high and low <= last
