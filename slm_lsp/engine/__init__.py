"""What turns prompt ids into text: llama.cpp in this process, or an OpenAI-compatible server.

``local_engine`` runs llama.cpp on its own context; ``kv_cache`` mirrors what that context
holds and plans reuse and shifts after an edit; ``result_cache`` answers repeated requests;
``interface`` is the Protocol the pipeline calls; ``remote_engine`` and ``completions_client``
talk to a server the user runs; ``vocab_model`` tokenizes from a vocabulary-only GGUF;
``backends`` picks one from the settings.

May import ``prompt``, ``config`` and ``models.gguf_file`` (file checks); never ``lsp``.
"""
