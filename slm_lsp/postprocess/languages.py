"""What post-processing needs to know about a language, keyed by LSP languageId.

Post-processing reads code lexically (brackets, strings, comments, indentation) and
syntactically (tree-sitter). Both need per-language facts that are small enough to list
here: the grammar name, how blocks are delimited, what a block opener looks like, which
string and comment forms exist, and where a definition at the top level starts. A
language not listed gets ``TEXT_ONLY``: no lexing and no parsing, only the rules that
work on plain text (suffix overlap, suffix repeat, repetition, whitespace), because
guessing the lexical rules of an unknown language does more harm than good.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# String and comment forms, as regex alternatives. Each language's lexer is built from
# these. Unterminated literals run to the end of the line (or of the text for the
# multi-line forms), so code being typed does not make the lexer lose track.
_DQ = r'"(?:\\.|[^"\\\n])*(?:"|(?=\n)|\Z)'
_SQ = r"'(?:\\.|[^'\\\n])*(?:'|(?=\n)|\Z)"
_CHAR = r"'(?:\\.[^'\n]{0,8}|[^'\\\n])'"  # a char literal; a Rust lifetime 'a is left alone
_BACKTICK = r"`(?:\\.|[^`\\])*(?:`|\Z)"  # JS template / Go raw string, may span lines
_PY_TRIPLE = r'[rRbBuUfF]{0,2}(?:"""(?:\\.|[^\\])*?(?:"""|\Z)' + r"|'''(?:\\.|[^\\])*?(?:'''|\Z))"
_PY_STRING = r"[rRbBuUfF]{0,2}(?:" + _DQ + "|" + _SQ + ")"
_RUST_RAW = r'r(?P<hashes>#*)"[\s\S]*?(?:"(?P=hashes)|\Z)'
_RUST_STRING = r'b?"(?:\\.|[^"\\])*(?:"|\Z)'  # Rust strings may span lines
_HASH_COMMENT = r"#[^\n]*"
_SLASH_COMMENT = r"//[^\n]*"
_BLOCK_COMMENT = r"/\*[\s\S]*?(?:\*/|\Z)"
# A JS regex literal can only follow one of these characters; the character is matched
# with it (group "pre") so that an opening bracket before it is still counted.
_JS_REGEX = r"(?P<pre>[(,=:\[!&|?{};])[ \t]*/(?![/*])(?:\\.|\[(?:\\.|[^\]\\\n])*\]|[^/\\\n\[])+/[a-z]*"


@dataclass(frozen=True)
class LanguageRules:
    """Per-language facts used by the lexer, the mode decision, the cuts and the parser."""

    grammar: str | None  # tree-sitter grammar name; None = no syntax validation
    lexed: bool  # whether brackets/strings/comments can be read reliably
    indentation_blocks: bool  # blocks are delimited by indentation (Python), not braces
    block_opener: str  # the character that ends a line opening a block (":" or "{")
    literal_patterns: tuple[str, ...]  # string and comment regexes, longest forms first
    top_level_stops: tuple[str, ...]  # stop sequences that begin another top-level definition
    continuation_keywords: tuple[str, ...] = ()  # dedented lines that continue a statement

    @property
    def lexer(self) -> re.Pattern[str]:
        """The compiled token regex: literals, then single bracket characters."""
        return _compiled_lexer(self.literal_patterns)


@functools.cache
def _compiled_lexer(patterns: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(f"(?:{p})" for p in patterns)
    brackets = r"(?P<bracket>[()\[\]{}])"
    return re.compile(f"(?P<literal>{alternatives})|{brackets}" if alternatives else brackets)


_C_LIKE = (_BLOCK_COMMENT, _SLASH_COMMENT, _DQ, _CHAR)

PYTHON = LanguageRules(
    grammar="python",
    lexed=True,
    indentation_blocks=True,
    block_opener=":",
    literal_patterns=(_PY_TRIPLE, _PY_STRING, _HASH_COMMENT),
    top_level_stops=("\n\ndef ", "\n\nclass ", "\n\nasync def ", "\n\n@", "\nif __name__"),
    continuation_keywords=("elif", "else", "except", "finally"),
)


def _braces(grammar: str, literals: tuple[str, ...], stops: tuple[str, ...]) -> LanguageRules:
    return LanguageRules(
        grammar=grammar,
        lexed=True,
        indentation_blocks=False,
        block_opener="{",
        literal_patterns=literals,
        top_level_stops=stops,
    )


_JS_LITERALS = (_BLOCK_COMMENT, _SLASH_COMMENT, _JS_REGEX, _DQ, _SQ, _BACKTICK)
_JS_STOPS = ("\n\nfunction ", "\n\nexport ", "\n\nclass ", "\n\nasync function ")

_RULES: dict[str, LanguageRules] = {
    "python": PYTHON,
    "javascript": _braces("javascript", _JS_LITERALS, _JS_STOPS),
    "javascriptreact": _braces("javascript", _JS_LITERALS, _JS_STOPS),
    "typescript": _braces("typescript", _JS_LITERALS, (*_JS_STOPS, "\n\ninterface ", "\n\ntype ")),
    "typescriptreact": _braces("tsx", _JS_LITERALS, _JS_STOPS),
    "go": _braces("go", (_BLOCK_COMMENT, _SLASH_COMMENT, _DQ, _CHAR, _BACKTICK), ("\n\nfunc ", "\n\ntype ")),
    "rust": _braces("rust",
        (_BLOCK_COMMENT, _SLASH_COMMENT, _RUST_RAW, _RUST_STRING, _CHAR),
        ("\n\nfn ", "\n\npub fn ", "\n\nimpl ", "\n\n#[", "\n\nmod ", "\n\nstruct ", "\n\npub struct "),
    ),
    "java": _braces("java", _C_LIKE, ()),
    "c": _braces("c", _C_LIKE, ()),
    "cpp": _braces("cpp", _C_LIKE, ()),
    "csharp": _braces("csharp", _C_LIKE, ()),
}

TEXT_ONLY = LanguageRules(
    grammar=None,
    lexed=False,
    indentation_blocks=False,
    block_opener="",
    literal_patterns=(),
    top_level_stops=(),
)


def rules_for(language: str | None) -> LanguageRules:
    """The rules for an LSP languageId; ``TEXT_ONLY`` when the language is unknown or None."""
    if not language:
        return TEXT_ONLY
    return _RULES.get(language.lower(), TEXT_ONLY)
