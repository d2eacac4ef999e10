"""Is this value a real secret, or a placeholder, a name, a template or a sentence?

These checks keep false positives low on ordinary code: ``password = "changeme"``,
``TOKEN_FIELD = "access_token"``, ``prompt = "Enter your password:"`` and
``url = f"{scheme}://{user}:{password}@{host}"`` hold no secret. They are also what makes a
``.env.example`` template "clean": every value in it is empty or a placeholder.
"""

from __future__ import annotations

import re

PLACEHOLDER_TEXT = re.compile(r"<redacted:[a-z0-9-]{1,40}>")

_PLACEHOLDER = re.compile(
    r"""(?ix)
    (?: x{2,} | \*+ | \.{2,} | _+ | -+ | \#+ | 0+ | \?+ | …
      | [^*\n]{0,3}\*{3,}[^*\n]{0,3} | [*/\-.: ]*\*[*/\-.: ]*          # masked: ":****", "****/**/**"
      | <[^<>\n]{0,80}>                       # <your-key>, and our own <redacted:kind>
      | \[[^\[\]\n]{0,80}\]                   # [PASSWORD]
      | \$\{[^}\n]{0,200}\} | \$\([^)\n]{0,200}\) | \$[A-Za-z_][A-Za-z0-9_]{0,100}
      | %[A-Za-z_][A-Za-z0-9_]{0,100}% | \{\{[^\n]{0,200}\}\} | \{[A-Za-z0-9_.]{0,100}\}
      | %\([A-Za-z_][A-Za-z0-9_]{0,100}\)[sdr] | %[sdr]
      | (?:your|insert|enter|replace|put|add|set)[_\- ][^\n]{0,60}
      | [^\n]{0,60}[_\- ](?:here|goes[_\- ]here)
      | change[_\-]?me | change[_\-]?it | change[_\-]?this
      | (?:my|the|a|an|some|dummy|fake|test|sample|example|default|placeholder|secret|super)?[_\-]?
        (?:password|passwd|pass|pwd|secret|token|api[_\-]?key|key|credentials?)
        (?:[_\-]?(?:here|value|placeholder|example|sample))?
      | example | sample | dummy | fake | test | testing | todo | tbd | fixme | none | null | nil
      | undefined | redacted | hidden | masked | placeholder | default | empty | string | required | optional
      | foo | bar | baz | foobar | qux | abc | xyz | not[_\- ]?set | unset | n/?a
    )""",
)
_TEMPLATE = re.compile(r"\{\{|\$\{|%\([A-Za-z_]|%[sd]\b|\{\d*\}|\{[A-Za-z_][A-Za-z0-9_.]*(?:![rsa])?(?::[^}]*)?\}")
_SECRET_WORD = re.compile(r"(?i)pass|pwd|secret|token|api.?key|auth|credential|private.?key|access.?key|user|name|login")
_NAME_LIKE = re.compile(r"[A-Za-z_.\- /:=]+")


def is_placeholder(value: str) -> bool:
    """An empty, masked or obviously made-up value (``changeme``, ``<token>``, ``${VAR}``)."""
    stripped = value.strip().strip("\"'`")
    return not stripped or _PLACEHOLDER.fullmatch(stripped) is not None


def is_template(value: str) -> bool:
    """A format string or template expression: the secret is filled in elsewhere."""
    return _TEMPLATE.search(value) is not None


def is_name_like(value: str) -> bool:
    """A field name or label that mentions a secret (``"access_token"``, ``"Password:"``)."""
    return _NAME_LIKE.fullmatch(value) is not None and _SECRET_WORD.search(value) is not None


def is_prose(value: str) -> bool:
    """Several words without digits: a message for humans, not a credential."""
    return value.count(" ") >= 2 and not any(c.isdigit() for c in value)


def is_ordinary(value: str) -> bool:
    """Not worth redacting: any of the above."""
    return is_placeholder(value) or is_template(value) or is_name_like(value) or is_prose(value)
