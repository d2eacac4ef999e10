"""The built-in deny list: names that are never read, whatever any repository file says.

It is matched case-insensitively (``.ENV`` and ``Id_RSA`` are still secrets, and macOS
and Windows file systems do not distinguish them) against every component of both the
path as named and its resolved target, so it also applies to everything under a denied
directory (``.ssh/``, ``.aws/``...) and to the workspace root itself. Trailing dots and
spaces are ignored too (``.env.`` is ``.env`` on Windows).

Entries are tuples of component globs that must match consecutive components
(``.docker/config.json``). Entries written with a trailing ``/`` are directories and match
at any depth (and everything below); the others are file names and match the last
component only, so a package directory called ``credentials/`` stays readable while a file
called ``credentials`` does not. No ``.gitignore``/``.slmignore`` negation can lift an entry:
the gate checks this list separately. Only the *template* entries (``.env.*`` and
``*.env``) can be lifted, and only by the user's configured allow patterns together with
a clean content scan (see ``PrivacyGate``).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class DenyRule:
    pattern: str  # as shown to users, e.g. ".ssh/" or ".docker/config.json"
    parts: tuple[str, ...]  # lower-case fnmatch globs for consecutive path components
    directory: bool = False  # matches at any depth (the path is inside it)
    template: bool = False  # may be lifted for templates such as .env.example


def _rule(pattern: str, *, template: bool = False) -> DenyRule:
    parts = tuple(p for p in pattern.lower().split("/") if p)
    return DenyRule(pattern, parts, directory=pattern.endswith("/"), template=template)


_NAMES = (
    # environment files
    ".env", ".envrc",
    # private keys, keystores and certificates
    "*.pem", "*.key", "*.p12", "*.pfx", "*.pkcs12", "*.p8", "*.jks", "*.jceks", "*.bks", "*.keystore",
    "*.ppk", "*.crt", "*.cer", "*.der", "*.csr", "*.p7b", "*.p7c", "*.ovpn",
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "id_xmss*", "*_rsa", "*_dsa", "*_ecdsa", "*_ed25519",
    "secring.*", "*.kdbx", "*.kdb", "*.keychain", "*.keychain-db", "*.agilekeychain",
    # credential and token files
    ".npmrc", ".pypirc", ".netrc", "_netrc", ".git-credentials", ".gitcookies", ".pgpass", ".htpasswd",
    ".my.cnf", ".s3cfg", ".boto", ".dockercfg", ".vault-token", ".terraformrc", "terraform.rc",
    "credentials", "credentials*.json", "credentials.y*ml", "credentials.toml", "credentials.xml",
    "service-account*.json", "service_account*.json", "*serviceaccount*.json",
    "secrets.y*ml", "secrets.json", "secrets.toml", "secrets.ini", "secrets.env", "secrets.txt",
    "*.secret", "*.secrets", "kubeconfig", "*.kubeconfig",
    "*.tfstate*", "*.tfvars", "*.tfvars.json",
    # shell and tool histories
    ".history", ".*_history", ".zhistory", "fish_history", "consolehost_history.txt", ".lesshst", ".viminfo",
)
_PATHS = (
    ".ssh/", ".gnupg/", ".aws/", ".azure/", ".kube/", ".password-store/", "keyrings/", ".git/", ".hg/", ".svn/",
    ".config/gcloud/", ".config/gh/", ".config/hub", ".docker/config.json", ".cargo/credentials*",
    ".gem/credentials", ".m2/settings*.xml", ".gradle/gradle.properties", ".pulumi/credentials.json",
    ".terraform.d/credentials.tfrc.json",
)
_TEMPLATES = (".env.*", "*.env")

RULES: tuple[DenyRule, ...] = (
    *(_rule(p) for p in _NAMES),
    *(_rule(p) for p in _PATHS),
    *(_rule(p, template=True) for p in _TEMPLATES),
)


def _normal(component: str) -> str:
    lowered = component.lower()
    stripped = lowered.rstrip(" .")
    return stripped or lowered


class _Matcher:
    """Single-component globs sorted into exact names, ``*suffix``, ``prefix*`` and the rest,
    so a component costs a set lookup and two ``str`` calls, not a hundred regexes."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.exact = frozenset(p for p in patterns if not _WILD.search(p))
        self.suffixes = tuple(p[1:] for p in patterns if p.startswith("*") and not _WILD.search(p[1:]))
        self.prefixes = tuple(p[:-1] for p in patterns if p.endswith("*") and not _WILD.search(p[:-1]))
        others = [p for p in patterns if _WILD.search(p) and p[1:] not in self.suffixes and p[:-1] not in self.prefixes]
        self.other = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in others)) if others else None

    def __call__(self, name: str) -> bool:
        return (
            name in self.exact
            or (bool(self.suffixes) and name.endswith(self.suffixes))
            or (bool(self.prefixes) and name.startswith(self.prefixes))
            or (self.other is not None and self.other.match(name) is not None)
        )


_WILD = re.compile(r"[*?\[]")
_SINGLE_FILE = _Matcher([r.parts[0] for r in RULES if len(r.parts) == 1 and not r.directory])
_SINGLE_DIR = _Matcher([r.parts[0] for r in RULES if len(r.parts) == 1 and r.directory])
_MULTI = tuple(
    (rule, tuple(re.compile(fnmatch.translate(part)) for part in rule.parts)) for rule in RULES if len(rule.parts) > 1
)


def match(components: Sequence[str]) -> tuple[DenyRule, int] | None:
    """The first deny rule matching ``components`` and the index of its last component.

    Rules that are not templates win over templates, so a lifted template can never hide a
    second reason to deny (``.env.example`` inside ``.aws/``).
    """
    names = [_normal(c) for c in components if c not in ("", "/")]
    if not names:
        return None
    last = len(names) - 1
    candidates: list[tuple[DenyRule, int]] = []
    for end, name in enumerate(names):
        if _SINGLE_DIR(name) or (end == last and _SINGLE_FILE(name)):
            candidates.extend(
                (rule, end)
                for rule in RULES
                if len(rule.parts) == 1
                and (rule.directory or end == last)
                and fnmatch.fnmatchcase(name, rule.parts[0])
            )
    for rule, compiled in _MULTI:
        size = len(compiled)
        tail = compiled[-1]
        ends = [e for e in range(size - 1, len(names)) if tail.match(names[e])] if rule.directory else (
            [last] if tail.match(names[last]) else [])
        for end in ends:
            start = end - size + 1
            if start >= 0 and all(compiled[i].match(names[start + i]) for i in range(size - 1)):
                candidates.append((rule, end))
                break
    if not candidates:
        return None
    candidates.sort(key=lambda found: (found[0].template, found[1]))
    return candidates[0]
