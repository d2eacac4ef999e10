"""Debian's Chromium driven by Playwright for Python, and the workbench actions the test needs.

Why: Playwright's own browser download is not available here, so the system Chromium is
launched through `executable_path`; host resolution is mapped to nothing but 127.0.0.1, so
the workbench cannot reach the network. In headless Chromium `Alt+\\` does not fire, so
commands go through the command palette; editor text read from the DOM has U+00A0 for
spaces, which `dom_text` turns back into spaces.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
HOST_RULES = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"

# Records every text the slm-lsp status item shows, with whether it spins, from page load on.
STATUS_RECORDER = """
window.__slmStatus = [];
const record = () => {
  for (const item of document.querySelectorAll('.statusbar-item')) {
    if (!(item.id || '').includes('slmLsp.status')) continue;
    const text = (item.textContent || '').replace(/\\u00a0/g, ' ').trim();
    const spinning = !!item.querySelector('.codicon-loading, .codicon-modifier-spin');
    const last = window.__slmStatus[window.__slmStatus.length - 1];
    if (!last || last.text !== text || last.spinning !== spinning) window.__slmStatus.push({text, spinning});
  }
};
new MutationObserver(record).observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
"""


def chromium_path() -> Path | None:
    found = CHROMIUM if CHROMIUM.is_file() else (Path(p) if (p := shutil.which("chromium")) else None)
    return found


def dom_text(text: str) -> str:
    return text.replace("\u00a0", " ")


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(
        executable_path=str(chromium_path()), headless=True,
        args=[HOST_RULES, "--no-sandbox", "--disable-gpu", "--no-first-run"],
    )


class Workbench:
    """One browser page on the workbench, with the few actions a user takes."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def wait_ready(self, timeout_ms: float = 120_000) -> None:
        self.page.wait_for_selector(".monaco-workbench .part.statusbar", timeout=timeout_ms)

    def command(self, title: str) -> None:
        """Run a command by its title from the command palette."""
        self.page.keyboard.press("Control+Shift+P")
        box = self.page.wait_for_selector(".quick-input-widget .quick-input-box input", state="visible")
        box.fill(">" + title)
        self.page.wait_for_selector(f".quick-input-list .monaco-list-row[aria-label*='{title}']", timeout=20_000)
        self.page.keyboard.press("Enter")

    def open_file(self, name: str) -> None:
        self.page.keyboard.press("Control+P")
        box = self.page.wait_for_selector(".quick-input-widget .quick-input-box input", state="visible")
        box.fill(name)
        self.page.wait_for_selector(f".quick-input-list .monaco-list-row[aria-label*='{name}']", timeout=20_000)
        self.page.keyboard.press("Enter")
        self.page.wait_for_selector(f".tab.active[aria-label*='{name}']", timeout=20_000)
        self.page.click(".editor-instance .monaco-editor .view-lines")

    def type_like_a_person(self, text: str, gap_ms: float = 120) -> None:
        """Keys at human intervals, never waiting for an answer between them."""
        for char in text:
            self.page.keyboard.type(char)
            time.sleep(gap_ms / 1000)

    def ghost_text(self) -> str:
        nodes = self.page.query_selector_all(".editor-instance .monaco-editor .ghost-text-decoration, "
                                             ".editor-instance .monaco-editor .ghost-text")
        return dom_text("".join(node.text_content() or "" for node in nodes))

    def wait_ghost_text(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.ghost_text()
            if text.strip():
                return text
            time.sleep(0.1)
        return ""

    def wait_status_icon(self, icon: str, timeout: float) -> bool:
        """Wait until the slm-lsp status item shows the codicon ``icon`` (e.g. sparkle: ready)."""
        selector = f".statusbar-item[id*='slmLsp.status'] .codicon-{icon}"
        try:
            self.page.wait_for_selector(selector, timeout=timeout * 1000)
        except Exception:  # Playwright's TimeoutError; the caller asserts with the history
            return False
        return True

    def status_history(self) -> list[dict[str, Any]]:
        return list(self.page.evaluate("window.__slmStatus || []"))

    def notifications(self) -> str:
        nodes = self.page.query_selector_all(".notifications-toasts .notification-list-item-message")
        return dom_text(" | ".join(node.text_content() or "" for node in nodes))

    def editor_tab_labels(self) -> list[str]:
        return [node.get_attribute("aria-label") or "" for node in self.page.query_selector_all(".tabs-container .tab")]

    def active_editor_text(self) -> str:
        """The visible lines of the active editor (a rendered markdown preview counts too)."""
        node = self.page.query_selector(".editor-group-container.active .editor-instance .view-lines")
        return dom_text(node.inner_text()) if node else ""
