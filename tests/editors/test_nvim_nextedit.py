"""Next-edit suggestions in the Neovim plugin (editors/nvim/lua/slm/nextedit.lua), in real
headless Neovim 0.11 and 0.7 with the real server the plugin starts: rename a parameter by
typing, pause, and the plugin shows where the same rename belongs next (the old text
highlighted, the new text as virtual text, a sign); Tab jumps there, Tab again applies it,
and the next proposal follows. The Neovim harness is tests/editors/test_nvim.py's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.editors import test_nvim
from tests.editors.test_nvim import Editor

nvim_binary = test_nvim.nvim_binary  # the harness's fixtures, used here by name
start_editor = test_nvim.start_editor

pytestmark = pytest.mark.embedded

METHOD = "textDocument/copilotInlineEdit"
SOURCE = "def area(count):\n    double = count * 2  # count\n    return count + double\n\n\ndef other(count):\n    return count\n"


def _marks(editor: Editor) -> list[Any]:
    return editor.lua(
        "local ns = vim.api.nvim_create_namespace('slm_nextedit')"
        " return vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })"
    )


def _proposal(editor: Editor) -> dict[str, Any] | None:
    """What is drawn: the struck range, its sign, and the new text shown after it."""
    marks = _marks(editor)
    if not marks:
        return None
    struck = [m for m in marks if m[3].get("end_col") is not None]
    shown = [m for m in marks if m[3].get("virt_text")]
    assert len(struck) == 1 and len(shown) == 1, marks
    (_, row, col, details), (_, text_row, text_col, text_details) = struck[0], shown[0]
    return {
        "range": (row, col, details["end_row"], details["end_col"]),
        "hl": details.get("hl_group"),
        "sign": (details.get("sign_text") or "").strip(),
        "text": "".join(chunk[0] for chunk in text_details["virt_text"]),
        "text_at": (text_row, text_col),
        "text_pos": text_details.get("virt_text_pos"),
    }


def test_rename_then_tab_jumps_and_tab_applies_the_next_edit(start_editor: Callable[..., Editor]) -> None:
    editor = start_editor()
    editor.lua("require('slm.nextedit').configure({ delay_ms = 300 })")
    editor.open("area.py", SOURCE)
    editor.wait("the server's capabilities", lambda: editor.lua(
        "return require('slm.nextedit').supported(require('slm').client())"))
    editor.nvim.api.win_set_cursor(0, [1, 9])
    editor.input("ciwtotal<Esc>")
    assert editor.lines()[0] == "def area(total):"
    shown = editor.wait("the next-edit proposal", lambda: _proposal(editor), timeout=30)
    assert shown["range"] == (1, 13, 1, 18)  # `count` in `double = count * 2`, not the comment
    assert shown["text"] == "total" and shown["text_at"] == (1, 18)
    assert shown["hl"] == "SlmNextEditDelete"
    if editor.binary.version >= (0, 8, 0):
        assert shown["sign"] == "»"  # 0.7 draws the sign but does not report it in the details
    assert shown["text_pos"] == ("inline" if editor.binary.version >= (0, 10, 0) else "eol")
    requests = editor.log.from_client(METHOD)
    assert requests[-1]["params"]["textDocument"]["uri"].endswith("/area.py")
    assert isinstance(requests[-1]["params"]["textDocument"]["version"], int)
    # Tab jumps to it (nothing changes yet); Tab again applies it.
    editor.input("<Tab>")
    assert editor.nvim.api.win_get_cursor(0) == [2, 13]
    assert editor.lines() == ["def area(total):", *SOURCE.splitlines()[1:]]
    editor.input("<Tab>")
    assert editor.lines()[1] == "    double = total * 2  # count"
    assert _marks(editor) == []
    assert editor.mode() == "n"
    # The edit's command tells the server it was taken (slm/status counts accepted proposals).
    sent = editor.wait("the accept command", lambda: [
        m for m in editor.log.from_client("workspace/executeCommand") if m["params"]["command"] == "slm.acceptedNextEdit"])
    assert sent[0]["params"]["arguments"][0]["uri"].endswith("/area.py")
    answer = editor.wait("its answer", lambda: editor.log.response(sent[0]["id"]))
    assert "error" not in answer, answer
    # The applied edit is an edit too: after the pause, the next occurrence is proposed.
    following = editor.wait("the following proposal", lambda: _proposal(editor), timeout=30)
    assert following["range"] == (2, 11, 2, 16) and following["text"] == "total"
    editor.input("<Tab><Tab>")
    assert editor.lines()[:3] == ["def area(total):", "    double = total * 2  # count", "    return total + double"]
    assert editor.lines()[5:] == ["def other(count):", "    return count"]  # another scope: untouched


def test_typing_discards_the_proposal_and_tab_keeps_its_meaning(start_editor: Callable[..., Editor]) -> None:
    editor = start_editor()
    editor.lua("require('slm.nextedit').configure({ delay_ms = 300 })")
    editor.open("area.py", SOURCE)
    editor.wait("the server's capabilities", lambda: editor.lua(
        "return require('slm.nextedit').supported(require('slm').client())"))
    editor.nvim.api.win_set_cursor(0, [1, 9])
    editor.input("ciwtotal<Esc>")
    editor.wait("the next-edit proposal", lambda: _proposal(editor), timeout=30)
    editor.lua("require('slm.nextedit').configure({ delay_ms = 60000 })")  # no new proposal while checking
    # Another edit drops it at once: Tab in normal mode is <C-i> again, nothing is applied.
    editor.input("Gox = 1<Esc>")
    assert _marks(editor) == []
    assert editor.lua("return require('slm.nextedit').pending()") is False
    # With no proposal, normal-mode Tab is the jump-list key (no change to the text).
    before = editor.lines()
    editor.input("<Tab>")
    assert editor.lines() == before
    assert "    double = count * 2  # count" in editor.lines()


def test_a_next_edit_models_proposal_is_drawn_and_applied(start_editor: Callable[..., Editor],
                                                          sweep_like_model: Any) -> None:
    """A change edit propagation has nothing for (a literal with no twin), so what is drawn is
    the model predictor's proposal: the tiny Sweep-like model's scripted rewrite of the window
    (tests/conftest.py ``SWEEP_ANSWER``), diffed into edits, nearest the cursor first."""
    import sys

    editor = start_editor(server=[sys.executable, "-m", "slm_lsp", "serve", "--model", str(sweep_like_model),
                                  "--threads", "1"])
    editor.lua("require('slm.nextedit').configure({ delay_ms = 300 })")
    editor.open("area.py", "def area(count):\n    return count * 2\n")
    editor.wait("the server's capabilities", lambda: editor.lua(
        "return require('slm.nextedit').supported(require('slm').client())"))
    editor.wait_ready()  # the model predictor runs once the model is loaded; before, propagation answers alone
    editor.nvim.api.win_set_cursor(0, [2, 19])
    editor.input("r3")  # 2 -> 3: no other 2 to propagate to
    assert editor.lines() == ["def area(count):", "    return count * 3"]
    shown = editor.wait("the model's proposal", lambda: _proposal(editor), timeout=60)
    assert shown["range"] == (1, 11, 1, 16) and shown["text"] == "total"  # `count` on the cursor's line
    editor.input("<Tab>")
    assert editor.nvim.api.win_get_cursor(0) == [2, 11]
    editor.input("<Tab>")
    assert editor.lines() == ["def area(count):", "    return total * 3"]
