"""The example support widget served by `botkit serve --widget` at /widget/, and /widget/config: the
public widget key for the page's origin, so no key ever travels in the page's URL."""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from botkit.server.http_errors import ApiError
from botkit.server.keys import KeyStore


def widget_dir() -> Path:
    import botkit.examples

    return Path(botkit.examples.__file__).parent / "support-widget"


def mount_widget(app: FastAPI, keys: KeyStore, db_lock: threading.Lock) -> None:
    @app.get("/widget/config", include_in_schema=False)
    def widget_config(request: Request) -> dict:
        """The widget key whose origins include this page's origin (widget keys are public)."""
        # A same-origin GET carries no Origin header: the page's origin is then the server's own.
        origin = request.headers.get("origin") or str(request.base_url).rstrip("/")
        with db_lock:
            found = [w for w in keys.widget_keys() if origin in w["origins"]]
        if not found:
            raise ApiError(404, f"no widget key for {origin}: create one with `botkit keys create --name site "
                           f"--scope widget --origin {origin}`", code="widget_key_not_found")
        return {"key": found[-1]["key"], "name": found[-1]["name"], "feedback": False}

    app.mount("/widget", StaticFiles(directory=widget_dir(), html=True), name="widget")
