"""The Neovim plugin's "Edit selection" (editors/nvim/lua/slm/edit.lua) in real headless Neovim,
against the real server whose model answers a scripted rewrite (tests/actions/serve_scripted.py):
:SlmEdit and the code action, the diff split, `ga` applies, `q` discards, a changed file is
refused."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from tests.actions.test_edit import REWRITE, SOURCE
from tests.editors.test_nvim import Editor, nvim_binary, start_editor  # noqa: F401 - fixtures
from tests.tiny_models import tiny_model_path

SCRIPTED = Path(__file__).resolve().parents[1] / "actions" / "serve_scripted.py"
WITH_GUARD = SOURCE.replace("values):\n", "values):\n        if not values:\n            return 0.0\n")


def scripted_editor(start_editor: Callable[..., Editor], tmp_path: Path) -> Editor:  # noqa: F811
    script = tmp_path / "script.txt"
    script.write_text(REWRITE + "```")
    editor = start_editor(
        server=[sys.executable, str(SCRIPTED), "serve", "--threads", "1", "--model", str(tiny_model_path("nofim"))],
        extra_env={"SLM_TEST_SCRIPT": str(script), "SLM_TEST_PROMPTS": str(tmp_path / "prompts.txt")})
    editor.open("stats.py", SOURCE)
    editor.wait_ready()
    return editor


def proposal_window(editor: Editor) -> int | None:
    return editor.lua("""
      for _, win in ipairs(vim.api.nvim_list_wins()) do
        local name = vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(win))
        if name:find('slm://proposed/', 1, true) then return win end
      end
      return nil""")


def buffer_text(editor: Editor, name: str) -> str:
    return editor.lua(f"return table.concat(vim.api.nvim_buf_get_lines(vim.fn.bufnr({name!r}), 0, -1, false), '\\n') .. '\\n'")


def test_slm_edit_shows_a_diff_and_ga_applies(start_editor: Callable[..., Editor], tmp_path: Path) -> None:  # noqa: F811
    editor = scripted_editor(start_editor, tmp_path)
    editor.nvim.command("5,9SlmEdit handle the empty case")
    win = editor.wait("the proposal split", lambda: proposal_window(editor), timeout=60)
    shown = editor.lua(f"return table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf({win}), 0, -1, false), '\\n')")
    assert shown + "\n" == WITH_GUARD
    assert editor.lua(f"return vim.wo[{win}].diff") and editor.lua("return vim.wo[vim.fn.bufwinid('stats.py')].diff")
    assert buffer_text(editor, "stats.py") == SOURCE  # nothing applied yet
    editor.nvim.api.set_current_win(win)
    editor.input("ga")
    editor.wait("the edit to be applied", lambda: buffer_text(editor, "stats.py") == WITH_GUARD, timeout=30)
    assert proposal_window(editor) is None
    assert not editor.lua("return vim.wo[vim.fn.bufwinid('stats.py')].diff")
    requests = [m["params"] for m in editor.log.from_client("workspace/executeCommand")]
    assert [r["command"] for r in requests] == ["slm.editSelection", "slm.applyEdit"]
    assert requests[0]["arguments"][0]["instruction"] == "handle the empty case"
    assert requests[0]["arguments"][0]["range"] == {"start": {"line": 4, "character": 0}, "end": {"line": 9, "character": 0}}


def test_code_action_asks_for_the_instruction_and_q_discards(start_editor: Callable[..., Editor], tmp_path: Path) -> None:  # noqa: F811
    editor = scripted_editor(start_editor, tmp_path)
    editor.lua("vim.ui.input = function(opts, on_confirm) _G.asked = opts.prompt; on_confirm('handle the empty case') end")
    editor.lua("""
      local client = require('slm').client()
      local params = { textDocument = { uri = vim.uri_from_bufnr(0) },
                       range = { start = { line = 4, character = 0 }, ['end'] = { line = 9, character = 0 } },
                       context = { diagnostics = {} } }
      local response = require('slm.compat').has_011 and client:request_sync('textDocument/codeAction', params, 10000, 0)
                       or client.request_sync('textDocument/codeAction', params, 10000, 0)
      for _, action in ipairs(response.result) do
        if action.command and action.command.command == 'slm.editSelection' then
          vim.lsp.commands['slm.editSelection'](action.command, { client_id = client.id, bufnr = 0 })
        end
      end""")
    win = editor.wait("the proposal split", lambda: proposal_window(editor), timeout=60)
    assert editor.lua("return _G.asked") == "slm edit: "
    editor.nvim.api.set_current_win(win)
    editor.input("q")
    editor.wait("the split to close", lambda: proposal_window(editor) is None, timeout=10)
    assert buffer_text(editor, "stats.py") == SOURCE
    assert [m["params"]["command"] for m in editor.log.from_client("workspace/executeCommand")] == ["slm.editSelection"]


def test_a_changed_buffer_is_not_edited(start_editor: Callable[..., Editor], tmp_path: Path) -> None:  # noqa: F811
    editor = scripted_editor(start_editor, tmp_path)
    editor.nvim.command("5,9SlmEdit handle the empty case")
    win = editor.wait("the proposal split", lambda: proposal_window(editor), timeout=60)
    editor.lua("vim.api.nvim_buf_set_lines(vim.fn.bufnr('stats.py'), 0, 0, false, { '# edited' })")
    editor.nvim.api.set_current_win(win)
    editor.input("ga")
    editor.wait("the refusal", lambda: any(
        r["message"].get("method") == "window/showMessage" and "the file changed; ask again" in r["message"]["params"]["message"]
        for r in editor.log.records() if r["from"] == "server"), timeout=30)
    assert buffer_text(editor, "stats.py") == "# edited\n" + SOURCE
