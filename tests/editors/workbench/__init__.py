"""Helpers that run the real VS Code workbench (code-server) for the end-to-end test.

install: code-server from npm, built with Node 24, cached by version.
server: start and stop code-server as its own process group, isolated from $HOME.
browser: Debian's Chromium through Playwright for Python.
session: one test's workspace, code-server with the extension and workbench page, torn down whatever happens.
"""
