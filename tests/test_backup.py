"""botkit.backup and `botkit backup` / `botkit restore`: a home backed up while another process writes
rankings comes back whole in another folder (counts, integrity, search, adapters); damaged archives
and occupied homes are one-line errors."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import textwrap

import pytest

from botkit.backup import backup_home, restore_home
from botkit.config import load_settings
from botkit.database import open_database
from botkit.errors import BotkitError
from botkit.feedback.registry import ModelRegistry
from botkit.feedback.store import RankingStore
from botkit.knowledge.store import KnowledgeBase

WRITER = textwrap.dedent("""
    import itertools
    import sys
    from pathlib import Path
    from botkit.database import open_database
    from botkit.feedback.store import RankingStore

    store = RankingStore(open_database(Path(sys.argv[1])))
    pairs = [r["id"] for r in store.db.query("SELECT id FROM pairs ORDER BY id")]
    for rater in itertools.count():  # a new rater every round: rows keep coming until the test kills it
        store.add_annotator(f"rater-{rater}")
        for pair_id in pairs:
            store.record_comparison(pair_id, f"rater-{rater}", "a" if pair_id % 2 else "b")
            if rater == 0 and pair_id == pairs[0]:
                print("writing", flush=True)  # once: an unread pipe that fills up would stop the writer
""")


@pytest.fixture
def filled_home(home, settings, embedder, docs, tiny_model_dir, polite_vs_shouting, write_jsonl, tmp_path):
    """A home with three documents in Chroma, 400 judged pairs and a registered version with a real
    LoRA adapter (on the tiny model)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    KnowledgeBase(open_database(settings.database_path), settings.chroma_path, embedder).ingest(docs)
    store = RankingStore.open(settings)
    store.import_trl(write_jsonl(tmp_path / "pairs.jsonl", polite_vs_shouting(400)))
    adapter = home / "models" / "brand-sft-1"
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                           LoraConfig(r=2, target_modules=["q_proj", "v_proj"]))
    model.save_pretrained(adapter)
    ModelRegistry(store.db, settings).register("brand-sft-1", kind="policy", method="sft", base=str(tiny_model_dir),
                                               adapter_path=adapter, parent=None, data={}, config={}, metrics={})
    return home


def _count(database, table: str) -> int:
    conn = sqlite3.connect(database)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.slow  # a `botkit backup` process beside a writer process: 30-50 s on a shared 2-core machine
def test_round_trip_while_another_process_writes_rankings(filled_home, tmp_path, botkit_cli, embedder):
    database = filled_home / "botkit.db"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(database)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        archive = tmp_path / "out" / "home.tar.gz"
        archive.parent.mkdir()
        manifest = json.loads(botkit_cli("backup", str(archive), "--json", home=filled_home).stdout)
    finally:
        writer.kill()
        writer.wait()
    written = _count(database, "comparisons")
    # A snapshot taken mid-write: more than the 400 imported judgements, fewer than the writer went on to make.
    assert 400 < manifest["counts"]["comparisons"] < written
    assert manifest["chroma"] == {"knowledge": KnowledgeBase(open_database(database), filled_home / "chroma",
                                                             embedder).count()}
    assert manifest["adapters"] == {"brand-sft-1": "models/brand-sft-1"}

    # "Another machine": the original home is gone, the backup is restored under another path.
    shutil.rmtree(filled_home)
    elsewhere = tmp_path / "elsewhere" / "home"
    restored = restore_home(load_settings(home=elsewhere), archive)
    assert restored["counts"] == manifest["counts"]

    db = open_database(elsewhere / "botkit.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert {t: db[t].count for t in manifest["counts"]} == manifest["counts"]
    hits = KnowledgeBase(db, elsewhere / "chroma", embedder).search("How long does standard shipping take?", k=2)
    assert hits and hits[0].source.endswith("shipping.md")
    version = ModelRegistry(db, load_settings(home=elsewhere)).version("brand-sft-1")
    assert version["adapter_path"] == str(elsewhere / "models" / "brand-sft-1")
    assert (elsewhere / "models" / "brand-sft-1" / "adapter_model.safetensors").is_file()
    # The restored store takes new judgements.
    store = RankingStore(db)
    store.add_annotator("after-restore")
    store.record_comparison(1, "after-restore", "tie")


def test_restore_refuses_a_home_in_use_unless_forced(filled_home, tmp_path, botkit_cli):
    archive = tmp_path / "home.tar.gz"
    backup_home(load_settings(), archive)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    refused = botkit_cli("restore", str(archive), home=other, check=False)
    assert refused.returncode == 1 and refused.stderr.strip().splitlines() == [
        f"error: {other} is not empty: restore into an empty BOTKIT_HOME, or pass --force to replace its "
        "database, Chroma and adapters with the backup's"]
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]

    # --force over a home with its own database: the backup's rows replace it, no old WAL survives.
    store = RankingStore(open_database(other / "botkit.db"))
    store.add_annotator("someone-else")
    restore_home(load_settings(home=other), archive, force=True)
    assert RankingStore(open_database(other / "botkit.db")).annotators() == ["import"]
    assert (other / "notes.txt").read_text() == "mine"


def _rewritten(archive, tmp_path, change) -> object:
    """A copy of `archive` whose members went through `change(name, data) -> data`."""
    out = tmp_path / "changed.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(out, "w:gz") as dst:
        for member in src.getmembers():
            data = change(member.name, src.extractfile(member).read())
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    return out


def test_damaged_or_foreign_archives_are_refused_and_leave_the_home_alone(filled_home, tmp_path):
    archive = tmp_path / "home.tar.gz"
    backup_home(load_settings(), archive)
    target = load_settings(home=tmp_path / "target")
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    not_botkit = tmp_path / "foreign.tar.gz"
    with tarfile.open(not_botkit, "w:gz") as tar:
        tar.add(__file__, arcname="test.py")
    tampered = _rewritten(archive, tmp_path, lambda name, data: b"x" + data[1:] if name == "botkit.db" else data)
    binary = tmp_path / "noise.tar.gz"
    binary.write_bytes(bytes(range(256)) * 100)
    for bad, message in ((truncated, "is not a readable botkit backup"), (not_botkit, "is not a botkit backup"),
                         (tampered, "is damaged: botkit.db"), (binary, "is not a readable botkit backup"),
                         (tmp_path / "missing.tar.gz", "no such file")):
        with pytest.raises(BotkitError, match=message):
            restore_home(target, bad)
        assert not (tmp_path / "target" / "botkit.db").exists()
    assert sorted(p.name for p in (tmp_path / "target").iterdir()) == []  # no staging folder left behind


def test_backup_of_a_home_without_a_database_is_an_error(home, tmp_path):
    with pytest.raises(BotkitError, match="holds no botkit database"):
        backup_home(load_settings(), tmp_path / "x.tar.gz")
    assert not (tmp_path / "x.tar.gz").exists()
