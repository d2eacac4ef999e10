"""Model management: which GGUF file to run, where it lives, and whether this machine suits it.

``catalog`` (with ``catalog.toml``) lists known models; ``source`` resolves the ``model``
setting (path, catalog name or the embedded default) and owns the cache directory;
``download`` pulls and verifies files; ``gguf_file`` checks headers; ``cli`` holds the
``slm-lsp models`` commands, ``doctor`` the machine report, ``machine`` the facts it reads.

May import ``config``, ``processes`` and, for ``doctor``'s speed probe and ``models verify``'s
tokenizer check only, ``engine``;
never ``lsp``.
"""
