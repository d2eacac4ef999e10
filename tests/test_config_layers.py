"""Configuration layers: files, precedence, validation messages, run-time changes.

Lowest precedence first: defaults < user config.toml < project file (.slm-lsp.toml, else
pyproject's [tool.slm-lsp]; never both) < initializationOptions < didChangeConfiguration
< command-line flags. The server tests drive the real server with pytest-lsp and read the
settings in force from slm/status.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from slm_lsp.config.files import file_layers, user_config_path
from slm_lsp.config.layers import ConfigStack, Layer, LayerError, client_settings
from slm_lsp.config.settings import Settings, SettingsError
from slm_lsp.models.gguf_file import read_gguf_info
from tests.conftest import REPO, SERVER_COMMAND
from tests.test_server import UNTIMED, wait_settled
from tests.tiny_models import tiny_model_path


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "user-config"
    directory.mkdir()
    monkeypatch.setenv("SLM_LSP_CONFIG_DIR", str(directory))
    return directory


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


def _stack(project: Path | None, *more: Layer) -> ConfigStack:
    layers, problems = file_layers(project)
    assert not problems, problems
    return ConfigStack([*layers, *more])


def test_each_layer_overrides_the_ones_below(user_dir: Path, project: Path) -> None:
    assert user_config_path() == user_dir / "config.toml"
    (user_dir / "config.toml").write_text("maxTokensSingle = 10\nlatencyTargetMs = 700\n")
    (project / ".slm-lsp.toml").write_text("max-tokens-single = 20\nresult_cache_size = 99\n")
    initialization = Layer("initialization", "initializationOptions", {"maxTokensSingle": 30, "suffixRatio": 0.5})
    client = Layer("client", "workspace/didChangeConfiguration", {"maxTokensSingle": 40})
    flags = Layer("command line", "command line", {"maxTokensSingle": 50})
    expected = [Settings().max_tokens_single, 10, 20, 30, 40, 50]
    steps: list[ConfigStack] = [ConfigStack(), _stack(None), _stack(project), _stack(project, initialization),
                                _stack(project, initialization, client), _stack(project, initialization, client, flags)]
    assert [stack.settings.max_tokens_single for stack in steps] == expected
    top = steps[-1].settings
    # Keys set only lower down stay in force, each from its own layer.
    assert (top.latency_target_ms, top.result_cache_size, top.suffix_ratio) == (700, 99, 0.5)
    assert steps[-1].sources() == [str(user_dir / "config.toml"), str(project / ".slm-lsp.toml"),
                                   "initializationOptions", "workspace/didChangeConfiguration", "command line"]


def test_pyproject_table_is_the_project_file_unless_a_dedicated_one_exists(user_dir: Path, project: Path) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.slm-lsp]\npromptTokens = 1024\nnBatch = 64\n')
    stack = _stack(project)
    assert (stack.settings.prompt_tokens, stack.settings.n_batch) == (1024, 64)
    assert stack.sources() == [str(project / "pyproject.toml")]
    (project / ".slm-lsp.toml").write_text("promptTokens = 512\n")
    stack = _stack(project)
    # The dedicated file wins outright: pyproject's nBatch is not merged in.
    assert (stack.settings.prompt_tokens, stack.settings.n_batch) == (512, Settings().n_batch)
    assert stack.sources() == [str(project / ".slm-lsp.toml")]


def test_pyproject_without_the_table_is_ignored(user_dir: Path, project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.ruff]\nline-length = 100\n')
    assert _stack(project).sources() == []


def test_user_file_model_path_is_relative_to_the_file(user_dir: Path) -> None:
    (user_dir / "config.toml").write_text('model = "models/coder.gguf"\n')
    assert _stack(None).settings.model == str(user_dir / "models" / "coder.gguf")


@pytest.mark.parametrize(
    ("content", "key"),
    [("nCtx = \"big\"\n", "nCtx"), ("colour = 1\n", "colour"), ("suffixRatio = 2\n", "suffixRatio"),
     ("backend = \"openai\"\n", "remoteUrl"), ("remoteUrl = \"http://me:s3cretPW@host:8080\"\n", "remoteUrl"),
     ("remotePrompt = \"json\"\n", "remotePrompt"), ("backend = \"cloud\"\n", "backend")],
)
def test_an_invalid_user_file_is_left_out_naming_the_key_and_the_file(user_dir: Path, content: str, key: str) -> None:
    path = user_dir / "config.toml"
    path.write_text("maxTokensSingle = 12\n" + content)
    stack = _stack(None)
    (problem,) = stack.problems
    assert str(path) in problem and f"'{key}'" in problem
    assert "s3cretPW" not in problem  # a credential in the URL is not echoed
    assert stack.settings == Settings()  # the whole file is left out, not half of it


def test_broken_toml_names_the_file(user_dir: Path, project: Path) -> None:
    (user_dir / "config.toml").write_text("nCtx = \n")
    (project / ".slm-lsp.toml").write_text("promptTokens = 1000\n")
    layers, problems = file_layers(project)
    assert [layer.kind for layer in layers] == ["project"]  # the other file still counts
    (problem,) = problems
    assert str(user_dir / "config.toml") in str(problem) and "not valid TOML" in str(problem)


@pytest.mark.parametrize("key", ["model", "actionsModel", "backend", "remoteUrl", "remote-api-key-env"])
def test_a_project_cannot_choose_the_model_or_where_code_goes(user_dir: Path, project: Path, key: str) -> None:
    (project / ".slm-lsp.toml").write_text(f'{key} = "x"\n')
    layers, problems = file_layers(project)
    assert layers == []
    (problem,) = problems
    assert str(project / ".slm-lsp.toml") in str(problem) and "project file" in str(problem)


def test_api_key_variable_names_are_checked_without_echoing_the_value() -> None:
    with pytest.raises(SettingsError, match="remoteApiKeyEnv") as error:
        Settings().replace({"remoteApiKeyEnv": "sk-abc123 secret"})
    assert "sk-abc123" not in str(error.value)


def test_a_refused_change_keeps_the_previous_layer() -> None:
    stack = ConfigStack([Layer("client", "workspace/didChangeConfiguration", {"maxTokensSingle": 40})])
    before = stack.settings
    with pytest.raises(LayerError, match="workspace/didChangeConfiguration: setting 'nCtx'"):
        stack.replace(Layer("client", "workspace/didChangeConfiguration", {"maxTokensSingle": 41, "nCtx": 0}))
    assert stack.settings == before and stack.settings.max_tokens_single == 40


@pytest.mark.parametrize(
    ("payload", "expected"),
    [({"slm": {"nCtx": 2048}}, {"nCtx": 2048}), ({"slm-lsp": {"nCtx": 2048}, "pylsp": {}}, {"nCtx": 2048}),
     ({"nCtx": 2048, "completionFallback": True}, {"nCtx": 2048, "completionFallback": True}),  # Helix: flat
     ({"pylsp": {"plugins": {}}}, None), ({}, None), (None, None), ({"slm": None}, {})],
)
def test_client_settings_sections(payload: Any, expected: dict[str, Any] | None) -> None:
    assert client_settings(payload, "workspace/didChangeConfiguration") == expected


# -- the CLI ----------------------------------------------------------------------------------


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "slm_lsp", *args], check=False, capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=300)


@pytest.fixture
def cli_env(clean_env: dict[str, str], user_dir: Path) -> dict[str, str]:
    return {**clean_env, "SLM_LSP_CONFIG_DIR": str(user_dir)}


def test_cli_reports_an_invalid_file_and_exits_2(cli_env: dict[str, str], user_dir: Path, project: Path) -> None:
    source = project / "a.py"
    source.write_text("def add(a, b):\n    return\n")
    (project / ".slm-lsp.toml").write_text("promptTokens = -3\n")
    result = _cli(["complete", str(source), "--line", "1", "--character", "10", "--workspace", str(project)], cli_env)
    assert result.returncode == 2
    assert str(project / ".slm-lsp.toml") in result.stderr and "'promptTokens'" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_reads_the_user_file(cli_env: dict[str, str], user_dir: Path, project: Path) -> None:
    model = tiny_model_path("deepseek-coder")
    (user_dir / "config.toml").write_text(f'model = "{model}"\nnThreads = 1\n')
    source = project / "a.py"
    source.write_text("def add(a, b):\n    return\n")
    result = _cli(["complete", str(source), "--line", "1", "--character", "10", "--json", "--workspace", str(project)],
                  cli_env)
    assert result.returncode == 0, result.stderr
    assert f'"model": "{read_gguf_info(model).name}"' in result.stdout


# -- the server ---------------------------------------------------------------------------------


StartServer = Callable[..., Awaitable[LanguageClient]]


@pytest_asyncio.fixture
async def start_server(clean_env: dict[str, str], user_dir: Path) -> AsyncIterator[StartServer]:
    clients: list[LanguageClient] = []

    async def start(options: dict[str, Any], root: Path | None = None) -> LanguageClient:
        env = {**clean_env, "SLM_LSP_CONFIG_DIR": str(user_dir)}
        client = await ClientServerConfig(server_command=SERVER_COMMAND, server_env=env).start()
        clients.append(client)
        capabilities = types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True))
        await client.initialize_session(types.InitializeParams(
            capabilities=capabilities, root_uri=root.as_uri() if root else None,
            initialization_options={**UNTIMED, "nThreads": 1, **options},
        ))
        return client

    yield start
    for client in clients:
        await client.shutdown_session()
        await client.stop()


async def _in_force(client: LanguageClient) -> tuple[dict[str, Any], list[str], Any]:
    result = await client.protocol.send_request_async("slm/status", {})
    settings = result.config.settings
    values = {key: getattr(settings, key) for key in settings._fields} if hasattr(settings, "_fields") else dict(settings)
    return values, list(result.config.sources), result


def _change(client: LanguageClient, settings: Any) -> None:
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=settings))


async def test_server_layers_files_options_and_changes(start_server: StartServer, user_dir: Path, project: Path) -> None:
    model = tiny_model_path("deepseek-coder")
    (user_dir / "config.toml").write_text(f'model = "{model}"\nmaxTokensSingle = 10\nlatencyTargetMs = 700\n')
    (project / ".slm-lsp.toml").write_text("maxTokensSingle = 20\nresultCacheSize = 99\n")
    client = await start_server({"maxTokensSingle": 30}, root=project)
    await wait_settled(client)
    values, sources, _ = await _in_force(client)
    assert (values["maxTokensSingle"], values["resultCacheSize"], values["latencyTargetMs"]) == (30, 99, 700)
    assert sources == [str(user_dir / "config.toml"), str(project / ".slm-lsp.toml"), "initializationOptions"]
    _change(client, {"slm": {"maxTokensSingle": 40}})
    values, sources, _ = await _in_force(client)
    assert values["maxTokensSingle"] == 40 and sources[-1] == "workspace/didChangeConfiguration"
    _change(client, {"pylsp": {"plugins": {}}})  # another server's section: nothing changes
    assert (await _in_force(client))[0]["maxTokensSingle"] == 40
    _change(client, {"slm-lsp": {}})  # an empty section: back to the layers below
    assert (await _in_force(client))[0]["maxTokensSingle"] == 30
    assert not client.messages


async def test_invalid_values_are_reported_and_the_previous_settings_stay(
    start_server: StartServer, user_dir: Path
) -> None:
    (user_dir / "config.toml").write_text('nBatch = "lots"\n')
    client = await start_server({"maxTokensSingle": 30, "model": str(tiny_model_path("deepseek-coder"))})
    await wait_settled(client)
    (startup,) = [m.message for m in client.messages]
    assert str(user_dir / "config.toml") in startup and "'nBatch'" in startup
    _change(client, {"slm": {"maxTokensSingle": 40}})
    before, _, _ = await _in_force(client)
    _change(client, {"slm": {"maxTokensSingle": 41, "nCtx": "big"}})
    after, _, status = await _in_force(client)
    assert after == before and after["maxTokensSingle"] == 40
    message = client.messages[-1]
    assert message.type == types.MessageType.Error
    assert "'nCtx'" in message.message and "workspace/didChangeConfiguration" in message.message
    assert status.state == "ready"


async def test_a_model_change_reloads_without_a_restart(start_server: StartServer) -> None:
    first, second = tiny_model_path("deepseek-coder"), tiny_model_path("starcoder")
    client = await start_server({"model": str(first)})
    settled = await wait_settled(client)
    assert settled["state"] == "ready" and settled["model"] == read_gguf_info(first).name
    _change(client, {"slm": {"model": str(second)}})
    _, _, status = await _in_force(client)
    assert status.state == "loading"  # at once: requests now wait as during the first load
    settled = await wait_settled(client)
    assert settled["state"] == "ready" and settled["model"] == read_gguf_info(second).name
    assert settled["family"] == "starcoder2"
    assert len(client.progress_reports) == 2  # the reload reported $/progress like the first load
    assert not client.messages
