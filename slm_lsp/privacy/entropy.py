"""Shannon entropy and the detect-secrets high-entropy rules for quoted strings.

detect-secrets flags a quoted string made only of base64 characters when its entropy is
above 4.5 bits per character, or only of hex digits when above 3.0 (all-digit strings get
a length-dependent discount, so that long numbers are not flagged). Random 20-character
base64 cannot reach 4.5 bits (the maximum is log2(20) = 4.32), so minimum lengths only cut
noise: 20 characters for base64, 16 for hex.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter

BASE64_LIMIT = 4.5
HEX_LIMIT = 3.0
MIN_BASE64_LENGTH = 20
MIN_HEX_LENGTH = 16

HEX = frozenset("0123456789abcdefABCDEF")
BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_")

# Public content hashes that look random but are not secrets: Subresource Integrity values
# in lock files ("sha512-...") and "sha256:" digests.
_PUBLIC_HASH = re.compile(r"(?:sha1|sha256|sha384|sha512|md5)[-:]", re.IGNORECASE)


def shannon(text: str) -> float:
    if not text:
        return 0.0
    size = len(text)
    return -sum(count / size * math.log2(count / size) for count in Counter(text).values())


def hex_entropy(text: str) -> float:
    """detect-secrets' HexHighEntropyString entropy, with its discount for pure numbers."""
    entropy = shannon(text)
    if len(text) > 1 and text.isdigit():
        entropy -= 1.2 / math.log2(len(text))
    return entropy


def high_entropy_kind(value: str) -> str | None:
    """``"high-entropy-hex"``/``"high-entropy-base64"`` if ``value`` is one, else None."""
    if _PUBLIC_HASH.match(value):
        return None
    distinct = len(set(value))  # entropy <= log2(distinct): most strings are rejected here
    if distinct <= 8 or _sequential(value):
        return None
    if len(value) >= MIN_HEX_LENGTH and all(c in HEX for c in value):
        return "high-entropy-hex" if hex_entropy(value) > HEX_LIMIT else None
    if len(value) >= MIN_BASE64_LENGTH and all(c in BASE64 for c in value):
        return "high-entropy-base64" if shannon(value) > BASE64_LIMIT and not wordy(value) else None
    return None


_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


def wordy(value: str) -> bool:
    """Made of words (``AWSLambdaDynamoDBExecutionRole``, ``types-auth0-python``, paths):
    most characters belong to runs of four or more letters. Random strings change case or
    class every couple of characters, so they are not wordy."""
    in_words = sum(len(w) for w in _WORDS.findall(value) if len(w) >= 4 and w.isalpha())
    return in_words >= 0.6 * len(value)


def _sequential(value: str) -> bool:
    """Alphabets and digit runs ("abcdefghijklmnopqrstuvwxyz", "0123456789ABCDEF") have high
    entropy but are not random: most neighbours are consecutive characters."""
    steps = sum(1 for a, b in itertools.pairwise(value) if ord(b) - ord(a) == 1)
    return steps >= (len(value) - 1) * 0.5


def looks_random(value: str, *, min_length: int = 12) -> bool:
    """A credential-like value: long enough, no spaces, letters and digits, not repetitive.

    Used where a weak hint (a key merely named ``token``) must be backed by the value.
    """
    if len(value) < min_length or any(c.isspace() for c in value):
        return False
    if not any(c.isdigit() for c in value) or not any(c.isalpha() for c in value):
        return False
    return shannon(value) >= 3.0 and not _sequential(value) and not wordy(value)
