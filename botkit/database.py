"""The one SQLite database in BOTKIT_HOME: WAL mode, a busy timeout and forward-only migrations.

Each feature appends its migration to MIGRATIONS (never edits an old one); PRAGMA user_version
records how many ran, so an older botkit refuses a newer database instead of corrupting it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import sqlite_utils

from botkit.errors import BotkitError


def _knowledge_and_sessions(db: sqlite_utils.Database) -> None:
    db["knowledge_files"].create(
        {"path": str, "sha256": str, "chunks": int, "terms": str, "ingested_at": str}, pk="path"
    )
    db["sessions"].create({"id": str, "title": str, "created_at": str}, pk="id")
    db["messages"].create(
        {"id": int, "session_id": str, "role": str, "content": str, "meta": str, "created_at": str},
        pk="id",
        foreign_keys=[("session_id", "sessions", "id")],
    )
    db["messages"].create_index(["session_id", "id"])


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_knowledge_and_sessions]


def open_database(path: Path) -> sqlite_utils.Database:
    """Open (creating and migrating) the database at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    # Without a busy timeout concurrent writers lose rows; WAL lets readers run beside a writer.
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    db = sqlite_utils.Database(conn)
    _migrate(db, path)
    return db


def _migrate(db: sqlite_utils.Database, path: Path) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise BotkitError(
            f"{path} was written by a newer botkit (schema {version}, this one knows {len(MIGRATIONS)}): "
            "upgrade botkit, or point BOTKIT_HOME elsewhere"
        )
    for number in range(version, len(MIGRATIONS)):
        db.execute("BEGIN IMMEDIATE")
        try:
            # Re-read inside the write lock: another process may have migrated meanwhile.
            if db.execute("PRAGMA user_version").fetchone()[0] > number:
                db.execute("COMMIT")
                continue
            MIGRATIONS[number](db)
            db.execute(f"PRAGMA user_version = {number + 1}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
