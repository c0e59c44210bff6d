"""HTTP errors of `botkit serve` in OpenAI's JSON shape: the ApiError type, the documented statuses,
the body size limit and the handlers that turn every failure into one JSON error (never a bare 500
for bad input)."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from botkit.errors import BotkitError
from botkit.server import schemas
from botkit.server.generation import ModelNotFound, ServerBusy

log = logging.getLogger("botkit.server")


class ApiError(HTTPException):
    """An HTTP error with OpenAI's error body. An HTTPException, so FastAPI passes it through."""

    def __init__(self, status: int, message: str, type: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None, headers: dict | None = None):
        super().__init__(status, message, headers)
        self.body = schemas.Error(error=schemas.ErrorBody(message=message, type=type, param=param, code=code))


def error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body.model_dump(), status_code=exc.status_code, headers=exc.headers)


ERRORS = {status: {"model": schemas.Error, "description": text} for status, text in {
    400: "Invalid request (malformed JSON, bad values, a message too long for the model)",
    401: "Missing, unknown or revoked API key",
    403: "The API key lacks the scope this endpoint needs, or a widget key is used from another origin",
    404: "Unknown model, plugin or response id",
    413: "Request body too large",
    429: "Too many requests: the key's rate limit (requests or tokens a minute) or the server's queue is full; "
         "retry after the Retry-After header's seconds",
    504: "Generation did not finish in time",
}.items()}


def errors(*statuses: int) -> dict:
    """The `responses` of an endpoint that can fail with `statuses`."""
    return {s: ERRORS[s] for s in statuses}


class BodyLimit:
    """Refuses request bodies over `max_bytes` with 413, whether or not they announce their length."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_large = ApiError(413, f"the request body is over {self.max_bytes} bytes", code="request_too_large")
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            return await error_response(too_large)(scope, receive, send)
        received = 0

        async def limited():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise too_large  # an HTTPException: FastAPI lets it through to our handler
            return message

        await self.app(scope, limited, send)


def install_error_handlers(app: FastAPI, generation_timeout: float) -> None:
    """Every failure as OpenAI's JSON error: 4xx for what the client can fix, 429/504 for load."""

    @app.exception_handler(HTTPException)
    async def http_error(request, exc: HTTPException):
        if isinstance(exc, ApiError):
            return error_response(exc)
        return error_response(ApiError(exc.status_code, str(exc.detail), headers=exc.headers,
                                       type="invalid_request_error" if exc.status_code < 500 else "server_error"))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p != "body")
        if first.get("type") == "json_invalid":
            return error_response(ApiError(400, "the body is not valid JSON", code="json_invalid"))
        return error_response(ApiError(400, f"{where}: {first['msg']}", param=where or None, code=first.get("type")))

    @app.exception_handler(ModelNotFound)
    async def unknown_model(request, exc):
        return error_response(ApiError(404, str(exc), param="model", code="model_not_found"))

    @app.exception_handler(BotkitError)
    async def user_mistake(request, exc):
        return error_response(ApiError(400, str(exc)))

    @app.exception_handler(ValidationError)
    async def bad_values(request, exc: ValidationError):
        first = exc.errors()[0]
        return error_response(ApiError(400, f"{'.'.join(map(str, first['loc']))}: {first['msg']}"))

    @app.exception_handler(ServerBusy)
    async def busy(request, exc: ServerBusy):
        return error_response(ApiError(429, str(exc), type="rate_limit_error", code="server_busy",
                                       headers={"Retry-After": str(exc.retry_after)}))

    @app.exception_handler(asyncio.TimeoutError)
    async def too_slow(request, exc):
        return error_response(ApiError(504, f"no answer within {generation_timeout:g} s", type="timeout",
                                       code="timeout"))

    @app.exception_handler(Exception)
    async def server_error(request, exc):
        log.exception("unexpected error")
        return error_response(ApiError(500, f"internal error: {type(exc).__name__}", type="server_error"))
