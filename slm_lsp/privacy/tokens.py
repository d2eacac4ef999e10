"""Detectors for secrets recognisable by their shape alone.

Vendor tokens with fixed prefixes (AWS, GitHub, GitLab, Slack, Stripe, OpenAI, Anthropic,
Google, npm, PyPI, Hugging Face and a few more), JWTs, credentials inside URLs, HTTP
``Bearer``/``Basic`` values, secret query parameters and detect-secrets-style high-entropy
quoted strings.

Every regex starts with a literal or a small character set so that CPython's ``re`` can
skip quickly through text that cannot match, and every repetition is bounded or
possessive: no input can make a detector backtrack more than a constant per position, so
a 1 MB single-line file is scanned in linear time. Word boundaries are checked in Python
after the match instead of with a leading look-behind, which would disable the skip.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from slm_lsp.privacy.entropy import high_entropy_kind, looks_random
from slm_lsp.privacy.textscan import ascii_lower
from slm_lsp.privacy.values import is_placeholder

Span = tuple[int, int, str]  # start, end, kind


@dataclass(frozen=True)
class TokenRule:
    kind: str
    regex: re.Pattern[str]
    group: int = 0  # the part of the match that is secret
    right: str = ""  # characters that must not follow the match
    valid: Callable[[str], bool] | None = None
    lowered: bool = False  # matched against the ASCII-lower-cased text (case-insensitive)
    head: str = ""  # the literal every match starts with: absent from the text, skip the rule


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_WORD = _ALNUM + "_"
_TOKEN_CHARS = _WORD + "-"


def _mixed(tail: str) -> bool:
    """Random API keys have digits, capitals and lower case; words and slugs do not."""
    return any(c.isdigit() for c in tail) and any(c.isupper() for c in tail) and any(c.islower() for c in tail)


def _openai(token: str) -> bool:
    body = token[3:]
    for prefix in ("proj-", "svcacct-", "admin-", "None-"):
        if body.startswith(prefix):
            body = body[len(prefix) :]
            break
    return not token.startswith("sk-ant-") and len(body) >= 20 and _mixed(body)


def _basic_credentials(value: str) -> bool:
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded and all(32 <= b < 127 for b in decoded)


def _rules(
    kind: str,
    heads: Iterable[str],
    tail: str,
    *,
    left: str = "",
    right: str = "",
    group: int = 0,
    valid: Callable[[str], bool] | None = None,
    lowered: bool = False,
) -> list[TokenRule]:
    """One rule per literal head. The head stays the regex's first item, so ``re`` finds
    candidates with a fast literal search; the left word boundary is then checked by a
    fixed-width look-behind right after the head, in constant time, so candidates inside a
    long run of token characters are dropped before the tail is scanned."""
    made = []
    for head in heads:
        guard = f"(?<![{re.escape(left)}][\\s\\S]{{{len(head)}}})" if left else ""
        made.append(TokenRule(kind, re.compile(re.escape(head) + guard + tail), group, right, valid, lowered, head))
    return made


RULES: tuple[TokenRule, ...] = (
    *_rules("aws-access-key-id", ["AKIA", "ASIA", "ABIA", "ACCA"], r"[A-Z0-9]{16}", left=_ALNUM, right=_ALNUM),
    *_rules("aws-access-key-id", ["A3T"], r"[A-Z0-9]{17}", left=_ALNUM, right=_ALNUM),
    *_rules("github-token", ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"], r"[A-Za-z0-9]{36,251}+", left=_WORD, right=_WORD),
    *_rules("github-token", ["github_pat_"], r"[A-Za-z0-9_]{22,251}+", left=_WORD),
    *_rules("gitlab-token", ["gl"], r"(?:pat|dt|ptt|rt|oas|soat|cbt|ft|imt|agent|ffct|wt)-[A-Za-z0-9_\-]{20,64}+",
            left=_TOKEN_CHARS),
    *_rules("gitlab-token", ["GR1348941"], r"[A-Za-z0-9_\-]{20,64}+", left=_ALNUM),
    *_rules("slack-token", ["xox"], r"[abposre](?:\.xox[a-z])?-[A-Za-z0-9\-]{10,250}+", left=_ALNUM),
    *_rules("slack-token", ["xapp-"], r"[0-9]-[A-Za-z0-9\-]{10,250}+", left=_ALNUM),
    *_rules("slack-webhook", ["https://hooks.slack.com/"], r"(?:services|workflows|triggers)/[A-Za-z0-9_/\-]{20,200}+"),
    *_rules("discord-webhook", ["discord.com/api/webhooks/", "discordapp.com/api/webhooks/"],
            r"[0-9]{5,30}/[A-Za-z0-9_\-]{40,200}+"),
    *_rules("stripe-key", ["sk_live_", "sk_test_", "rk_live_", "rk_test_"], r"[A-Za-z0-9]{10,247}", left=_WORD,
            right=_ALNUM),
    *_rules("stripe-webhook-secret", ["whsec_"], r"[A-Za-z0-9]{24,64}+", left=_WORD),
    *_rules("anthropic-key", ["sk-ant-"], r"[A-Za-z0-9_\-]{20,250}+", left=_TOKEN_CHARS),
    *_rules("openai-key", ["sk-"], r"[A-Za-z0-9_\-]{20,250}+", left=_TOKEN_CHARS, valid=_openai),
    *_rules("google-api-key", ["AIza"], r"[0-9A-Za-z_\-]{35}", left=_TOKEN_CHARS),
    *_rules("google-oauth-secret", ["GOCSPX-"], r"[A-Za-z0-9_\-]{28}", left=_TOKEN_CHARS),
    *_rules("google-oauth-token", ["ya29."], r"[0-9A-Za-z_\-]{20,2048}+", left=_TOKEN_CHARS),
    *_rules("npm-token", ["npm_"], r"[A-Za-z0-9]{36}", left=_WORD, right=_ALNUM),
    *_rules("pypi-token", ["pypi-AgE"], r"[A-Za-z0-9_\-]{50,2048}+", left=_TOKEN_CHARS),
    *_rules("huggingface-token", ["hf_"], r"[A-Za-z0-9]{34,40}", left=_WORD, right=_WORD, valid=_mixed),
    *_rules("huggingface-token", ["api_org_"], r"[A-Za-z0-9]{34}", left=_WORD, right=_WORD, valid=_mixed),
    *_rules("jwt", ["eyJ"], r"[A-Za-z0-9_\-]{8,4096}+\.eyJ[A-Za-z0-9_\-]{8,16384}+\.[A-Za-z0-9_\-]{0,4096}+",
            left=_TOKEN_CHARS),
    *_rules("sendgrid-key", ["SG."], r"[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}", left=_ALNUM),
    *_rules("twilio-key", ["SK"], r"[0-9a-f]{32}", left=_ALNUM, right=_ALNUM),
    *_rules("mailgun-key", ["key-"], r"[0-9a-f]{32}", left=_ALNUM, right=_ALNUM),
    *_rules("digitalocean-token", ["dop_v1_", "doo_v1_", "dor_v1_"], r"[a-f0-9]{64}", left=_WORD),
    *_rules("shopify-token", ["shpat_", "shpca_", "shppa_", "shpss_"], r"[a-fA-F0-9]{32}", left=_WORD),
    *_rules("databricks-token", ["dapi"], r"[a-f0-9]{32}(?:-[0-9])?", left=_ALNUM),
    *_rules("bearer-token", ["bearer", "token"], r"[ \t]{1,8}([A-Za-z0-9._~+/\-]{16,4096}+=*)", group=1,
            left=_WORD, valid=lambda v: looks_random(v, min_length=16), lowered=True),
    *_rules("basic-auth", ["basic"], r"[ \t]{1,8}([A-Za-z0-9+/]{8,1024}+={0,2})", group=1, left=_WORD,
            right=_ALNUM + "+/=", valid=_basic_credentials, lowered=True),
    *_rules("url-secret-parameter", ["sig=", "signature=", "key=", "apikey=", "api_key=", "access_token=", "token="],
            r"([^&#\s\"'<>]{8,512}+)", group=1, valid=lambda v: not is_placeholder(v) and (looks_random(v) or len(v) >= 24),
            lowered=True),
)
_QUERY_START = frozenset("?&")
_TELEGRAM = re.compile(r":AA[A-Za-z0-9_\-]{33}")

_KEY_BEFORE = re.compile(r"([A-Za-z_][A-Za-z0-9_\-]{0,40})[\"']?[ \t]{0,4}(?::|=|=>)[ \t]{0,4}$")
_DIGEST_KEYS = frozenset({
    "hash", "hashes", "checksum", "digest", "integrity", "sha", "sha1", "sha256", "sha384", "sha512", "md5",
    "etag", "commit", "rev", "revision", "oid", "tree", "parent", "head", "fingerprint",
})
_QUOTED = re.compile(r"""(["'`])([A-Za-z0-9+/=_\-]{16,}+)\1""")
_SCHEME_SEP = re.compile(r"://")
_SCHEME_CHARS = frozenset(_ALNUM + "+.-")
_USERINFO = re.compile(
    r"""([^\s:@/?#"'<>\[\]{}|\\^`]{0,256})(?::([^\s/?#"'<>\\`]{1,256}))?@(?=[A-Za-z0-9\[])"""
)


def find_tokens(text: str) -> Iterator[Span]:
    lowered: str | None = None
    for rule in RULES:
        haystack = text
        if rule.lowered:
            lowered = ascii_lower(text) if lowered is None else lowered
            haystack = lowered
        if rule.head not in haystack:  # str search is several times faster than re's
            continue
        for match in rule.regex.finditer(haystack):
            start, end = match.span()
            if rule.right and end < len(text) and text[end] in rule.right:
                continue
            if rule.kind == "url-secret-parameter" and (start == 0 or text[start - 1] not in _QUERY_START):
                continue
            secret_start, secret_end = match.span(rule.group)
            if rule.valid is not None and not rule.valid(text[secret_start:secret_end]):
                continue
            yield secret_start, secret_end, rule.kind
    for match in _TELEGRAM.finditer(text):
        start = match.start()
        while start > 0 and match.start() - start < 10 and text[start - 1].isascii() and text[start - 1].isdigit():
            start -= 1
        digits = match.start() - start
        end = match.end()
        if 8 <= digits <= 10 and (start == 0 or text[start - 1] not in _ALNUM) and (
            end == len(text) or text[end] not in _TOKEN_CHARS
        ):
            yield start, end, "telegram-bot-token"


def find_url_credentials(text: str) -> Iterator[Span]:
    """``scheme://user:password@host``: the password (or a token-like lone user) is secret."""
    for match in _SCHEME_SEP.finditer(text):
        start = match.start()
        scheme_start = start
        while scheme_start > 0 and start - scheme_start < 32 and text[scheme_start - 1] in _SCHEME_CHARS:
            scheme_start -= 1
        if scheme_start == start or not text[scheme_start].isalpha():
            continue
        if text.find("@", match.end(), match.end() + 520) < 0:
            continue
        info = _USERINFO.match(text, match.end())
        if info is None:
            continue
        user, password = info.group(1), info.group(2)
        if password is not None:
            if not is_placeholder(password):
                yield info.start(2), info.end(2), "url-password"
        elif user and looks_random(user, min_length=20) and not is_placeholder(user):
            yield info.start(1), info.end(1), "url-token"


def find_high_entropy_strings(text: str) -> Iterator[Span]:
    for match in _QUOTED.finditer(text):
        kind = high_entropy_kind(match.group(2))
        if kind is None:
            continue
        if kind == "high-entropy-hex":
            key = _KEY_BEFORE.search(text, max(0, match.start() - 48), match.start())
            if key is not None and key.group(1).lower().replace("-", "_").split("_")[-1] in _DIGEST_KEYS:
                continue  # checksum = "..." in a lock file, "sha": "..." in metadata: public hashes
        yield match.start(2), match.end(2), kind
