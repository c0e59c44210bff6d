"""API keys for `botkit serve`: shown once at creation, stored only as a sha256, scoped, revocable.

A key is 256 random bits (`secrets.token_urlsafe`), so a fast hash is enough: there is nothing to
brute-force that a slow password hash would protect.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

import sqlite_utils

from botkit.errors import BotkitError
from botkit.sessions import now

SCOPES = ("chat", "tasks", "feedback", "admin")  # admin: every scope
KEY_PREFIX = "bk_"


@dataclass
class ApiKey:
    name: str
    prefix: str
    scopes: list[str]
    created_at: str
    last_used_at: str | None = None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_scopes(text: str | list[str]) -> list[str]:
    scopes = [s.strip() for s in (text.split(",") if isinstance(text, str) else text) if s.strip()]
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise BotkitError(f"unknown scope '{','.join(unknown)}' (scopes: {', '.join(SCOPES)})" if unknown
                          else f"a key needs at least one scope ({', '.join(SCOPES)})")
    return sorted(set(scopes), key=SCOPES.index)


class KeyStore:
    """The `api_keys` table."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db

    def create(self, name: str, scopes: str | list[str]) -> str:
        """A new key for `name` with `scopes`; the key itself is returned once and never stored."""
        name = (name or "").strip()
        if not name:
            raise BotkitError("a key needs a name (--name), e.g. the tool that will use it")
        scopes = parse_scopes(scopes)
        if self.db.execute("SELECT 1 FROM api_keys WHERE name = ? AND revoked_at IS NULL", [name]).fetchone():
            raise BotkitError(f"a live key named '{name}' exists: revoke it first (botkit keys revoke {name})")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        self.db.execute("INSERT INTO api_keys (name, prefix, sha256, scopes, created_at) VALUES (?, ?, ?, ?, ?)",
                        [name, key[:8], _digest(key), json.dumps(scopes), now()])
        return key

    def list(self, include_revoked: bool = False) -> list[dict]:
        where = "" if include_revoked else " WHERE revoked_at IS NULL"
        rows = self.db.query("SELECT name, prefix, scopes, created_at, last_used_at, revoked_at FROM api_keys"
                             + where + " ORDER BY id")
        return [{**r, "scopes": json.loads(r["scopes"])} for r in rows]

    def revoke(self, name: str) -> None:
        cursor = self.db.execute("UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                                 [now(), name])
        if cursor.rowcount == 0:
            raise BotkitError(f"no live key named '{name}' (see botkit keys list)")

    def any_live(self) -> bool:
        return self.db.execute("SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1").fetchone() is not None

    def verify(self, key: str) -> ApiKey | None:
        """The live key `key` stands for, or None (unknown or revoked)."""
        if not key:
            return None
        row = self.db.execute(
            "SELECT id, name, prefix, scopes, created_at FROM api_keys WHERE sha256 = ? AND revoked_at IS NULL",
            [_digest(key)]).fetchone()
        if row is None:
            return None
        self.db.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", [now(), row[0]])
        return ApiKey(row[1], row[2], json.loads(row[3]), row[4])
