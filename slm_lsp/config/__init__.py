"""Settings: one typed model (``settings``), the user and project files (``files``), and their
precedence (``layers``).

Imports nothing from the rest of slm_lsp, so every package can read settings.
"""
