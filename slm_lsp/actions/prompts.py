"""Prompts for code actions, as exact token ids, with or without the model's chat template.

A GGUF that carries ``tokenizer.chat_template`` is an instruction model: the request is
one user message rendered through that template (llama-cpp-python's Jinja2ChatFormatter).
The template's own markup is tokenized with special tokens recognised, but every piece of
the user's code is tokenized as plain text, so code that contains ``<|im_start|>`` or
``<start_of_turn>`` cannot forge a turn: the message is rendered with private-use
placeholders in place of the code, and the code's plain-text tokens are spliced in.

A model without a chat template gets a completion-style prompt that a base model continues
with an explanation: the code in a fenced block, then "In plain English, this function"
for the model to finish. Measured on the embedded Gemma 3 270M (a base model), that
phrasing yields a relevant first paragraph, and later paragraphs drift into loops, so the
completion style stops at the first blank line.

All text passed in has already been admitted by the privacy gate.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

CHAT = "chat"
COMPLETION = "completion"

_NAMES: dict[str, tuple[str, str]] = {  # languageId -> (display name, code fence)
    "python": ("Python", "python"), "javascript": ("JavaScript", "javascript"),
    "javascriptreact": ("JavaScript", "jsx"), "typescript": ("TypeScript", "typescript"),
    "typescriptreact": ("TypeScript", "tsx"), "java": ("Java", "java"), "c": ("C", "c"), "cpp": ("C++", "cpp"),
    "csharp": ("C#", "csharp"), "go": ("Go", "go"), "rust": ("Rust", "rust"), "ruby": ("Ruby", "ruby"),
    "php": ("PHP", "php"), "kotlin": ("Kotlin", "kotlin"), "swift": ("Swift", "swift"), "scala": ("Scala", "scala"),
    "lua": ("Lua", "lua"), "shellscript": ("shell", "sh"), "bash": ("shell", "bash"), "sql": ("SQL", "sql"),
    "html": ("HTML", "html"), "css": ("CSS", "css"), "yaml": ("YAML", "yaml"), "json": ("JSON", "json"),
    "toml": ("TOML", "toml"), "markdown": ("Markdown", "markdown"), "dockerfile": ("Dockerfile", "dockerfile"),
    "makefile": ("Makefile", "makefile"),
}  # fmt: skip


def language_names(language_id: str | None) -> tuple[str, str]:
    """(display name, markdown fence) for an LSP languageId."""
    key = (language_id or "").lower()
    if key in _NAMES:
        return _NAMES[key]
    return (key.capitalize() or "source", key)


# -- chat template access ------------------------------------------------------------------------


def chat_template(engine: Any) -> str | None:
    """The GGUF's ``tokenizer.chat_template`` (read through llama-cpp-python: the engine's own
    metadata view keeps only short strings), or None."""
    llm = getattr(engine, "_llm", None)
    metadata = getattr(llm, "metadata", None) or {}
    template = metadata.get("tokenizer.chat_template")
    return template if isinstance(template, str) and template.strip() else None


def tokenize_special(engine: Any, text: str) -> list[int]:
    """Tokenize template markup: special-token texts become their tokens; no BOS is added."""
    if not text:
        return []
    return list(engine._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))


def _token_text(engine: Any, token: int | None) -> str:
    if token is None or token < 0:
        return ""
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(engine._llm.model)
    return llama_cpp.llama_vocab_get_text(vocab, token).decode("utf-8", errors="replace")


def _eos(engine: Any) -> int | None:
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(engine._llm.model)
    token = int(llama_cpp.llama_vocab_eos(vocab))
    return token if token >= 0 else None


class TemplateError(ValueError):
    """The chat template cannot render our message (the caller falls back to completion style)."""


@dataclass(frozen=True)
class Code:
    """User text inside a message: tokenized as plain text, never as special tokens."""

    text: str


Message = Sequence[str | Code]


def render_chat(engine: Any, template: str, message: Message) -> list[int]:
    """Token ids of ``message`` as the single user turn of ``template``, generation prompt added."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    placeholders: dict[str, str] = {}
    content = []
    for part in message:
        if isinstance(part, Code):
            key = f"\ue000{len(placeholders)}\ue001"
            placeholders[key] = part.text
            content.append(key)
        else:
            content.append(part)
    bos_id = engine.facts.bos
    formatter = Jinja2ChatFormatter(
        template=template, eos_token=_token_text(engine, _eos(engine)), bos_token=_token_text(engine, bos_id)
    )
    try:
        rendered = formatter(messages=[{"role": "user", "content": "".join(content)}]).prompt
    except Exception as exc:
        raise TemplateError(f"the chat template failed to render: {exc}") from exc
    ids: list[int] = []
    rest = rendered
    for key, code in placeholders.items():
        before, found, rest = rest.partition(key)
        if not found or key in rest:
            raise TemplateError("the chat template altered the message")
        ids += tokenize_special(engine, before) + engine.tokenize(code)
    ids += tokenize_special(engine, rest)
    if engine.fim.bos is not None and (not ids or ids[0] != engine.fim.bos):
        ids.insert(0, engine.fim.bos)
    return ids


# -- the prompts -------------------------------------------------------------------------------


@dataclass
class Prompt:
    """What to generate from: ids, when to stop, and the text shown before the model's output."""

    ids: list[int]
    style: str
    max_tokens: int
    stop: tuple[str, ...] = ()
    lead: str = ""  # completion style: the words the model continues ("This function")
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Extra:
    """A definition from another file (from the context engine), already admitted."""

    source: str
    text: str


@dataclass
class ExplainParts:
    language: str | None
    source: str  # workspace-relative path shown to the model
    selection: str
    first_line: int  # 1-based line numbers of the selection
    last_line: int
    noun: str = "code"  # "function", "class" or "code"
    name: str | None = None
    enclosing: str | None = None  # the definition the selection is part of
    enclosing_noun: str = "function"
    extras: list[Extra] = field(default_factory=list)
    truncated: bool = False  # the selection was cut to fit the context window


def _extras_block(extras: Sequence[Extra], fence: str, comment: str) -> list[str | Code]:
    parts: list[str | Code] = []
    if extras:
        parts.append("Definitions from other files that this code uses:\n\n")
        for extra in extras:
            parts += [f"{'````' if '```' in extra.text else '```'}{fence}\n{comment} {extra.source}\n",
                      Code(extra.text.rstrip()), f"\n{'````' if '```' in extra.text else '```'}\n\n"]
    return parts


def _code(fence: str, text: str) -> list[str | Code]:
    ticks = "````" if "```" in text else "```"
    return [f"{ticks}{fence}\n", Code(text.rstrip("\n")), f"\n{ticks}"]


_COMMENT = {"python": "#", "ruby": "#", "shellscript": "#", "bash": "#", "yaml": "#", "lua": "--", "sql": "--"}


def explain_message(parts: ExplainParts) -> list[str | Code]:
    """The user message asking an instruction model for an explanation.

    The code comes first and the request last: with a heading right before the code ("The
    code to explain:"), SmolLM2-135M-Instruct began 28 of 30 answers by repeating it and 12
    of them said nothing else (scripts/bench_actions.py, issue 18).
    """
    name, fence = language_names(parts.language)
    comment = _COMMENT.get((parts.language or "").lower(), "//")
    lines = f"line {parts.first_line}" if parts.first_line == parts.last_line else \
        f"lines {parts.first_line}-{parts.last_line}"
    message: list[str | Code] = _extras_block(parts.extras, fence, comment)
    if parts.enclosing:
        message += [f"The code below is part of this {parts.enclosing_noun}:\n\n", *_code(fence, parts.enclosing), "\n\n"]
    message += [f"{parts.source} ({lines}):\n\n", *_code(fence, parts.selection), "\n\n",
                f"Explain what this {name} code does, in plain language, for a developer reading it. "
                "Be concise: a short summary first, then the key steps."]
    return message


def explain_completion_text(parts: ExplainParts) -> tuple[list[str | Code], str]:
    """The completion-style prompt pieces and the lead the model continues."""
    name, fence = language_names(parts.language)
    comment = _COMMENT.get((parts.language or "").lower(), "//")
    pieces: list[str | Code] = _extras_block(parts.extras, fence, comment)
    if parts.enclosing:
        pieces += [f"Here is a {name} {parts.enclosing_noun}:\n\n", *_code(fence, parts.enclosing),
                   f"\n\nHere is a piece of that {parts.enclosing_noun}:\n\n", *_code(fence, parts.selection)]
        lead = "This piece of code"
    else:
        what = "piece of code" if parts.noun == "code" else parts.noun
        article = "an" if name[:1].lower() in "aeiou" and what == "piece of code" else "a"
        pieces += [f"Here is {article} {name} {what}:\n\n" if what != "piece of code"
                   else f"Here is a piece of {name} code:\n\n", *_code(fence, parts.selection)]
        lead = f"This {parts.noun}"
    pieces.append(f"\n\nIn plain English, {lead[0].lower()}{lead[1:]}")
    return pieces, lead


def docstring_message(parts: ExplainParts) -> list[str | Code]:
    name, fence = language_names(parts.language)
    label = f"{parts.noun} `{parts.name}`" if parts.name else parts.noun
    return [
        (f"Write a one-sentence summary of what the following {name} {label} does, for its documentation "
         "comment. Reply with only that sentence, starting with a verb such as \"Returns\" or \"Creates\".\n\n"),
        *_code(fence, parts.selection),
    ]


@dataclass
class FixParts:
    language: str | None
    source: str
    snippet: str  # whole lines around the problem
    head: str  # the snippet's lines before the problem (kept as they are)
    message: str  # the diagnostic, already admitted
    line_in_snippet: int  # 1-based


def fix_message(parts: FixParts) -> list[str | Code]:
    name, fence = language_names(parts.language)
    return [
        (f"The following {name} code from {parts.source} has a problem on line {parts.line_in_snippet} "
         "of the snippet: "), Code(parts.message), "\n\n", *_code(fence, parts.snippet),
        "\n\nReply with the corrected snippet only, complete, in one code block, without explanations.",
    ]


def fix_completion_text(parts: FixParts) -> list[str | Code]:
    name, fence = language_names(parts.language)
    ticks = "````" if "```" in parts.snippet else "```"
    return [
        f"Here is a piece of {name} code with a problem:\n\n", *_code(fence, parts.snippet),
        f"\n\nProblem on line {parts.line_in_snippet}: ", Code(parts.message),
        f"\n\nHere is the same code with the problem fixed:\n\n{ticks}{fence}\n", Code(parts.head),
    ]


@dataclass
class EditParts:
    language: str | None
    source: str
    code: str  # whole lines, common indentation removed
    instruction: str  # already admitted


def edit_message(parts: EditParts) -> list[str | Code]:
    name, fence = language_names(parts.language)
    return [
        f"Rewrite the following {name} code from {parts.source}. Instruction: ", Code(parts.instruction), "\n\n",
        *_code(fence, parts.code),
        "\n\nReply with the complete rewritten code only, in one code block, without explanations.",
    ]


def edit_completion_text(parts: EditParts) -> list[str | Code]:
    name, fence = language_names(parts.language)
    ticks = "````" if "```" in parts.code else "```"
    return [
        f"Here is a piece of {name} code:\n\n", *_code(fence, parts.code),
        "\n\nHere is the same code rewritten to follow this instruction: ", Code(parts.instruction),
        f"\n\n{ticks}{fence}\n",
    ]


class PromptBuilder:
    """Builds prompts for one engine: chat template when the model has one, else completion style."""

    def __init__(self, engine: Any, *, force_style: str | None = None) -> None:
        self.engine = engine
        self.template = chat_template(engine) if force_style != COMPLETION else None
        self.style = CHAT if self.template else COMPLETION

    def count(self, text: str) -> int:
        return len(self.engine.tokenize(text))

    def ids(self, pieces: Sequence[str | Code]) -> list[int]:
        """Completion-style ids: BOS if the model wants one, then every piece as plain text."""
        ids: list[int] = [self.engine.fim.bos] if self.engine.fim.bos is not None else []
        text = "".join(piece.text if isinstance(piece, Code) else piece for piece in pieces)
        return ids + self.engine.tokenize(text)

    def chat(self, message: Message) -> list[int] | None:
        if self.template is None:
            return None
        try:
            return render_chat(self.engine, self.template, message)
        except TemplateError as exc:
            log.warning("%s; using a completion-style prompt", exc)
            self.template = None
            self.style = COMPLETION
            return None

    def explain(self, parts: ExplainParts, max_tokens: int | None = None) -> Prompt:
        if (ids := self.chat(explain_message(parts))) is not None:
            return Prompt(ids, CHAT, max_tokens or 384, ())
        pieces, lead = explain_completion_text(parts)
        return Prompt(self.ids(pieces), COMPLETION, max_tokens or 160, ("\n\n", "```"), lead=lead)

    def docstring(self, parts: ExplainParts) -> Prompt:
        if (ids := self.chat(docstring_message(parts))) is not None:
            return Prompt(ids, CHAT, 96, ())
        pieces, lead = explain_completion_text(parts)
        return Prompt(self.ids(pieces), COMPLETION, 64, ("\n", "```"), lead=lead)

    def fix(self, parts: FixParts, max_tokens: int) -> Prompt:
        if (ids := self.chat(fix_message(parts))) is not None:
            return Prompt(ids, CHAT, max_tokens + 64, ())
        return Prompt(self.ids(fix_completion_text(parts)), COMPLETION, max_tokens, ("```",), lead=parts.head)


    def edit(self, parts: EditParts, max_tokens: int) -> Prompt:
        if (ids := self.chat(edit_message(parts))) is not None:
            return Prompt(ids, CHAT, max_tokens + 64, ())
        ticks = "````" if "```" in parts.code else "```"
        return Prompt(self.ids(edit_completion_text(parts)), COMPLETION, max_tokens, (ticks,))
