"""Who may call `botkit serve`: the bearer key, its scope, a widget key's origins and the key's rate
limits (a FastAPI dependency), and CORS for the configured origins plus every widget key's origins."""

from __future__ import annotations

import threading
import time

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.middleware.cors import CORSMiddleware

from botkit.config import ServerSettings
from botkit.server.http_errors import ApiError
from botkit.server.keys import ApiKey, KeyStore
from botkit.server.ratelimit import RateLimited, RateLimits, TooCostly

ANONYMOUS = ApiKey("anonymous", "", ["admin"], "")  # every request when the server runs with --no-auth


class Access:
    """Checks each request's key (`require(scope)` is the endpoint dependency) and counts it against the
    key's limits. `auth=False` lets every request in as 'anonymous' (still rate-limited)."""

    def __init__(self, keys: KeyStore, db_lock: threading.Lock, settings: ServerSettings, auth: bool = True):
        self.keys, self.db_lock, self.auth = keys, db_lock, auth
        self.limits = RateLimits(settings)
        self.bearer = HTTPBearer(auto_error=False, description="An API key from `botkit keys create`.")
        self._origins: tuple[float, set[str]] = (0.0, set())
        self.static_origins = set(settings.cors_origins)

    def require(self, scope: str | None):
        def check(request: Request, credentials: HTTPAuthorizationCredentials | None = Security(self.bearer)) -> str:
            """The annotator name requests act as: the key's name."""
            key = self.key_of(credentials)
            if scope and not key.allows(scope):
                what = "chat only" if key.public else ", ".join(key.scopes)
                raise ApiError(403, f"the key '{key.name}' lacks the '{scope}' scope (it has: {what})",
                               type="permission_error", code="insufficient_scope")
            if key.public:
                origin = request.headers.get("origin")
                if origin not in key.origins:
                    came = f"from '{origin}'" if origin else "without an Origin header"
                    raise ApiError(403, f"the widget key '{key.name}' works only from its pages "
                                   f"({', '.join(key.origins)}); this request came {came}",
                                   type="permission_error", code="origin_not_allowed")
            request.state.key = key
            request.state.key_name = key.name
            try:
                self.limits.admit(key, request.client.host if request.client else "")
            except RateLimited as exc:
                raise too_many(exc) from None
            return key.name

        return check

    def key_of(self, credentials: HTTPAuthorizationCredentials | None) -> ApiKey:
        if not self.auth:
            return ANONYMOUS
        challenge = {"WWW-Authenticate": "Bearer"}
        if credentials is None:
            raise ApiError(401, "missing API key: send 'Authorization: Bearer <key>' (botkit keys create)",
                           type="authentication_error", code="missing_api_key", headers=challenge)
        with self.db_lock:
            key = self.keys.verify(credentials.credentials)
        if key is None:
            raise ApiError(401, "unknown or revoked API key", type="authentication_error",
                           code="invalid_api_key", headers=challenge)
        return key

    def charge(self, request: Request, tokens: int) -> None:
        """Count a request's estimated tokens against its key (429 past the minute's budget)."""
        try:
            self.limits.charge(getattr(request.state, "key", ANONYMOUS), tokens)
        except TooCostly as exc:
            raise ApiError(400, str(exc), param="max_tokens", code="too_many_tokens") from None
        except RateLimited as exc:
            raise too_many(exc) from None

    def allowed_origins(self) -> set[str]:
        """The configured CORS origins and live widget keys' origins (re-read every few seconds, so a
        widget key created while the server runs works without a restart)."""
        read_at, origins = self._origins
        if time.monotonic() - read_at > 5:
            with self.db_lock:
                widgets = self.keys.widget_keys()
            origins = self.static_origins | {o for w in widgets for o in w["origins"]}
            self._origins = (time.monotonic(), origins)
        return origins


def too_many(exc: RateLimited) -> ApiError:
    return ApiError(429, str(exc), type="rate_limit_error", code="rate_limit_exceeded",
                    headers={"Retry-After": str(exc.retry_after)})


class KeyOriginsCORS(CORSMiddleware):
    """Starlette's CORS, its allowed origins asked of `access` on each request: off (no origin allowed)
    unless `server.cors_origins` or a widget key names some."""

    def __init__(self, app, access: Access):
        super().__init__(app, allow_origins=[], allow_methods=["GET", "POST"],
                         allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                         expose_headers=["X-Request-ID", "Retry-After"], max_age=600)
        self.access = access

    def is_allowed_origin(self, origin: str) -> bool:
        return origin in self.access.allowed_origins()
