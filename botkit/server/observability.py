"""Logs and metrics of `botkit serve`: the logging configuration (level from `server.log_level`,
BOTKIT_SERVER__LOG_LEVEL or `--log-level`), one access-log line per request (request id, key name,
model, tokens, latency; never a key) and Prometheus metrics for /metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

access_log = logging.getLogger("botkit.access")
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # a caller's id is echoed only if it is this plain
API_KEY = re.compile(r"bk_[A-Za-z0-9_-]{8,}")


class RedactKeys(logging.Filter):
    """Blanks anything shaped like a botkit API key in a log record, whoever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "bk_" in message:
            record.msg, record.args = API_KEY.sub("bk_[redacted]", message), None
        return True


def logging_config(level: str) -> dict:
    """A `logging.config.dictConfig` for the server process (uvicorn applies it): botkit's and uvicorn's
    loggers at `level` on stderr, libraries at warning, keys redacted."""
    level = level.upper()
    return {
        "version": 1, "disable_existing_loggers": False,
        "filters": {"keys": {"()": RedactKeys}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["keys"],
                                "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {name: {"handlers": ["stderr"], "level": level, "propagate": False}
                    for name in ("botkit", "uvicorn")},
    }


class Metrics:
    """The server's Prometheus metrics, in a registry of its own (several apps may live in one process)."""

    def __init__(self, queue_depth: Callable[[], float]):
        self.registry = CollectorRegistry()
        self.requests = Counter("botkit_requests", "HTTP requests by method, route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("botkit_request_seconds", "Seconds from a request's arrival to its last byte",
                                 ["route"], registry=self.registry,
                                 buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
        self.tokens = Counter("botkit_tokens", "Prompt and completion tokens by model", ["model", "kind"],
                              registry=self.registry)
        self.queue = Gauge("botkit_queue_depth", "Requests in the server now (waiting for a model or generating)",
                           registry=self.registry)
        self.queue.set_function(queue_depth)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def note_usage(request, model: str, prompt_tokens: int = 0, completion_tokens: int = 0) -> None:
    """Tell the access log and the metrics which model answered `request` and the tokens it used."""
    request.state.model = model
    request.state.tokens = (prompt_tokens, completion_tokens)


class AccessLog:
    """ASGI middleware: gives each request an id (the caller's X-Request-ID if plain, else a new one),
    returns it as X-Request-ID, and when the response is done logs one line and updates the metrics."""

    def __init__(self, app, metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started, status = time.perf_counter(), 500

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, state, status, time.perf_counter() - started)

    def _record(self, scope, state: dict, status: int, seconds: float) -> None:
        route = scope.get("route")
        # The route's template (/v1/tasks/{plugin}), never the raw path: bounded label values.
        template = getattr(route, "path", None) or ("/widget" if scope["path"].startswith("/widget") else "other")
        prompt, completion = state.get("tokens", (0, 0))
        model = state.get("model", "-")
        self.metrics.requests.labels(scope["method"], template, str(status)).inc()
        self.metrics.latency.labels(template).observe(seconds)
        if prompt or completion:
            self.metrics.tokens.labels(model, "prompt").inc(prompt)
            self.metrics.tokens.labels(model, "completion").inc(completion)
        access_log.info("request_id=%s method=%s path=%s status=%d key=%s model=%s prompt_tokens=%d "
                        "completion_tokens=%d seconds=%.3f", state["request_id"], scope["method"],
                        _printable(scope["path"]), status, state.get("key_name", "-"), model, prompt, completion,
                        seconds)


def _printable(path: str) -> str:
    # The path is percent-decoded: "%0a" would start a forged log line.
    return path.encode("unicode_escape").decode("ascii")[:300]
