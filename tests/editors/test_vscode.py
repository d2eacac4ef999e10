"""The VS Code extension (editors/vscode), tested without downloading VS Code.

- the TypeScript type-checks against @types/vscode and vscode-languageclient;
- the extension's own logic passes its unit tests (node's test runner);
- the packaged .vsix holds exactly the runtime files, and its entry point loads with
  only the packaged node_modules (against a stand-in `vscode` module built from the
  API's own type declarations);
- a wire-level test drives the real Python server with vscode-languageserver-protocol
  (the library VS Code's client is built on): inline completion, $/cancelRequest, code
  action commands. Node's TAP results are reported here test by test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.editors.conftest import REPO, VSCODE_DIR, missing

NODE_MODULES = VSCODE_DIR / "node_modules"
TSC = NODE_MODULES / "typescript" / "bin" / "tsc"
VSCE = NODE_MODULES / "@vscode" / "vsce" / "vsce"


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        missing("node is not installed (apt-get install nodejs, or use Node.js 20+)")
    assert path is not None
    version = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        missing(f"node {version} is too old; the extension's tests need Node.js 20+")
    if not (NODE_MODULES / "vscode-languageclient").is_dir() or not TSC.is_file():
        missing("editors/vscode has no node_modules: run `npm ci` in editors/vscode")
    return path


def run(command: list[str], timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=VSCODE_DIR, capture_output=True, text=True, timeout=timeout, env=env or os.environ.copy()
    )


@pytest.fixture(scope="module")
def compiled(node: str) -> Path:
    """`tsc -p .`: src/ and test/ compiled into out/ (what `npm run compile` does)."""
    result = run([node, str(TSC), "-p", "."], timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    return VSCODE_DIR / "out"


@dataclass
class TapResult:
    name: str
    ok: bool
    directive: str | None  # "SKIP" or "TODO"
    reason: str


TAP_LINE = re.compile(r"^\s*(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO)\b ?(.*))?$")


def parse_tap(output: str) -> dict[str, TapResult]:
    results: dict[str, TapResult] = {}
    for line in output.splitlines():
        match = TAP_LINE.match(line)
        if match:
            status, name, directive, reason = match.groups()
            name = name.replace("\\#", "#")
            results[name] = TapResult(name, status == "ok", directive, reason or "")
    return results


def node_test(node: str, target: str, env: dict[str, str] | None = None, timeout: float = 300) -> tuple[str, dict[str, TapResult]]:
    result = run([node, "--test", "--test-reporter=tap", target], timeout=timeout, env=env)
    output = result.stdout + result.stderr
    counts = dict(re.findall(r"^# (pass|fail|skipped|cancelled) (\d+)$", output, re.MULTILINE))
    assert counts, f"node --test printed no summary:\n{output}"
    assert result.returncode == 0 and counts.get("fail") == "0" and counts.get("cancelled") == "0", output
    return output, parse_tap(output)


def test_typescript_type_checks(node: str) -> None:
    result = run([node, str(TSC), "-p", ".", "--noEmit"], timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr


def test_extension_unit_tests(node: str, compiled: Path) -> None:
    output, results = node_test(node, "out/test/unit/")
    counts = dict(re.findall(r"^# (pass|skipped) (\d+)$", output, re.MULTILINE))
    assert int(counts["pass"]) >= 25 and counts["skipped"] == "0", output
    assert {"status-bar item", "readSettings", "package.json", "why excluded"} <= set(results), sorted(results)


def test_extension_knows_every_server_option(node: str, compiled: Path) -> None:
    """The extension's option table and settings schema match the server's Settings."""
    import dataclasses

    from slm_lsp.config.settings import Settings, _camel

    server = {_camel(f.name) for f in dataclasses.fields(Settings)}
    script = "console.log(JSON.stringify(Object.keys(require('./out/src/config.js').SERVER_OPTIONS)))"
    result = run([node, "-e", script], timeout=60)
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)) == server
    manifest = json.loads((VSCODE_DIR / "package.json").read_text())
    schema = manifest["contributes"]["configuration"]["properties"]["slmLsp.initializationOptions"]["properties"]
    assert set(schema) == server - {"model"}  # the model has its own setting, slmLsp.model


# The wire-level tests in test/wire/server.test.ts, by name.
WIRE_TESTS = [
    "advertises inline completions and reports model loading with $/progress",
    "an inline completion makes the function correct",
    "$/cancelRequest: the server answers RequestCancelled and stops generating",
    "a code action runs its slm. command through workspace/executeCommand",
    "prefetch, then accepting an item runs slm.acceptedCompletion and the next suggestion is ready",
    "an unknown document is an InvalidParams error and the server keeps serving",
]


@pytest.fixture(scope="module")
def wire_results(node: str, compiled: Path, embedded_model: Path, model_cache: Path) -> tuple[str, dict[str, TapResult]]:
    env = {k: v for k, v in os.environ.items() if k != "SLM_LSP_MODEL"}
    env.update(
        SLM_LSP_TEST_MODEL=str(embedded_model),
        SLM_LSP_TEST_PYTHON=sys.executable,
        SLM_LSP_TEST_ROOT=str(REPO),
        SLM_LSP_CACHE_DIR=str(model_cache),
    )
    return node_test(node, "out/test/wire/", env=env, timeout=600)


@pytest.mark.embedded
@pytest.mark.parametrize("name", WIRE_TESTS)
def test_wire_protocol(wire_results: tuple[str, dict[str, TapResult]], name: str) -> None:
    output, results = wire_results
    assert name in results, f"node did not run {name!r}:\n{output}"
    result = results[name]
    assert result.ok, output
    if result.directive == "SKIP":
        pytest.skip(f"node skipped it: {result.reason}")


@pytest.fixture(scope="module")
def vsix(node: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`vsce package` (what `npm run package` does), written to a temporary directory."""
    out = tmp_path_factory.mktemp("vsix") / "slm-lsp.vsix"
    result = run([node, str(VSCE), "package", "--allow-missing-repository", "--out", str(out)], timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_vsix_holds_the_runtime_files_only(vsix: Path) -> None:
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        manifest = archive.read("extension/package.json").decode()
    for required_file in [
        "extension/package.json",
        "extension/readme.md",
        "extension/LICENSE.txt",
        "extension/out/src/extension.js",
        "extension/out/src/config.js",
        "extension/out/src/status.js",
        "extension/out/src/messages.js",
        "extension/node_modules/vscode-languageclient/package.json",
        "extension/node_modules/vscode-languageclient/lib/node/main.js",
        "extension/node_modules/vscode-languageclient/lib/common/inlineCompletion.js",
        "extension/node_modules/vscode-jsonrpc/package.json",
    ]:
        assert required_file in names, f"{required_file} missing from the .vsix"
    leaked = sorted(
        n for n in names
        if n.startswith(("extension/src/", "extension/test/", "extension/out/test/"))
        or n.endswith((".ts", ".map", "tsconfig.json", ".vsix"))
        or "/node_modules/typescript/" in n
        or "/node_modules/@vscode/vsce" in n
        or "/node_modules/@types/" in n
    )
    assert not leaked, f"development files in the .vsix: {leaked[:10]}"
    assert '"main": "./out/src/extension.js"' in manifest
    assert sum(1 for n in names if n.startswith("extension/node_modules/")) < 400
    assert vsix.stat().st_size < 2_000_000


STUB_VSCODE = r"""
// Stand-in for the `vscode` module: every class, namespace and enum that the API's
// type declarations export, so that loading code fails only on a real missing file.
const fs = require('fs');
const dts = fs.readFileSync(process.env.VSCODE_DTS, 'utf8');
const anything = () => new Proxy(function () {}, {
  get: (_t, p) => (p === 'then' ? undefined : anything()),
  apply: () => anything(),
  construct: () => anything(),
});
const api = {};
for (const [, kind, name] of dts.matchAll(/^\t?export (class|namespace|enum) (\w+)/gm)) {
  api[name] = kind === 'class' ? class {} : anything();
}
if (Object.keys(api).length < 50) throw new Error('could not read the vscode API declarations');
module.exports = api;
"""


LOAD_SCRIPT = """
const path = require('path');
const m = require(ENTRY);
if (typeof m.activate !== 'function' || typeof m.deactivate !== 'function') process.exit(3);
const client = require.resolve('vscode-languageclient/node', { paths: [path.dirname(ENTRY)] });
if (!client.startsWith(UNPACKED)) { console.error('resolved outside the package: ' + client); process.exit(4); }
console.log('loaded ' + Object.keys(m).join(','));
"""


def test_vsix_entry_point_loads_with_packaged_modules_only(node: str, vsix: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(vsix) as archive:
        archive.extractall(tmp_path / "unpacked")
    stub = tmp_path / "stub" / "vscode"
    stub.mkdir(parents=True)
    (stub / "index.js").write_text(STUB_VSCODE)
    entry = tmp_path / "unpacked" / "extension" / "out" / "src" / "extension.js"
    script = LOAD_SCRIPT.replace("ENTRY", json.dumps(str(entry))).replace("UNPACKED", json.dumps(str(tmp_path / "unpacked")))
    env = {
        "PATH": os.environ.get("PATH", ""),
        "NODE_PATH": str(stub.parent),  # only `vscode` comes from outside the package
        "VSCODE_DTS": str(NODE_MODULES / "@types" / "vscode" / "index.d.ts"),
    }
    result = subprocess.run([node, "-e", script], cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "loaded COMMANDS,activate,deactivate" in result.stdout
