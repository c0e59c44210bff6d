"""The `botkit serve` and `botkit keys` commands (wired into botkit.cli)."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from botkit.cli.output import JSON, console, err, print_json
from botkit.errors import BotkitError

keys_app = typer.Typer(help="Create, list and revoke API keys for `botkit serve`.", no_args_is_help=True)


def _keys():
    from botkit.config import load_settings
    from botkit.database import open_database
    from botkit.server.keys import KeyStore

    return KeyStore(open_database(load_settings().database_path))


@keys_app.command("create")
def keys_create(name: str = typer.Option(..., "--name", help="Who uses the key; also the annotator of its feedback."),
                scope: str = typer.Option("chat,feedback", "--scope",
                                          help="Comma-separated: chat, tasks, feedback, admin; or widget alone "
                                               "(a public chat-only key for web pages, with --origin)."),
                origin: list[str] = typer.Option([], "--origin", help="A widget key's page origin, e.g. "
                                                 "https://shop.example (repeatable)."),
                rpm: Optional[int] = typer.Option(None, "--rpm", help="Requests a minute (default: "
                                                  "server.requests_per_minute)."),
                tpm: Optional[int] = typer.Option(None, "--tpm", help="Tokens a minute (default: "
                                                  "server.tokens_per_minute)."),
                json_out: bool = JSON):
    """Create a key. It is printed once and stored only as a hash: keep it somewhere safe. A widget key
    is public (it sits in your pages): it is kept, listed, and works only from its origins."""
    key = _keys().create(name, scope, origins=origin, requests_per_minute=rpm, tokens_per_minute=tpm)
    if json_out:
        print_json({"name": name.strip(), "key": key})
        return
    print(key)
    if "widget" in scope:
        err.print(f"Widget key '{name.strip()}' created: public, chat only, from {', '.join(origin)} "
                  "(botkit keys list shows it again).", highlight=False, markup=False)
        return
    err.print(f"Key '{name.strip()}' created; it is shown only this once.", highlight=False, markup=False)


@keys_app.command("list")
def keys_list(json_out: bool = JSON, revoked: bool = typer.Option(False, "--revoked", help="Include revoked keys.")):
    """List keys: name, prefix, scopes, created and last used (never the keys themselves)."""
    rows = _keys().list(include_revoked=revoked)
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print("No API keys: create one with `botkit keys create --name NAME --scope chat,feedback`.",
                      highlight=False)
    for r in rows:
        state = f"revoked {r['revoked_at']}" if r["revoked_at"] else f"last used {r['last_used_at'] or 'never'}"
        console.print(f"{r['name']:<20} {r['prefix']}…  {','.join(r['scopes']):<24} created {r['created_at']}, {state}",
                      highlight=False, markup=False)
        limits = [f"{r[k]} {unit}/min" for k, unit in (("requests_per_minute", "requests"),
                                                      ("tokens_per_minute", "tokens")) if r[k]]
        if r["origins"] or limits:
            extra = [f"origins {', '.join(r['origins'])}"] if r["origins"] else []
            console.print(f"{'':<20} {'; '.join(extra + limits)}{'; key ' + r['key'] if 'key' in r else ''}",
                          highlight=False, markup=False)


@keys_app.command("revoke")
def keys_revoke(name: str = typer.Argument(..., help="The key's name (see `botkit keys list`)."),
                json_out: bool = JSON):
    """Revoke a key: requests with it get 401 from now on."""
    _keys().revoke(name)
    if json_out:
        print_json({"revoked": name})
        return
    console.print(f"Revoked '{name}'.", highlight=False, markup=False)


def serve(host: Optional[str] = typer.Option(None, help="Interface (default: server.host, 127.0.0.1)."),
          port: Optional[int] = typer.Option(None, help="Port (default: server.port, 8000)."),
          no_auth: bool = typer.Option(False, "--no-auth",
                                       help="Accept requests without a key (local development only)."),
          widget: bool = typer.Option(False, "--widget", help="Also serve the example support widget at /widget/."),
          log_level: Optional[str] = typer.Option(None, "--log-level", help="debug, info (one access-log line a "
                                                  "request), warning or error (default: server.log_level).")):
    """Serve the HTTP API: OpenAI-compatible /v1/chat/completions, /v1/tasks, /v1/feedback, /healthz, /docs."""
    import uvicorn

    from botkit.config import load_settings
    from botkit.server.app import create_app
    from botkit.server.observability import logging_config

    settings = load_settings()
    if log_level is not None:
        levels = ("debug", "info", "warning", "error")
        if log_level.lower() not in levels:
            raise BotkitError(f"--log-level is one of {', '.join(levels)}, not '{log_level}'")
        settings.server.log_level = log_level.lower()
    if not no_auth and not _keys().any_live():
        raise BotkitError("no API keys yet: create one with `botkit keys create --name NAME --scope chat,feedback`, "
                          "or start with --no-auth for local development")
    app = create_app(settings, auth=not no_auth, widget=widget)
    bot = app.state.pool.active
    print(f"Loading {settings.model} ...", file=sys.stderr)
    bot.engine, bot.knowledge.count(), bot.router  # noqa: B018 - load before accepting requests
    host, port = host or settings.server.host, port or settings.server.port
    print(f"botkit serving {bot.engine.name} on http://{host}:{port} (docs at /docs"
          f"{', widget at /widget/' if widget else ''}; {'NO AUTH' if no_auth else 'API keys required'})",
          file=sys.stderr, flush=True)
    level = settings.server.log_level
    # Our access log has the request id, key name, model and tokens: uvicorn's own is off.
    uvicorn.run(app, host=host, port=port, log_config=logging_config(level), log_level=level, access_log=False)
