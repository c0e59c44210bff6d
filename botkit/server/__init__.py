"""`botkit serve`: the HTTP API (OpenAI-compatible chat, tasks, feedback) support tools embed.

Kept import-light: the CLI imports this package on every run, FastAPI only loads when serving.
"""
