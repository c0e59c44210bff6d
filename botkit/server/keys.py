"""API keys for `botkit serve`: shown once at creation, stored only as a sha256, scoped, revocable,
with per-key rate limits; widget keys are public, chat-only and bound to the web origins named.

A key is 256 random bits (`secrets.token_urlsafe`), so a fast hash is enough: there is nothing to
brute-force that a slow password hash would protect. Keys are found by their digest through an
index; that lookup's timing can only tell an attacker about digests, and knowing digest bytes does
not help to build a key that hashes to them (sha256 is preimage-resistant). The found digest is
then compared once more with `hmac.compare_digest`, so no byte-by-byte string comparison of secret
material runs anywhere.

A widget key is publishable, like a payment provider's public key: it sits in every visitor's page,
so it is kept in clear (for `botkit keys list` and the widget's /widget/config), allows chat only,
works only from its origins (the browser's Origin header) and is rate-limited per visitor.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import sqlite_utils

from botkit.errors import BotkitError
from botkit.sessions import now

SCOPES = ("chat", "tasks", "feedback", "admin", "widget")  # admin: every scope; widget: public, chat only
KEY_PREFIX = "bk_"
WIDGET = "widget"


@dataclass
class ApiKey:
    name: str
    prefix: str
    scopes: list[str]
    created_at: str
    last_used_at: str | None = None
    requests_per_minute: int | None = None  # None: the server's default
    tokens_per_minute: int | None = None
    origins: list[str] = field(default_factory=list)

    @property
    def public(self) -> bool:
        return WIDGET in self.scopes

    def allows(self, scope: str) -> bool:
        if self.public:
            return scope == "chat"
        return scope in self.scopes or "admin" in self.scopes


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def parse_scopes(text: str | list[str]) -> list[str]:
    scopes = [s.strip() for s in (text.split(",") if isinstance(text, str) else text) if s.strip()]
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise BotkitError(f"unknown scope '{','.join(unknown)}' (scopes: {', '.join(SCOPES)})" if unknown
                          else f"a key needs at least one scope ({', '.join(SCOPES)})")
    if WIDGET in scopes and len(set(scopes)) > 1:
        raise BotkitError("a widget key is public: it carries the widget scope alone (chat from its origins)")
    return sorted(set(scopes), key=SCOPES.index)


def parse_origin(text: str) -> str:
    """A web origin as browsers send it (scheme://host[:port]), or a BotkitError."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment or parts.username:
        raise BotkitError(f"'{text}' is not a web origin: give scheme://host[:port], e.g. https://shop.example")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _limit(value: int | None, what: str) -> int | None:
    if value is not None and value < 1:
        raise BotkitError(f"{what} must be at least 1 (leave it out for the server's default)")
    return value


class KeyStore:
    """The `api_keys` table."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db

    def create(self, name: str, scopes: str | list[str], origins: list[str] | tuple = (),
               requests_per_minute: int | None = None, tokens_per_minute: int | None = None) -> str:
        """A new key for `name` with `scopes` (and for a widget key, the `origins` it works from); the
        key itself is returned once and never stored, unless it is a (public) widget key."""
        name = (name or "").strip()
        if not name:
            raise BotkitError("a key needs a name (--name), e.g. the tool that will use it")
        scopes = parse_scopes(scopes)
        origins = list(dict.fromkeys(parse_origin(o) for o in origins))
        if WIDGET in scopes and not origins:
            raise BotkitError("a widget key needs the origins of the pages it is used on: "
                              "--origin https://shop.example (repeatable)")
        if origins and WIDGET not in scopes:
            raise BotkitError("--origin is for widget keys (--scope widget); other keys are secret and "
                              "belong on a server, not in a web page")
        _limit(requests_per_minute, "--rpm")
        _limit(tokens_per_minute, "--tpm")
        if self.db.execute("SELECT 1 FROM api_keys WHERE name = ? AND revoked_at IS NULL", [name]).fetchone():
            raise BotkitError(f"a live key named '{name}' exists: revoke it first (botkit keys revoke {name})")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        self.db.execute(
            "INSERT INTO api_keys (name, prefix, sha256, scopes, created_at, requests_per_minute, tokens_per_minute,"
            " origins, public_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [name, key[:8], _digest(key), json.dumps(scopes), now(), requests_per_minute, tokens_per_minute,
             json.dumps(origins), key if WIDGET in scopes else None])
        return key

    def list(self, include_revoked: bool = False) -> list[dict]:
        """Every live key (and revoked ones on request); a widget key's `key` is shown, it is public."""
        where = "" if include_revoked else " WHERE revoked_at IS NULL"
        rows = self.db.query("SELECT name, prefix, scopes, created_at, last_used_at, revoked_at, requests_per_minute,"
                             " tokens_per_minute, origins, public_key AS key FROM api_keys" + where + " ORDER BY id")
        listed = []
        for r in rows:
            r = {**r, "scopes": json.loads(r["scopes"]), "origins": json.loads(r["origins"])}
            if r["key"] is None:
                del r["key"]
            listed.append(r)
        return listed

    def revoke(self, name: str) -> None:
        cursor = self.db.execute("UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                                 [now(), name])
        if cursor.rowcount == 0:
            raise BotkitError(f"no live key named '{name}' (see botkit keys list)")

    def any_live(self) -> bool:
        return self.db.execute("SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1").fetchone() is not None

    def widget_keys(self) -> list[dict]:
        """Live widget keys: `name`, `key` and `origins`."""
        rows = self.db.execute("SELECT name, public_key, origins FROM api_keys WHERE revoked_at IS NULL"
                               " AND public_key IS NOT NULL ORDER BY id").fetchall()
        return [{"name": n, "key": k, "origins": json.loads(o)} for n, k, o in rows]

    def verify(self, key: str) -> ApiKey | None:
        """The live key `key` stands for, or None (unknown or revoked)."""
        if not key:
            return None
        digest = _digest(key)
        row = self.db.execute(
            "SELECT id, name, prefix, scopes, created_at, sha256, requests_per_minute, tokens_per_minute, origins"
            " FROM api_keys WHERE sha256 = ? AND revoked_at IS NULL", [digest]).fetchone()
        if row is None or not hmac.compare_digest(row[5], digest):
            return None
        self.db.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", [now(), row[0]])
        return ApiKey(row[1], row[2], json.loads(row[3]), row[4], requests_per_minute=row[6],
                      tokens_per_minute=row[7], origins=json.loads(row[8]))
