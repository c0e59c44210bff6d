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



def _ranking_store(db: sqlite_utils.Database) -> None:
    """Tables of botkit.feedback.store.RankingStore. Raw SQL because sqlite-utils cannot declare CHECK
    or composite UNIQUE constraints, and those are what keep concurrent writers from duplicating rows."""
    for statement in (
        "CREATE TABLE annotators (name TEXT PRIMARY KEY, created_at TEXT NOT NULL)",
        "CREATE TABLE prompts (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, text TEXT NOT NULL,"
        " messages TEXT, plugin TEXT, sources TEXT NOT NULL DEFAULT '[]', examples TEXT NOT NULL DEFAULT '[]',"
        " origin TEXT NOT NULL, created_at TEXT NOT NULL)",
        "CREATE TABLE responses (id TEXT PRIMARY KEY, prompt_id INTEGER NOT NULL REFERENCES prompts(id),"
        " text TEXT NOT NULL, model_version TEXT NOT NULL, plugin TEXT, decoding TEXT, origin TEXT NOT NULL,"
        " created_at TEXT NOT NULL)",
        "CREATE INDEX responses_prompt ON responses(prompt_id)",
        "CREATE TABLE pairs (id INTEGER PRIMARY KEY, prompt_id INTEGER NOT NULL REFERENCES prompts(id),"
        " a_id TEXT NOT NULL REFERENCES responses(id), b_id TEXT NOT NULL REFERENCES responses(id),"
        " gold TEXT CHECK (gold IN ('a', 'b', 'tie')), origin TEXT NOT NULL, created_at TEXT NOT NULL,"
        " UNIQUE (a_id, b_id), CHECK (a_id < b_id))",
        "CREATE TABLE comparisons (id INTEGER PRIMARY KEY, pair_id INTEGER NOT NULL REFERENCES pairs(id),"
        " annotator TEXT NOT NULL REFERENCES annotators(name),"
        " verdict TEXT NOT NULL CHECK (verdict IN ('a', 'b', 'tie', 'both-bad')), reason TEXT NOT NULL DEFAULT '',"
        " seconds REAL, \"left\" TEXT NOT NULL CHECK (\"left\" IN ('a', 'b')), created_at TEXT NOT NULL,"
        " updated_at TEXT NOT NULL, UNIQUE (pair_id, annotator))",
        "CREATE INDEX comparisons_annotator ON comparisons(annotator)",
        "CREATE TABLE ratings (id INTEGER PRIMARY KEY, response_id TEXT NOT NULL REFERENCES responses(id),"
        " annotator TEXT NOT NULL REFERENCES annotators(name), value INTEGER NOT NULL CHECK (value IN (1, -1)),"
        " reason TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, UNIQUE (response_id, annotator))",
    ):
        db.execute(statement)

def _api_keys(db: sqlite_utils.Database) -> None:
    """Keys of `botkit serve` (botkit.server.keys): only a sha256 of each key is kept. A name is
    unique among live keys, so a revoked name can be issued again while its history stays."""
    db.execute("CREATE TABLE api_keys (id INTEGER PRIMARY KEY, name TEXT NOT NULL, prefix TEXT NOT NULL,"
               " sha256 TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL, created_at TEXT NOT NULL,"
               " last_used_at TEXT, revoked_at TEXT)")
    db.execute("CREATE UNIQUE INDEX api_keys_live_name ON api_keys(name) WHERE revoked_at IS NULL")


def _model_registry(db: sqlite_utils.Database) -> None:
    """Tables of botkit.feedback.registry: trained versions, promotion history and training runs."""
    for statement in (
        "CREATE TABLE model_versions (name TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('policy', 'reward')),"
        " method TEXT NOT NULL, base TEXT NOT NULL, adapter_path TEXT NOT NULL, parent TEXT, data TEXT NOT NULL,"
        " config TEXT NOT NULL, metrics TEXT NOT NULL, created_at TEXT NOT NULL)",
        "CREATE TABLE promotions (id INTEGER PRIMARY KEY, version TEXT NOT NULL REFERENCES model_versions(name),"
        " previous_model TEXT NOT NULL, previous_adapter TEXT, forced INTEGER NOT NULL DEFAULT 0, gate TEXT,"
        " promoted_at TEXT NOT NULL, rolled_back_at TEXT)",
        "CREATE TABLE training_runs (name TEXT PRIMARY KEY, method TEXT NOT NULL,"
        " status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')), pid INTEGER, run_dir TEXT NOT NULL,"
        " started_at TEXT NOT NULL, updated_at TEXT NOT NULL, error TEXT)",
    ):
        db.execute(statement)


def _api_key_limits(db: sqlite_utils.Database) -> None:
    """Per-key limits of botkit.server.keys: requests and tokens a minute (NULL: the server's default),
    the web origins a widget key may be used from, and a widget key itself (public by design)."""
    for column in ("requests_per_minute INTEGER", "tokens_per_minute INTEGER", "origins TEXT NOT NULL DEFAULT '[]'",
                   "public_key TEXT"):
        db.execute(f"ALTER TABLE api_keys ADD COLUMN {column}")


def _annotator_roles(db: sqlite_utils.Database) -> None:
    """The app's admin role (botkit.apps.signin): existing annotators start without it."""
    db.execute("ALTER TABLE annotators ADD COLUMN admin INTEGER NOT NULL DEFAULT 0")


def _engine_chats(db: sqlite_utils.Database) -> None:
    """What the model saw and wrote, beside each shown response (botkit.feedback.store): the chat the
    engine received and the model's own output. NULL for responses logged before, which export as before."""
    db.execute("ALTER TABLE responses ADD COLUMN engine_messages TEXT")
    db.execute("ALTER TABLE responses ADD COLUMN output TEXT")


def _fewshot_examples(db: sqlite_utils.Database) -> None:
    """Few-shot examples people's agreed choices added (botkit.prompting.fewshot): one per winning answer."""
    db.execute("CREATE TABLE fewshot_examples (id INTEGER PRIMARY KEY, input TEXT NOT NULL, output TEXT NOT NULL,"
               " pair_id INTEGER UNIQUE, annotators INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,"
               " UNIQUE (input, output))")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _knowledge_and_sessions, _ranking_store, _api_keys, _model_registry, _api_key_limits, _annotator_roles,
    _engine_chats, _fewshot_examples,
]


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
