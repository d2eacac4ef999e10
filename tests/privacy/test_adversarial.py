"""Adversarial workspaces with canary secrets.

Each case builds a workspace holding a fresh canary and says which paths must be excluded
and which must stay readable. One probe then drives every entry point of the gate the
way the rest of the pipeline does — check_path, check_uri, read_text, admit (of what
read_text returned, and of raw text from excluded files, which must be refused),
admit_document for an open buffer, final_check, scan_output and explain — and collects
everything they return. The canary must not appear in any of it, in any log record of
any logger at DEBUG, or in any file the gate could have written (the whole tmp tree,
HOME included, is compared before and after).
"""

from __future__ import annotations

import base64
import errno
import os
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from slm_lsp.privacy import GateError, PrivacyGate, PromptPiece, ignorefiles, redact
from tests.privacy.conftest import git, logged_text, write


@dataclass
class Scenario:
    root: Path
    canary: str
    excluded: list[Path] = field(default_factory=list)  # must be excluded (and never read)
    allowed: list[Path] = field(default_factory=list)  # must stay readable (the test is not vacuous)
    unreadable: list[Path] = field(default_factory=list)  # not excluded as a document, but never read as context
    uris: list[str] = field(default_factory=list)  # extra URIs that must be excluded
    buffer: tuple[str, str, int] | None = None  # open document: (uri, text, cursor)
    buffer_excluded: bool = False
    output: str | None = None  # what a model might emit
    roots: list[Path] | None = None
    gate_options: dict[str, object] = field(default_factory=dict)


def _aws() -> str:
    return "AKIA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def _plain() -> str:
    return "canary" + secrets.token_hex(12)


def _pem(canary_line: str) -> str:
    filler = base64.b64encode(secrets.token_bytes(48)).decode()
    return f"-----BEGIN RSA PRIVATE KEY-----\n{filler}\n{canary_line}\n{filler}\n-----END RSA PRIVATE KEY-----\n"


def _repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    return root


def _innocent(root: Path) -> Path:
    return write(root, {"src/main.py": "def main():\n    return 42\n"}) / "src/main.py"


# -- the cases --------------------------------------------------------------------------------


def case_env_file(tmp: Path) -> Scenario:
    c = _plain()
    root = write(tmp / "ws", {".env": f"API_KEY={c}\n"})
    return Scenario(root, c, excluded=[root / ".env"], allowed=[_innocent(root)])


def case_env_case_variants(tmp: Path) -> Scenario:
    c = _plain()
    names = [".ENV", ".Env.Production", "deploy/prod.ENV", ".EnvRC", ".env."]
    root = write(tmp / "ws", {n: f"SECRET={c}\n" for n in names})
    return Scenario(root, c, excluded=[root / n for n in names], allowed=[_innocent(root)])


def case_private_key_files(tmp: Path) -> Scenario:
    c = _plain()
    names = ["id_rsa", "keys/server.PEM", "Deploy_RSA", "tls/site.key", "store.P12", "app.JKS", "me.ppk"]
    root = write(tmp / "ws", {n: _pem(c) for n in names})
    return Scenario(root, c, excluded=[root / n for n in names], allowed=[_innocent(root)])


def case_credential_directories(tmp: Path) -> Scenario:
    c = _plain()
    names = [".ssh/config", ".aws/credentials", ".kube/config", ".docker/config.json", ".gnupg/x.txt",
             ".azure/accessTokens.json", ".config/gcloud/credentials.db"]
    root = write(tmp / "ws", {n: f"token {c}\n" for n in names})
    return Scenario(root, c, excluded=[root / n for n in names], allowed=[_innocent(root)])


def case_credential_files(tmp: Path) -> Scenario:
    c = _plain()
    names = [".npmrc", ".pypirc", ".netrc", ".git-credentials", ".pgpass", ".htpasswd", "credentials"]
    root = write(tmp / "ws", {n: f"{c}\n" for n in names})
    return Scenario(root, c, excluded=[root / n for n in names], allowed=[_innocent(root)])


def case_json_and_yaml_secrets(tmp: Path) -> Scenario:
    c = _plain()
    names = ["credentials-prod.json", "service-account-ci.json", "secrets.yaml", "config/Secrets.YML"]
    root = write(tmp / "ws", {n: f'{{"x": "{c}"}}\n' for n in names})
    return Scenario(root, c, excluded=[root / n for n in names], allowed=[_innocent(root)])


def case_terraform_and_histories(tmp: Path) -> Scenario:
    c = _plain()
    names = ["infra/terraform.tfstate.backup", "infra/prod.tfvars", ".bash_history", ".zsh_history", "vault.kdbx"]
    root = write(tmp / "ws", {n: f"{c}\n" for n in names})
    return Scenario(root, c, excluded=[root / n for n in names], allowed=[_innocent(root)])


def case_gitignore_negation_cannot_lift_deny_list(tmp: Path) -> Scenario:
    c = _plain()
    root = _repo(tmp / "ws")
    write(root, {".gitignore": "!.env\n!*.pem\n", ".env": f"K={c}\n", "a.pem": c})
    return Scenario(root, c, excluded=[root / ".env", root / "a.pem"], allowed=[_innocent(root)])


def case_slmignore(tmp: Path) -> Scenario:
    c = _plain()
    root = write(tmp / "ws", {".slmignore": "!.env\nSecret-Notes/\n", ".env": c, "secret-notes/plan.md": c,
                              "docs/.slmignore": "draft*.md\n", "docs/Draft-1.md": c})
    return Scenario(root, c, excluded=[root / ".env", root / "secret-notes/plan.md", root / "docs/Draft-1.md"],
                    allowed=[_innocent(root)])


def case_excluded_directory_cannot_be_reincluded(tmp: Path) -> Scenario:
    c = _plain()
    root = _repo(tmp / "ws")
    write(root, {".gitignore": "secrets/\n!*.py\n", "secrets/app.py": f"K = '{c}'\n",
                 "logs/.gitignore": "!*\n", "logs/run.txt": c})
    (root / ".gitignore").write_text("secrets/\n!*.py\nlogs/\n")
    return Scenario(root, c, excluded=[root / "secrets/app.py", root / "logs/run.txt"], allowed=[_innocent(root)])


def case_build_then_keep_log(tmp: Path) -> Scenario:
    c = _plain()
    root = _repo(tmp / "ws")
    write(root, {".gitignore": "build\n!keep.log\n", "build/keep.log": c, "keep.log": "fine\n"})
    return Scenario(root, c, excluded=[root / "build/keep.log"], allowed=[root / "keep.log"])


def case_star_then_deeper_negation(tmp: Path) -> Scenario:
    c = _plain()
    root = _repo(tmp / "ws")
    write(root, {".gitignore": "foo/*\n!foo/bar/x\n", "foo/bar/x": c, "foo/baz.txt": c})
    return Scenario(root, c, excluded=[root / "foo/bar/x", root / "foo/baz.txt"], allowed=[_innocent(root)])


def case_nested_anchored_gitignore(tmp: Path) -> Scenario:
    c = _plain()
    root = _repo(tmp / "ws")
    write(root, {"sub/.gitignore": "/local.py\n", "sub/local.py": c, "sub/deep/local.py": "ok = 1\n"})
    return Scenario(root, c, excluded=[root / "sub/local.py"], allowed=[root / "sub/deep/local.py"])


def case_info_exclude(tmp: Path) -> Scenario:
    c = _plain()
    root = _repo(tmp / "ws")
    (root / ".git/info/exclude").write_text("private.txt\n")
    write(root, {"private.txt": c, "docs/private.txt": c})
    return Scenario(root, c, excluded=[root / "private.txt", root / "docs/private.txt"], allowed=[_innocent(root)])


def case_global_excludes(tmp: Path) -> Scenario:
    c = _plain()
    root = _repo(tmp / "ws")
    Path(os.environ["XDG_CONFIG_HOME"], "git", "ignore").write_text("*.secretnotes\n")
    write(root, {"me.secretnotes": c})
    return Scenario(root, c, excluded=[root / "me.secretnotes"], allowed=[_innocent(root)])


def case_symlink_inside_to_denied(tmp: Path) -> Scenario:
    c = _plain()
    root = write(tmp / "ws", {".env": c})
    (root / "src").mkdir()
    (root / "src/config.txt").symlink_to("../.env")
    return Scenario(root, c, excluded=[root / "src/config.txt"], allowed=[_innocent(root)])


def case_symlink_out_file(tmp: Path) -> Scenario:
    c = _plain()
    outside = write(tmp / "outside", {"notes.txt": c})
    root = write(tmp / "ws", {})
    (root / "notes.txt").symlink_to(outside / "notes.txt")
    return Scenario(root, c, excluded=[root / "notes.txt"], unreadable=[outside / "notes.txt"], allowed=[_innocent(root)])


def case_symlink_out_directory(tmp: Path) -> Scenario:
    c = _plain()
    outside = write(tmp / "elsewhere", {"dir/a.py": f"K = '{c}'\n"})
    root = write(tmp / "ws", {})
    (root / "linked").symlink_to(outside / "dir", target_is_directory=True)
    return Scenario(root, c, excluded=[root / "linked/a.py", root / "linked"], allowed=[_innocent(root)])


def case_symlink_loops(tmp: Path) -> Scenario:
    c = _plain()
    root = write(tmp / "ws", {".env": c})
    (root / "a").symlink_to("b")
    (root / "b").symlink_to("a")
    (root / "loop").symlink_to(".", target_is_directory=True)
    return Scenario(root, c, excluded=[root / "a", root / "b", root / "loop/loop/.env", root / "a/x"],
                    allowed=[_innocent(root), root / "loop/loop/src/main.py"])


def case_traversal_uris(tmp: Path) -> Scenario:
    c = _plain()
    root = write(tmp / "ws", {".env": c, "src/x.py": "x = 1\n"})
    base = root.as_uri()
    uris = [f"{base}/src/../.env", f"{base}/src/%2e%2e/.env", f"{base}/src/%2E%2E/%2Eenv", f"{base}/%2eENV",
            f"{base}/.env%00.py", f"file://attacker.example{root}/.env", f"{base}/.env?x", f"{base}/.env#y",
            f"{base}/src/..%2F.env", f"git:{root}/.env"]
    return Scenario(root, c, uris=uris, allowed=[root / "src/x.py"])


def case_secrets_in_innocent_files(tmp: Path) -> Scenario:
    c = _aws()
    jwt_body = base64.urlsafe_b64encode(b'{"sub":"' + c.encode() + b'"}').rstrip(b"=").decode()
    root = write(tmp / "ws", {
        "src/settings.py": f'AWS_ACCESS_KEY_ID = "{c}"\nDEBUG = True\n',
        "src/db.py": f'URL = "postgres://app:{c}@db:5432/x"\n',
        "config/app.yaml": f"service:\n  api_key: {c}\n",
        "README.md": f"Use `export API_TOKEN={c}` to run.\n",
        "src/jwt.py": f'T = "eyJhbGciOiJIUzI1NiJ9.{jwt_body}.c2lnbmF0dXJlc2lnbmF0dXJl"\n',
        "src/key.py": 'KEY = """' + _pem(c) + '"""\n',
    })
    files = ["src/settings.py", "src/db.py", "config/app.yaml", "README.md", "src/key.py"]
    return Scenario(root, c, allowed=[root / f for f in files])


def case_secret_in_open_buffer(tmp: Path) -> Scenario:
    c = _aws()
    root = write(tmp / "ws", {})
    text = f"import boto3\nclient = boto3.client(aws_access_key_id='{c}')\n"
    return Scenario(root, c, buffer=("untitled:Untitled-1", text, text.index(c) + 7), allowed=[_innocent(root)],
                    output=f"'{c}'")


def case_truncated_keys_in_buffer(tmp: Path) -> Scenario:
    c = base64.b64encode(secrets.token_bytes(30)).decode()
    root = write(tmp / "ws", {})
    text = "def load():\n    return '''-----BEGIN OPENSSH PRIVATE KEY-----\n" + c + "\n"
    return Scenario(root, c, buffer=((root / "keys.py").as_uri(), text, len(text)), allowed=[_innocent(root)])


def case_key_cut_at_the_start_of_a_window(tmp: Path) -> Scenario:
    c = base64.b64encode(secrets.token_bytes(30)).decode()
    root = write(tmp / "ws", {})
    text = c + "\n" + base64.b64encode(secrets.token_bytes(48)).decode() + "\n-----END PRIVATE KEY-----\nx = 1\n"
    return Scenario(root, c, buffer=((root / "k.py").as_uri(), text, len(text)), allowed=[_innocent(root)])


def case_binary_file(tmp: Path) -> Scenario:
    c = _aws()
    root = write(tmp / "ws", {"data.bin": b"\x00\x01" + f"password = '{c}'".encode()})
    return Scenario(root, c, allowed=[_innocent(root)], excluded=[])


def case_utf16_file(tmp: Path) -> Scenario:
    c = _plain()
    root = write(tmp / "ws", {"notes.txt": f"token: {c}\n".encode("utf-16")})
    return Scenario(root, c, allowed=[_innocent(root)])


def case_huge_single_line(tmp: Path) -> Scenario:
    c = _aws()
    line = "var a=1;" * 200_000 + f"var k='{c}';" + "var b=2;" * 10_000
    root = write(tmp / "ws", {"bundle.min.js": line, "long.txt": "x = 1; " * 10_000 + c})
    assert c not in redact(line, hint="bundle.min.js").text  # the open-buffer path: redaction, not a cap
    return Scenario(root, c, allowed=[_innocent(root)], buffer=((root / "bundle.min.js").as_uri(), line, len(line) // 2))


def case_dirty_template(tmp: Path) -> Scenario:
    c = "sk_live_" + secrets.token_hex(12)
    root = write(tmp / "ws", {".env.example": f"STRIPE_KEY={c}\n", "example.env": f"STRIPE_KEY={c}\n"})
    return Scenario(root, c, excluded=[root / ".env.example", root / "example.env"], allowed=[_innocent(root)],
                    gate_options={"allow_patterns": [".env.example", "*.env"]})


def case_excluded_open_document(tmp: Path) -> Scenario:
    c = _plain()
    root = write(tmp / "ws", {".env": f"TOKEN={c}\n"})
    return Scenario(root, c, buffer=((root / ".env").as_uri(), f"TOKEN={c}\nOTHER=", 20), buffer_excluded=True,
                    excluded=[root / ".env"], allowed=[_innocent(root)])


def case_denied_directory_as_workspace_root(tmp: Path) -> Scenario:
    c = _plain()
    root = write(tmp / "home/.aws", {"config": c, "notes/readme.md": c})
    return Scenario(root, c, excluded=[root / "config", root / "notes/readme.md"], allowed=[], roots=[root])


def case_model_output_with_secret(tmp: Path) -> Scenario:
    c = "ghp_" + secrets.token_hex(18)
    root = write(tmp / "ws", {})
    return Scenario(root, c, allowed=[_innocent(root)], output=f"token = '{c}'\n")


def case_unreadable_gitignore(tmp: Path) -> Scenario:
    c = _plain()
    root = _repo(tmp / "ws")
    write(root, {"vault/.gitignore": "*\n", "vault/plan.txt": c})
    return Scenario(root, c, excluded=[root / "vault/plan.txt"], allowed=[_innocent(root)],
                    gate_options={"_refuse": "vault/.gitignore"})


CASES: dict[str, Callable[[Path], Scenario]] = {
    name[len("case_") :]: function for name, function in globals().items() if name.startswith("case_")
}


# -- the probe --------------------------------------------------------------------------------


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    found = {}
    for dirpath, _dirs, files in os.walk(root, followlinks=False):
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            found[path] = (info.st_size, info.st_mtime_ns)
    return found


def _probe(gate: PrivacyGate, s: Scenario) -> list[str]:
    out: list[str] = []
    for path in [*s.excluded, *s.allowed]:
        decision = gate.check_path(path)
        out += [repr(decision), gate.explain(path), repr(gate.check_uri(path.as_uri())), gate.explain(path.as_uri())]
        text = gate.read_text(path)
        out.append(repr(text))
        if path in s.excluded:
            assert decision.excluded, f"{path} should be excluded"
            assert text is None
            raw = path.read_bytes().decode("utf-8", "replace") if path.is_file() else ""
            with pytest.raises(GateError) as refused:
                gate.admit(PromptPiece(raw, path.as_uri(), "definition"))
            out.append(str(refused.value))
        else:
            assert not decision.excluded, f"{path} should be allowed: {decision.rule}"
            assert text is not None, f"{path} should be readable"
            piece = gate.admit(PromptPiece(text, path.as_uri(), "definition"))
            gate.final_check([piece])
            out += [piece.text, repr(piece)]
    for path in s.unreadable:
        out += [repr(gate.read_text(path)), gate.explain(path), repr(gate.check_path(path))]
        assert gate.read_text(path) is None, f"{path} is outside the workspace: it must not be read"
    for entry in s.root.rglob("*"):
        if entry.is_symlink() or entry.is_file():
            out.append(repr(gate.read_text(entry)))
            out.append(gate.explain(entry))
    for uri in s.uris:
        decision = gate.check_uri(uri)
        assert decision.excluded, uri
        out += [repr(decision), gate.explain(uri)]
        with pytest.raises(GateError) as refused:
            gate.admit(PromptPiece((s.root / ".env").read_text(), uri, "prefix"))
        out.append(str(refused.value))
    if s.buffer is not None:
        uri, text, cursor = s.buffer
        if s.buffer_excluded:
            with pytest.raises(GateError) as refused:
                gate.admit_document(text, cursor, uri)
            out.append(str(refused.value))
            with pytest.raises(GateError):
                gate.admit(PromptPiece(text, uri, "prefix"))
        else:
            prefix, suffix = gate.admit_document(text, cursor, uri)
            gate.final_check([prefix, suffix])
            out += [prefix.text, suffix.text, repr(prefix)]
            out.append(gate.admit(PromptPiece(text, uri, "recent")).text)
    if s.output is not None:
        out.append(repr(gate.scan_output(s.output)))
        out.append(repr(gate.scan_output(s.output, redact_secrets=True)))
        out.append(repr(gate.scan_output(s.output[len(s.output) // 2 :], prefix=s.output[: len(s.output) // 2])))
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_canary_never_escapes(name: str, tmp_path: Path, git_env: dict[str, str], debug_logs: pytest.LogCaptureFixture,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = CASES[name](tmp_path)
    options = dict(scenario.gate_options)
    refuse = options.pop("_refuse", None)
    if refuse is not None:
        real_open = os.open
        target = str(scenario.root / str(refuse))

        def refusing_open(path: str | os.PathLike[str], flags: int, *args: object) -> int:
            if os.fspath(path) == target:
                raise PermissionError(errno.EACCES, "denied")
            return real_open(path, flags, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(ignorefiles.os, "open", refusing_open)
    before = _snapshot(tmp_path)
    gate = PrivacyGate(scenario.roots if scenario.roots is not None else [scenario.root], **options)  # type: ignore[arg-type]
    outputs = _probe(gate, scenario)

    canary = scenario.canary
    leaked = [o for o in outputs if canary in o]
    assert not leaked, f"canary escaped through the gate's results: {leaked[0][:300]!r}"
    logs = logged_text(debug_logs)
    assert canary not in logs, "canary in a log record"
    assert any(r.name.startswith("slm_lsp.privacy") for r in debug_logs.records), "the gate logged nothing at all"
    assert _snapshot(tmp_path) == before, "the gate wrote or changed files"
    for path in _snapshot(tmp_path):
        if not path.startswith(str(scenario.root)) and "/home/" not in path and "outside" not in path \
                and "elsewhere" not in path:
            with open(path, "rb") as handle:
                assert canary.encode() not in handle.read(), f"canary found in {path}"


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 25
