"""Backup and restore of a BOTKIT_HOME in one tar.gz: the database (SQLite's online backup), Chroma
(copied through its API, so a running app may keep writing) and the registered versions' adapters,
with a manifest of versions, counts and hashes. Every path in the archive is relative to the home."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from botkit.errors import BotkitError

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE = "botkit.db"
CHROMA = "chroma"
CONFIG = "config.yaml"
CHROMA_BATCH = 1000

# on_progress(stage, done, total): lets the CLI draw a bar for big homes.
Progress = Callable[[str, int, int], None]


def _quiet(stage: str, done: int, total: int) -> None:
    pass


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def _integrity(conn: sqlite3.Connection) -> str:
    return "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check"))


def snapshot_database(source: Path, target: Path) -> dict:
    """A consistent copy of the live database at `source` (writers may keep going: in WAL mode the
    one-step online backup reads one snapshot and blocks nobody); returns its schema and counts."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # pages=-1: one step; a stepped copy restarts each time another process writes
        dst.execute("PRAGMA journal_mode = DELETE")  # a single file in the archive; opening it restores WAL
        integrity = _integrity(dst)
        if integrity != "ok":
            raise BotkitError(f"{source} failed SQLite's integrity check ({integrity}): not backing up a damaged "
                              "database")
        return {"schema": dst.execute("PRAGMA user_version").fetchone()[0], "counts": _counts(dst)}
    except sqlite3.DatabaseError as exc:
        raise BotkitError(f"{source} could not be read as a botkit database ({exc})") from None
    finally:
        src.close()
        dst.close()


def copy_chroma(source: Path, target: Path, on_progress: Progress = _quiet) -> dict[str, int]:
    """Every Chroma collection at `source` rebuilt at `target` from its stored vectors (no re-embedding).
    Copying Chroma's files while `botkit ingest` writes could catch an index half-flushed; reading
    through the API sees whole upserts. Ids are listed first, then fetched: a chunk deleted meanwhile
    is simply left out. Returns the chunks per collection."""
    from botkit.knowledge.store import open_chroma

    copied: dict[str, int] = {}
    if not source.is_dir():
        return copied
    with open_chroma(source) as src, open_chroma(target) as dst:
        for listed in src.list_collections():
            collection = src.get_collection(listed.name, embedding_function=None)
            ids = collection.get(include=[])["ids"]
            copy = dst.create_collection(listed.name, configuration=collection.configuration,
                                         metadata=collection.metadata, embedding_function=None)
            for start in range(0, len(ids), CHROMA_BATCH):
                batch = collection.get(ids=ids[start:start + CHROMA_BATCH],
                                       include=["embeddings", "documents", "metadatas"])
                if batch["ids"]:
                    copy.add(ids=batch["ids"], embeddings=batch["embeddings"], documents=batch["documents"],
                             metadatas=batch["metadatas"])
                on_progress(f"Chroma {listed.name}", min(start + CHROMA_BATCH, len(ids)), len(ids))
            copied[listed.name] = copy.count()
    return copied


def _relative_to(path: Path, home: Path) -> Path | None:
    try:
        return path.resolve().relative_to(home.resolve())
    except ValueError:
        return None


def copy_adapters(database: Path, home: Path, stage: Path) -> tuple[dict[str, str], list[str]]:
    """The adapter folder of every version registered in `database` (without optimizer checkpoints),
    staged under the same relative path (models/NAME; one outside the home goes to models/NAME).
    Returns {version: relative path} and the versions whose folder is gone."""
    conn = sqlite3.connect(database)
    try:
        has_versions = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'model_versions'").fetchone()
        rows = conn.execute("SELECT name, adapter_path FROM model_versions ORDER BY name").fetchall() \
            if has_versions else []
    finally:
        conn.close()
    adapters, missing = {}, []
    for name, adapter_path in rows:
        folder = Path(adapter_path)
        if not (folder / "adapter_config.json").is_file():
            missing.append(name)
            continue
        relative = _relative_to(folder, home) or Path("models") / name
        shutil.copytree(folder, stage / relative, ignore=shutil.ignore_patterns("checkpoints", "*.lock"))
        adapters[name] = relative.as_posix()
    return adapters, missing


def backup_home(settings, out: Path, *, on_progress: Progress = _quiet) -> dict:
    """Write the home of `settings` to the archive `out` (tar.gz) and return its manifest."""
    home, database = Path(settings.home), Path(settings.database_path)
    out = Path(out).expanduser()
    if not database.is_file():
        raise BotkitError(f"{home} holds no botkit database ({database.name}): nothing to back up")
    if out.is_dir():
        raise BotkitError(f"{out} is a folder: name the archive to write, e.g. {out / 'botkit-backup.tar.gz'}")
    if not out.parent.is_dir():
        raise BotkitError(f"{out.parent}: no such folder")
    # The staging folder sits beside the archive: the final rename stays on one file system.
    with tempfile.TemporaryDirectory(prefix=".botkit-backup-", dir=out.parent) as tmp:
        stage = Path(tmp) / "home"
        stage.mkdir()
        # The database first, Chroma second: Chroma can then only be newer, and `botkit ingest`
        # re-reads a file whose recorded hash differs, so nothing of the snapshot is missing.
        on_progress("Database", 0, 1)
        db = snapshot_database(database, stage / DATABASE)
        on_progress("Database", 1, 1)
        chunks = copy_chroma(Path(settings.chroma_path), stage / CHROMA, on_progress)
        adapters, missing = copy_adapters(stage / DATABASE, home, stage)
        if (home / CONFIG).is_file():
            shutil.copy2(home / CONFIG, stage / CONFIG)
        files = sorted(p for p in stage.rglob("*") if p.is_file())
        manifest = {
            "format": FORMAT, "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "versions": {"botkit": _version("botkit"), "chromadb": _version("chromadb"),
                         "sqlite": sqlite3.sqlite_version, "schema": db["schema"]},
            "source_home": str(home.resolve()), "counts": db["counts"], "chroma": chunks,
            "adapters": adapters, "missing_adapters": missing,
            "files": {p.relative_to(stage).as_posix(): {"sha256": _sha256(p), "bytes": p.stat().st_size}
                      for p in files},
        }
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        partial = Path(tmp) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz", compresslevel=3) as tar:
            tar.add(stage / MANIFEST, arcname=MANIFEST)  # first, so a restore reads it before the bulk
            for done, path in enumerate(files, 1):
                tar.add(path, arcname=path.relative_to(stage).as_posix(), recursive=False)
                on_progress("Archive", done, len(files))
        os.replace(partial, out)  # a reader never sees half an archive
    return {**manifest, "archive": str(out), "bytes": out.stat().st_size}


def _read_manifest(tar: tarfile.TarFile, archive: Path) -> dict:
    try:
        member = tar.extractfile(MANIFEST)
        manifest = json.loads(member.read().decode("utf-8")) if member else None
    except KeyError:
        manifest = None
    except (ValueError, UnicodeDecodeError):
        raise BotkitError(f"{archive}: its {MANIFEST} is damaged") from None
    if not isinstance(manifest, dict) or "files" not in manifest:
        raise BotkitError(f"{archive} is not a botkit backup (no {MANIFEST}): make one with `botkit backup OUT`")
    if manifest.get("format") != FORMAT:
        raise BotkitError(f"{archive} is a backup in format {manifest.get('format')}; this botkit reads format "
                          f"{FORMAT}: restore it with the botkit that wrote it ({manifest.get('versions', {})})")
    return manifest


def _verify(stage: Path, manifest: dict, archive: Path) -> None:
    from botkit.database import MIGRATIONS

    for name, expected in manifest["files"].items():
        path = stage / name
        if not path.is_file() or _sha256(path) != expected["sha256"]:
            raise BotkitError(f"{archive} is damaged: {name} is missing or does not match its hash")
    schema = manifest["versions"]["schema"]
    if schema > len(MIGRATIONS):
        raise BotkitError(f"{archive} holds a database of a newer botkit (schema {schema}, this one knows "
                          f"{len(MIGRATIONS)}): upgrade botkit to restore it")
    conn = sqlite3.connect(stage / DATABASE)
    try:
        integrity, counts = _integrity(conn), _counts(conn)
    finally:
        conn.close()
    if integrity != "ok" or counts != manifest["counts"]:
        raise BotkitError(f"{archive} is damaged: its database fails the integrity check or its row counts")


def _rebase_paths(database: Path, manifest: dict, home: Path) -> None:
    """Point the registered versions and training runs at the new home (the machine may differ)."""
    conn = sqlite3.connect(database)
    try:
        with conn:
            for name, relative in manifest["adapters"].items():
                conn.execute("UPDATE model_versions SET adapter_path = ? WHERE name = ?",
                             [str(home / relative), name])
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'training_runs'").fetchone():
                old = manifest["source_home"].rstrip("/") + "/"
                conn.execute("UPDATE training_runs SET run_dir = ? || substr(run_dir, ?) WHERE run_dir LIKE ? || '%'",
                             [str(home).rstrip("/") + "/", len(old) + 1, old])
    finally:
        conn.close()


def _replace(source: Path, target: Path) -> None:
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    elif target.exists() or target.is_symlink():
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)


def restore_home(settings, archive: Path, *, force: bool = False, on_progress: Progress = _quiet) -> dict:
    """Restore the backup `archive` into the home of `settings`; refuses a non-empty home unless `force`,
    which replaces the database, Chroma, config.yaml and the backed-up adapters (other files stay)."""
    home, archive = Path(settings.home), Path(archive).expanduser()
    if not archive.is_file():
        raise BotkitError(f"{archive}: no such file")
    if home.exists() and not home.is_dir():
        raise BotkitError(f"{home} is a file, not a folder: set BOTKIT_HOME to a folder")
    if home.is_dir() and any(home.iterdir()) and not force:
        raise BotkitError(f"{home} is not empty: restore into an empty BOTKIT_HOME, or pass --force to replace "
                          "its database, Chroma and adapters with the backup's")
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".botkit-restore-", dir=home) as tmp:
        stage = Path(tmp)
        try:
            with tarfile.open(archive, "r:gz") as tar:
                manifest = _read_manifest(tar, archive)
                members = [m for m in tar.getmembers() if m.name != MANIFEST]
                for done, member in enumerate(members, 1):
                    if member.name not in manifest["files"]:
                        raise BotkitError(f"{archive} holds {member.name}, which its manifest does not list")
                    tar.extract(member, stage, filter="data")  # "data": no absolute paths, no escaping links
                    on_progress("Extract", done, len(members))
        except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
            raise BotkitError(f"{archive} is not a readable botkit backup (tar.gz): {exc}") from None
        _verify(stage, manifest, archive)
        _rebase_paths(stage / DATABASE, manifest, home)
        for stale in ("-wal", "-shm"):  # an old write-ahead log would be replayed into the restored database
            (home / (DATABASE + stale)).unlink(missing_ok=True)
        for entry in [DATABASE, CHROMA, CONFIG, *manifest["adapters"].values()]:
            if (stage / entry).exists():
                _replace(stage / entry, home / entry)
    from botkit.database import open_database

    open_database(home / DATABASE).conn.close()  # migrates a backup from an older botkit
    return {"home": str(home), "archive": str(archive), "created_at": manifest["created_at"],
            "source_home": manifest["source_home"], "counts": manifest["counts"], "chroma": manifest["chroma"],
            "adapters": sorted(manifest["adapters"]), "missing_adapters": manifest["missing_adapters"]}
