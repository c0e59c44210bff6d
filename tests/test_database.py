import multiprocessing

import pytest

from botkit.database import MIGRATIONS, open_database
from botkit.errors import BotkitError
from botkit.sessions import SessionStore


def test_new_database_is_migrated_in_wal_mode(tmp_path):
    db = open_database(tmp_path / "b.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert {"sessions", "messages", "knowledge_files"} <= set(db.table_names())
    open_database(tmp_path / "b.db")  # reopening runs nothing twice


def test_database_from_a_newer_botkit_is_refused_untouched(tmp_path):
    db = open_database(tmp_path / "b.db")
    SessionStore(db).create("keep me")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 3}")
    with pytest.raises(BotkitError, match="newer botkit"):
        open_database(tmp_path / "b.db")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
    assert SessionStore(open_database(tmp_path / "b.db")).list()[0]["title"] == "keep me"


def _write_session(args):
    path, n = args
    store = SessionStore(open_database(path))
    sid = store.create(f"writer {n}")
    for i in range(50):
        store.append(sid, "user", f"message {i}")
    return sid


def test_concurrent_processes_lose_no_messages(tmp_path):
    path = tmp_path / "b.db"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        ids = pool.map(_write_session, [(path, n) for n in range(4)])
    store = SessionStore(open_database(path))
    assert [len(store.history(sid)) for sid in ids] == [50] * 4


def test_sessions_keep_messages_in_order(tmp_path):
    store = SessionStore(open_database(tmp_path / "b.db"))
    sid = store.create("hello")
    store.append(sid, "user", "hi")
    store.append(sid, "assistant", "hello!", {"citations": []})
    assert [(m.role, m.content) for m in store.history(sid)] == [("user", "hi"), ("assistant", "hello!")]
    assert store.history(sid)[1].meta == {"citations": []}
    assert store.ensure(sid) == sid and store.ensure("custom-id") == "custom-id"
    store.clear(sid)
    assert store.history(sid) == []
