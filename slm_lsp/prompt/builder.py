"""Turn prompt pieces into the exact token ids the model sees.

The prompt is assembled as token ids, never as one string to re-tokenize: every piece of
user text is tokenized with ``special=False`` (so code that merely *contains* the text
``<|fim_prefix|>`` stays ordinary text), and the FIM control tokens are inserted by id.
Pieces are tokenized separately and laid out stable-first (other files' snippets, then
the prefix, then the suffix) so consecutive requests share the longest possible token
prefix and the engine can reuse its KV cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from slm_lsp.prompt.fim import FimFormat, Order
from slm_lsp.prompt.suffix_rank import suffix_extract

Tokenize = Callable[[str], list[int]]
"""Tokenizes plain text: no BOS, special-token texts treated as ordinary text."""

_LINE_COMMENT: dict[str, str] = {
    **dict.fromkeys(
        ["python", "shellscript", "bash", "sh", "ruby", "perl", "r", "yaml", "toml", "dockerfile",
         "makefile", "elixir", "julia", "nim", "powershell", "cmake"], "#"),
    **dict.fromkeys(
        ["c", "cpp", "csharp", "java", "javascript", "javascriptreact", "typescript",
         "typescriptreact", "go", "rust", "kotlin", "swift", "scala", "dart", "php", "zig",
         "objective-c", "groovy", "jsonc", "proto"], "//"),
    **dict.fromkeys(["lua", "sql", "haskell", "ada", "elm"], "--"),
}


@dataclass(frozen=True)
class Snippet:
    """Code from another file, already admitted by the privacy gate."""

    path: str  # workspace-relative path shown to the model
    text: str


@dataclass(frozen=True)
class PromptParts:
    """Everything the prompt stage lays out, all of it already through the privacy gate."""

    prefix: str
    suffix: str
    snippets: Sequence[Snippet] = ()
    path: str | None = None  # the current file, workspace-relative
    repo_name: str | None = None
    language: str | None = None
    # Prefix-only models only: the first lines after the cursor as a comment block before
    # everything else (they never see ``suffix`` otherwise); see README "Quality".
    suffix_extract: bool = False


def build_prompt(fmt: FimFormat, tokenize: Tokenize, parts: PromptParts) -> list[int]:
    """Lay out ``parts`` for ``fmt`` and return the token ids (BOS included if the model wants one)."""
    ids: list[int] = [fmt.bos] if fmt.bos is not None else []
    if fmt.has_repo_tokens and (parts.snippets or parts.path):
        ids += _repo_header(fmt, tokenize, parts)
        context_block: list[int] = []
    else:
        context_block = tokenize(_comment_block(parts)) if parts.snippets else []
    prefix_ids = tokenize(parts.prefix)
    if fmt.order is Order.PSM:
        assert fmt.pre is not None and fmt.suf is not None and fmt.mid is not None
        ids += [fmt.pre, *context_block, *prefix_ids, fmt.suf, *tokenize(parts.suffix), fmt.mid]
    elif fmt.order is Order.SPM_CODESTRAL:
        assert fmt.pre is not None and fmt.suf is not None
        ids += [fmt.suf, *tokenize(parts.suffix), fmt.pre, *context_block, *prefix_ids]
    else:
        marker = _LINE_COMMENT.get(parts.language or "", "")
        extract = suffix_extract(parts.suffix, marker) if parts.suffix_extract else ""
        ids += [*tokenize(extract), *context_block, *prefix_ids]
    return ids


def _repo_header(fmt: FimFormat, tokenize: Tokenize, parts: PromptParts) -> list[int]:
    """Qwen2.5-Coder / StarCoder2 repository layout: repo name, then one file per separator."""
    assert fmt.sep is not None
    ids: list[int] = []
    if fmt.rep is not None:
        ids += [fmt.rep, *tokenize(f"{parts.repo_name or 'workspace'}\n")]
    for snippet in parts.snippets:
        body = snippet.text if snippet.text.endswith("\n") else snippet.text + "\n"
        ids += [fmt.sep, *tokenize(f"{snippet.path}\n{body}")]
    ids += [fmt.sep, *tokenize(f"{parts.path or 'untitled'}\n")]
    return ids


def _comment_block(parts: PromptParts) -> str:
    """Other files' snippets as text, each under a comment naming its path."""
    marker = _LINE_COMMENT.get(parts.language or "")
    blocks = []
    for snippet in parts.snippets:
        body = snippet.text if snippet.text.endswith("\n") else snippet.text + "\n"
        header = f"{marker} Path: {snippet.path}\n" if marker else ""
        blocks.append(header + body)
    return "\n".join(blocks) + "\n"
