"""Secrets assigned to a key whose name says "secret": ``password = ...``, ``API_KEY=...``.

Covers Python/JS/TS/Go/Ruby/PHP assignments and keyword arguments, dict and object
literals, JSON, YAML, ``.ini``/``.properties``/``.env``/shell (``export X=...``), Python
type-annotated assignments (``password: str = "..."``), subscripts
(``config["password"] = "..."``), comparisons with a literal (``if token == "..."``),
XML elements (``<password>...</password>``) and URL query parameters (``?access_token=``).

How a false positive is avoided (ordinary code must survive untouched):
- the key is split into words (``DB_PASSWORD`` -> db, password; ``apiKey`` -> api, key).
  "Strong" words (password, secret, api key, private key, client secret, access token...)
  need only a non-trivial literal value; "weak" ones (token, auth, pass, pwd, bearer) also
  need a random-looking value, so ``token = "("`` in a lexer or ``pad_token = "<pad>"`` in
  ML code stay. A key ending in a naming word (``password_field``, ``token_type``,
  ``secret_name``, ``api_key_env``...) names something; it holds no secret.
- a value that is a call, attribute, subscript, variable or template (``input()``,
  ``get_password()``, ``os.environ["X"]``, ``settings.PASSWORD``, ``${VAR}``, ``f"{x}"``)
  is code. An unquoted bare identifier counts as a variable in code files and as a literal
  in configuration files (``password: hunter`` in YAML); an unknown file type is treated as
  configuration (fail closed).
- placeholders (``changeme``, ``<your-key>``, ``xxx``), field names that mention a secret
  (``"access_token"``) and prose (``"Enter your password"``) are not secrets.

Scanning cost is linear: candidate words are found with one regex, each identifier run is
examined once (at most ``_MAX_KEY`` characters), and values are read with bounded regexes.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from slm_lsp.privacy.entropy import looks_random
from slm_lsp.privacy.textscan import ascii_lower, find_all
from slm_lsp.privacy.values import is_ordinary, is_placeholder

Span = tuple[int, int, str]
Mode = Literal["code", "config"]

_MAX_KEY = 80
_MAX_VALUE = 4096

# Words that start a candidate key, searched in the ASCII-lower-cased text.
_NEEDLES = ("pass", "pwd", "secret", "token", "auth", "cred", "bearer", "key")
_IDENT_STRING = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-$"
_IDENT_CHARS = frozenset(_IDENT_STRING)
_MAY_FOLLOW_KEY = frozenset(" \t=:<!\"'`]>")  # separators, closing quotes and brackets
_SEPARATOR_START = frozenset("=:<!")
_QUOTES = frozenset("\"'`")
_IDENT_RUN = re.compile(r"[A-Za-z0-9_.\-$]*+")
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")

_STRONG = frozenset({
    "password", "passwd", "passwrd", "passphrase", "passcode", "secret", "secrets", "credential", "credentials",
    "creds", "apikey", "privatekey", "privkey", "secretkey", "accesskey", "accountkey", "sharedaccesskey",
    "clientsecret", "authtoken", "accesstoken", "refreshtoken", "apitoken", "sessiontoken", "bearertoken",
    "secretaccesskey", "masterkey", "signingkey", "encryptionkey", "webhooksecret", "appsecret", "authkey",
})
_STRONG_PAIRS = frozenset({
    ("api", "key"), ("private", "key"), ("secret", "key"), ("access", "key"), ("account", "key"),
    ("signing", "key"), ("encryption", "key"), ("master", "key"), ("license", "key"), ("auth", "key"),
    ("shared", "key"), ("auth", "token"), ("access", "token"), ("refresh", "token"),
    ("api", "token"), ("session", "token"), ("bearer", "token"), ("secret", "token"), ("sas", "token"),
    ("client", "secret"), ("app", "secret"), ("consumer", "secret"), ("webhook", "secret"),
})
_QUALIFIED_PASS = frozenset({"pass", "pw", "pwd"})  # strong after a qualifier: DB_PASS, SMTP_PWD
_WEAK = frozenset({"token", "auth", "pwd", "pass", "pw", "bearer"})
# A last word that makes the key a name for something else than the secret's value.
_NAMING = frozenset({
    "type", "types", "name", "names", "id", "ids", "field", "fields", "label", "labels", "prompt", "hint",
    "placeholder", "message", "messages", "msg", "text", "title", "description", "desc", "help", "url", "uri",
    "urls", "endpoint", "host", "len", "length", "size", "count", "file", "filename", "files", "path", "paths",
    "dir", "directory", "pattern", "regex", "re", "kind", "class", "header", "env", "var", "variable", "policy",
    "expiry", "expires", "expiration", "ttl", "timeout", "format", "fmt", "validator", "validation", "rule",
    "rules", "min", "max", "reset", "input", "widget", "form", "column", "col", "attr", "attribute", "param",
    "parameter", "option", "flag", "mode", "strength", "required", "index", "idx", "limit", "provider",
    "source", "method", "scheme", "version", "prefix", "suffix", "separator", "delimiter", "encoding",
    "algorithm", "algo", "store", "manager", "service", "handler", "factory", "storage", "callback", "fn",
    "func", "function", "hook", "error", "err", "errors", "exception", "enabled", "disabled", "lifetime",
    "duration", "age", "retries", "scope", "scopes", "location", "ref", "arn", "changed", "visible",
    "visibility", "icon", "button", "btn", "dialog", "view", "page", "route", "router", "controller", "event",
    "events", "test", "tests", "spec", "schema", "model", "status", "state", "valid", "invalid", "backend", "client", "issuer", "audience", "generator", "rotation", "revoked", "refresh", "key", "keys",
    "hash", "digest", "salt", "rounds", "iterations", "cost", "sha", "md5", "date", "time", "missing",
    "exists", "found", "present", "set", "allowed", "process", "command", "cmd", "helper", "program",
    "script", "exec", "executable", "binary", "bin", "tool", "plugin", "module", "package", "lib", "library",
    "folder", "config", "configuration", "settings", "options", "args", "kwargs",
})
# Words that make a key name something public: a public key, a publishable key.
_PUBLIC = frozenset({"public", "publishable", "pub", "pubkey"})
# Words next to a weak "token" that make it a lexer or tokenizer token, or a count.
_TOKEN_CONTEXT = frozenset({
    "eos", "bos", "pad", "unk", "sep", "cls", "mask", "fim", "start", "end", "stop", "special", "max", "min",
    "num", "n", "total", "next", "prev", "previous", "last", "first", "current", "cur", "input", "output",
    "expected", "actual", "lookahead", "peek", "eof", "sos", "begin", "im", "think", "image", "audio", "vision",
    "tool", "bot", "eot", "new", "old", "csrf", "xsrf", "lex", "lexer", "parser", "ast", "tok", "word",
})
_KEYWORD_VALUES = frozenset({
    "none", "null", "nil", "true", "false", "undefined", "yes", "no", "on", "off", "self", "this", "env", "os",
    "process", "config", "settings", "str", "string", "int", "bool", "boolean", "bytes", "number", "any",
    "object", "secretstr", "optional", "required", "void", "unknown", "never", "char", "text", "varchar",
})

_SEPARATOR = re.compile(
    r"[ \t]{0,16}(?:"
    r"(?P<annotated>:[ \t]{0,8}[A-Za-z_][\w\[\]., |]{0,60}?[ \t]{0,8}=(?![=>~]))"
    r"|(?P<op>:=|=>|<-|===|!==|==|!=|=(?![=~])|:(?![:=]))"
    r")[ \t]{0,16}"
)
_STRING_PREFIX = re.compile(r"(?i:[rbuf]{1,2})?(?=[\"'`])")
_QUOTED = {
    q: re.compile(rf"((?:[^{re.escape(q)}\\\n]|\\.){{0,{_MAX_VALUE}}})({re.escape(q)})?") for q in "\"'`"
}
_UNQUOTED_CODE = re.compile(r"[^\s,;)\]}'\"`]{1,512}")
_MAX_CONFIG_VALUE = 1024
_PROBE = 128
_BUDGET_BASE = 4096
_BUDGET_EVERY = 256
_UNQUOTED_URL = re.compile(r"[^\s&#;\"'<>]{1,512}")
_XML_VALUE = re.compile(r"[^<\n]{1,1024}")
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*")
_NUMBER = re.compile(r"[0-9]+")
_CODE_ROOTS = frozenset({"process", "os", "env", "self", "this", "cls", "settings", "config", "app", "window",
                         "import", "std", "system", "environment", "context", "ctx", "request", "req", "options",
                         "opts", "args", "props", "state", "credentials", "secrets", "vars", "params"})
_ENUM_WORD = re.compile(r"[a-z][a-z_\-]*")
_PATH = re.compile(r"(?:~|\.{1,2})?(?:/[A-Za-z0-9_.\-]{1,40}){1,40}/?")
_CODE_START = frozenset("$%{[(<@!*&|>\\:")
_FIRST_TOKEN = re.compile(r"[^\s,;)\]}]+")
_CODE_EXPRESSION = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*[ \t]*[\[(]")


@functools.lru_cache(maxsize=4096)
def classify_key(key: str, *, url: bool = False) -> Literal["strong", "weak"] | None:
    """Whether a key names a secret: strongly (password), weakly (token), or not at all."""
    words = [w.lower() for w in _WORDS.findall(key)]
    if not words:
        return None
    if words[-1] in _NAMING and not (len(words) >= 2 and (words[-2], words[-1]) in _STRONG_PAIRS):
        return None
    if any(w in _PUBLIC for w in words):
        return None
    joined = "".join(words)
    strong = any(w in _STRONG for w in words) or joined in _STRONG
    strong = strong or any(pair in _STRONG_PAIRS for pair in itertools.pairwise(words))
    strong = strong or any(w in _QUALIFIED_PASS for w in words[1:])
    if strong:
        return "strong"
    if any(w in _WEAK for w in words):
        if "token" in words and any(w in _TOKEN_CONTEXT for w in words):
            return None
        return "strong" if url else "weak"
    return None


@dataclass(frozen=True)
class _Value:
    start: int
    end: int
    quoted: bool
    mode: Mode
    comparison: bool = False
    cut: bool = False  # the text ends inside the quoted value


def find_keyword_secrets(text: str, mode: Mode) -> Iterator[Span]:
    """Values assigned to secret-named keys.

    Judging a value costs a few regex calls; hostile text can offer one candidate every few
    characters ("password=password=..."). After a generous budget of judged values
    (``_BUDGET_BASE`` plus one per ``_BUDGET_EVERY`` characters, far above real files) the
    remaining candidates are redacted without judging: more redaction, never less, and
    linear time.
    """
    skip_until = 0
    budget = _BUDGET_BASE + len(text) // _BUDGET_EVERY
    for at in find_all(ascii_lower(text), _NEEDLES):
        if at < skip_until:
            continue
        floor = max(0, at - _MAX_KEY - 1)
        start = floor + len(text[floor:at].rstrip(_IDENT_STRING))
        end = _IDENT_RUN.match(text, at).end()  # type: ignore[union-attr]
        skip_until = end
        if end - start > _MAX_KEY or (start == floor and start > 0 and text[start - 1] in _IDENT_CHARS):
            continue  # part of an identifier too long to be a key (minified or generated text)
        after = text[end : end + 1]
        if after not in _MAY_FOLLOW_KEY:
            continue
        if after in " \t" and text[end : end + 20].lstrip(" \t")[:1] not in _SEPARATOR_START:
            continue  # "Bearer abc", "token type": a word in a sentence, not a key
        key = text[start:end].strip(".-")
        before = text[start - 1] if start > 0 else ""
        if before in (":", "/"):
            continue  # a segment of an ARN, URN or path ("arn:aws:secretsmanager:...:secret:x")
        url = before in ("?", "&")
        # "Server=x;Password=y;" or "Password=y;...": a key inside a string literal (connection
        # strings, query strings); its value is a literal whatever the file's language.
        segment = before == ";" or (before in _QUOTES and text[end : end + 1] != before)
        strength = classify_key(key, url=url or segment)
        if strength is None:
            continue
        value = _value_after(text, end, "" if segment else before, url=url or segment, mode=mode, segment=segment)
        if value is None or value.end <= value.start:
            continue
        if value.cut:
            found: tuple[int, int] | None = (value.start, value.end)  # a window cut through the string
        elif budget > 0:
            budget -= 1
            found = _judge(text, value.start, value.end, quoted=value.quoted, mode=value.mode, strength=strength,
                           key=key, comparison=value.comparison)
        elif not value.quoted and _obviously_code(text[value.start : value.start + _PROBE]):
            found = None
        else:
            found = (value.start, value.end)
        if found is not None:
            skip_until = max(skip_until, found[1])
            yield found[0], found[1], "keyword-secret"


def _value_after(text: str, end: int, before: str, *, url: bool, mode: Mode, segment: bool = False) -> _Value | None:
    """Where the value assigned to the key ending at ``end`` is, if anything is assigned."""
    position = end
    if before in ("\"", "'", "`"):
        if text[position : position + 1] != before:
            return None
        position += 1
        if text[position : position + 1] == "]":
            position += 1
    elif before == "<" and text[position : position + 1] == ">":
        value = _XML_VALUE.match(text, position + 1)
        return None if value is None else _Value(value.start(), value.end(), False, "config")
    separator = _SEPARATOR.match(text, position)
    if separator is None:
        return None
    position = separator.end()
    operator = separator.group("op") or "="
    if segment and separator.group("op") != "=":
        return None  # inside a string only "key=value" is an assignment ("pwd: expected bytes" is prose)
    prefix = None if segment else _STRING_PREFIX.match(text, position)
    if prefix is not None and position < len(text):
        quote_at = prefix.end()
        quote = text[quote_at]
        body = _QUOTED[quote].match(text, quote_at + 1)
        assert body is not None
        value_start, value_end = body.span(1)
        if body.group(2) is None and value_end >= len(text):
            return _Value(value_start, value_end, True, mode, cut=True)
        if "f" in prefix.group().lower() and "{" in text[value_start:value_end]:
            return None
        if quote == "`" and "${" in text[value_start:value_end]:
            return None
        return _Value(value_start, value_end, True, mode, comparison=operator in ("==", "!=", "===", "!=="))
    if operator in (":=", "=>", "==", "!=", "===", "!==", "<-"):
        return None  # in code these are followed by expressions; only literals are secrets
    if url:
        value_match = _UNQUOTED_URL.match(text, position)
        return None if value_match is None else _Value(value_match.start(), value_match.end(), False, "config")
    if mode == "code":
        value_match = _UNQUOTED_CODE.match(text, position)
        return None if value_match is None else _Value(value_match.start(), value_match.end(), False, mode)
    limit = min(len(text), position + _MAX_CONFIG_VALUE)
    line_end = min(_find_or(text, "\n", position, limit), _find_or(text, "\r", position, limit))
    comment = _find_or(text, " #", position, line_end)
    value_end = position + len(text[position:comment].rstrip())
    return _Value(position, value_end, False, mode)


def _find_or(text: str, needle: str, start: int, end: int) -> int:
    found = text.find(needle, start, end)
    return end if found < 0 else found


def _judge(
    text: str, start: int, end: int, *, quoted: bool, mode: Mode, strength: str, key: str,
    value: str | None = None, comparison: bool = False,
) -> tuple[int, int] | None:
    """Whether the value at ``text[start:end]`` is a secret; cheapest tests first.

    The tests look at no more than ``_PROBE`` characters, so judging costs the same for a
    short value and for a 1 MB line (the whole value is still what gets redacted).
    """
    value = text[start:end] if value is None else value
    probe = value[: _PROBE + 8].strip()[:_PROBE]
    if len(probe) < (12 if strength == "weak" else 4):
        return None
    if len(probe) <= len(key) + 4 and _compact(probe) == _compact(key):
        return None  # password=password: passing a variable on
    if not quoted:
        if _obviously_code(probe):
            return None
        if mode == "code":
            if _NUMBER.fullmatch(probe):
                return (start, end) if strength == "strong" else None
            if _IDENTIFIER.fullmatch(probe):
                return None  # a variable, attribute or type: password = pw, key: KeyType
        elif "." in probe and _IDENTIFIER.fullmatch(probe) and probe.split(".")[0].lower() in _KEYWORD_VALUES:
            return None  # process.env.X, os.environ.X in a file we could not classify
    if is_placeholder(probe):
        return None
    if strength == "weak":
        return (start, end) if looks_random(probe) else None
    if comparison and _ENUM_WORD.fullmatch(probe):
        return None  # if mode == "warn": an enumeration value, not a password
    if probe.lower() in _KEYWORD_VALUES or is_ordinary(probe):
        return None
    return start, end


def _obviously_code(probe: str) -> bool:
    """An unquoted value that is a keyword, call, subscript, template or path: ``None``,
    ``get_password()``, ``data["pw"]``, ``${VAR}``, ``/run/secrets/db``."""
    probe = probe.strip()
    if not probe:
        return True
    first = _FIRST_TOKEN.match(probe)
    head = first.group() if first else probe
    if probe[0] in _CODE_START or "(" in head or head.lower() in _KEYWORD_VALUES:
        return True
    if "." in head and _IDENTIFIER.fullmatch(head.rstrip(";")) and head.split(".")[0].lower() in _CODE_ROOTS:
        return True  # process.env.API_KEY; settings.SECRET_KEY
    return _CODE_EXPRESSION.match(probe) is not None or _PATH.fullmatch(head) is not None


def _compact(value: str) -> str:
    return re.sub(r"[^a-z0-9]", "", value.lower())
