"""Conversations persisted in SQLite, so a chat survives restarts and feeds the feedback loop."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlite_utils


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Message:
    role: str
    content: str
    meta: dict


class SessionStore:
    """Sessions and their messages in the `sessions` / `messages` tables."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db

    def create(self, title: str = "") -> str:
        session_id = uuid.uuid4().hex[:12]
        self.db["sessions"].insert({"id": session_id, "title": title[:80], "created_at": now()})
        return session_id

    def ensure(self, session_id: str | None, title: str = "") -> str:
        """Return `session_id`, creating the session when it is new (or None)."""
        if session_id is None:
            return self.create(title)
        if not self.db["sessions"].count_where("id = ?", [session_id]):
            self.db["sessions"].insert({"id": session_id, "title": title[:80], "created_at": now()})
        return session_id

    def append(self, session_id: str, role: str, content: str, meta: dict | None = None) -> int:
        table = self.db["messages"].insert(
            {"session_id": session_id, "role": role, "content": content,
             "meta": json.dumps(meta or {}), "created_at": now()}
        )
        return table.last_pk

    def history(self, session_id: str) -> list[Message]:
        rows = self.db.query(
            "select role, content, meta from messages where session_id = ? order by id", [session_id]
        )
        return [Message(r["role"], r["content"], json.loads(r["meta"] or "{}")) for r in rows]

    def clear(self, session_id: str) -> None:
        self.db.execute("delete from messages where session_id = ?", [session_id])

    def list(self, limit: int = 50) -> list[dict]:
        return list(self.db.query(
            "select s.id, s.title, s.created_at, count(m.id) as messages from sessions s "
            "left join messages m on m.session_id = s.id group by s.id order by s.created_at desc limit ?",
            [limit],
        ))
