"""Data never lost: `kill -9` at random moments of an import (`botkit feedback import`), of annotators'
feedback writes and of training-run registration, many times. After every kill the database passes
SQLite's integrity and foreign-key checks, holds no half-written comparison and no duplicate, every
acknowledged write is there, and no registered version lacks its adapter files."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # dozens of processes that import botkit: a few minutes on 2 shared cores

SEED = int(os.environ.get("BOTKIT_KILL_SEED", "14"))


def _env(home: Path) -> dict:
    env = {**os.environ, "BOTKIT_HOME": str(home)}
    env.pop("BOTKIT_CONFIG", None)
    return env


def check_database(path: Path) -> sqlite3.Connection:
    """Open the database as the next process would, and check it is whole."""
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    # No pair without the judgement it was stored for, and nobody judged a pair twice.
    assert conn.execute("SELECT count(*) FROM pairs p WHERE p.origin IN ('import', 'api')"
                        " AND NOT EXISTS (SELECT 1 FROM comparisons c WHERE c.pair_id = p.id)").fetchone() == (0,)
    assert conn.execute("SELECT count(*) - count(DISTINCT pair_id || '/' || annotator) FROM comparisons"
                        ).fetchone() == (0,)
    return conn


def _collect(stream, lines: list[str]) -> None:
    """Every line a child prints, until it dies (a thread per child: its pipe must never fill up)."""
    lines.extend(iter(stream.readline, ""))


def _has_database_open(pid: int, name: str) -> bool:
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}").endswith(name) for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def test_killed_imports_import_all_or_nothing(tmp_path, polite_vs_shouting, write_jsonl):
    """An import is one transaction: a kill leaves every pair of the file or none, never a part."""
    home = tmp_path / "home"
    rows = polite_vs_shouting(3000)
    pairs_file = write_jsonl(tmp_path / "pairs.jsonl", rows)
    rng, outcomes = random.Random(SEED), []
    for attempt in range(6):
        proc = subprocess.Popen([sys.executable, "-m", "botkit", "feedback", "import", str(pairs_file)],
                                env=_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Wait until it has the database open (the import is next), then kill it within its run.
        while proc.poll() is None and not _has_database_open(proc.pid, "botkit.db"):
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 8.0))  # some kills land after the commit (or the end) under light load
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        conn = check_database(home / "botkit.db")
        pairs = conn.execute("SELECT count(*) FROM pairs").fetchone()[0]
        judged = conn.execute("SELECT count(*) FROM comparisons").fetchone()[0]
        conn.close()
        assert pairs in (0, len(rows)) and judged == pairs, f"attempt {attempt} (seed {SEED}): {pairs} pairs"
        outcomes.append(pairs)
    # The import the user runs again finishes, and duplicates nothing.
    done = subprocess.run([sys.executable, "-m", "botkit", "feedback", "import", str(pairs_file), "--json"],
                          env=_env(home), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    conn = check_database(home / "botkit.db")
    assert conn.execute("SELECT count(*) FROM pairs").fetchone()[0] == len(rows)
    assert conn.execute("SELECT count(*) FROM comparisons").fetchone()[0] == len(rows)
    assert conn.execute("SELECT count(*) FROM responses").fetchone()[0] == 2 * len(rows)
    print(f"import kills (seed {SEED}): pairs present after each kill: {outcomes}")


ANNOTATOR = textwrap.dedent("""
    # One annotator's client: thumbs and preferences through the same call the API and the app use,
    # each printed once it has returned (acknowledged).
    import itertools, sys
    from pathlib import Path
    from botkit.database import open_database
    from botkit.feedback.reply_log import record_feedback
    from botkit.feedback.store import RankingStore

    store = RankingStore(open_database(Path(sys.argv[1])))
    name = sys.argv[2]
    for n in itertools.count():
        prompt = f"{name}: question {n}"
        a = store.log_response(prompt, f"first answer {n}", model="m1", origin="api")
        b = store.log_response(prompt, f"second answer {n}", model="m2", origin="api")
        record_feedback(store, a, other_id=b, verdict="ab"[n % 2], annotator=name)
        record_feedback(store, a, 1 if n % 3 else -1, annotator=name)
        print(prompt, flush=True)
""")


def test_killed_annotators_lose_no_acknowledged_write(tmp_path):
    home = tmp_path / "home"
    database = home / "botkit.db"
    from botkit.database import open_database

    open_database(database).conn.close()
    rng, acknowledged = random.Random(SEED), []
    for attempt in range(10):
        # Two annotators at once; one is killed at a random moment, the other stopped after it.
        procs = [subprocess.Popen([sys.executable, "-c", ANNOTATOR, str(database), f"rater-{attempt}-{i}"],
                                  env=_env(home), stdout=subprocess.PIPE, text=True) for i in range(2)]
        lines: list[str] = []
        readers = [threading.Thread(target=_collect, args=(p.stdout, lines)) for p in procs]
        for r in readers:
            r.start()
        while not lines and all(p.poll() is None for p in procs):
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 1.0))
        for p in procs:
            p.send_signal(signal.SIGKILL)
            p.wait()
        for r in readers:
            r.join()
        acknowledged += [line.strip() for line in lines]
        conn = check_database(database)
        stored = {r[0] for r in conn.execute("SELECT p.text FROM prompts p JOIN pairs x ON x.prompt_id = p.id"
                                             " JOIN comparisons c ON c.pair_id = x.id")}
        rated = {r[0] for r in conn.execute("SELECT p.text FROM prompts p JOIN responses r ON r.prompt_id = p.id"
                                            " JOIN ratings t ON t.response_id = r.id")}
        conn.close()
        missing = [a for a in acknowledged if a not in stored or a not in rated]
        assert not missing, f"attempt {attempt} (seed {SEED}): acknowledged but not stored: {missing[:5]}"
    assert len(acknowledged) > 10  # the writers got going before they were killed
    print(f"annotator kills (seed {SEED}): {len(acknowledged)} acknowledged judgements over 10 kills, all stored")


REGISTRAR = textwrap.dedent("""
    # Registers versions one after another with the code training runs use, on a real LoRA adapter.
    import itertools, sys
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments
    from botkit.config import load_settings
    from botkit.feedback.training.registration import register_version
    from botkit.feedback.training.runs import open_run
    from botkit.feedback.training.sft import SFTRunConfig

    base, first = sys.argv[1], int(sys.argv[2])
    settings = load_settings()
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base), LoraConfig(r=2, target_modules=["q_proj"]))
    config = SFTRunConfig(output_dir=sys.argv[3], report_to=[], use_cpu=True)
    trainer = Trainer(model=model, args=TrainingArguments(output_dir=sys.argv[3], report_to=[], use_cpu=True))
    print("ready", flush=True)
    for n in itertools.count(first):
        run = open_run(f"killed-{n}", config, {"sha256": str(n), "train": 1, "heldout": 1}, resume=False,
                       settings=settings)
        (run.checkpoints / "checkpoint-1").mkdir(parents=True)
        register_version(trainer, run, config, kind="policy", base=base, parent=None, metrics={"n": n},
                         heldout=[{"prompt": "p", "completion": "c"}])
        print(run.name, flush=True)
""")


def test_killed_registration_never_lists_a_version_without_its_adapter(tmp_path, tiny_model_dir):
    from safetensors import safe_open

    from botkit.config import load_settings
    from botkit.database import open_database
    from botkit.feedback.registry import ModelRegistry

    home = tmp_path / "home"
    rng, registered = random.Random(SEED), []
    for attempt in range(5):
        proc = subprocess.Popen([sys.executable, "-c", REGISTRAR, str(tiny_model_dir), str(1000 * attempt),
                                 str(tmp_path / "trainer")], env=_env(home), stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        lines: list[str] = []
        reader = threading.Thread(target=_collect, args=(proc.stdout, lines))
        reader.start()
        time.sleep(rng.uniform(0.2, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        reader.join()
        registered += [line.strip() for line in lines]
        check_database(home / "botkit.db").close()
        registry = ModelRegistry(open_database(home / "botkit.db"), load_settings(home=home))
        versions = {v["name"]: v for v in registry.versions()}
        assert set(registered) <= set(versions), f"attempt {attempt} (seed {SEED}): acknowledged, not registered"
        for version in versions.values():
            adapter = Path(version["adapter_path"])
            assert json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"]
            with safe_open(adapter / "adapter_model.safetensors", "pt") as weights:
                assert list(weights.keys())
            assert json.loads((adapter / "metrics.json").read_text())["metrics"]["n"] == version["metrics"]["n"]
        runs = {r["name"]: r["status"] for r in registry.runs()}
        # A registered version's run says finished; the run killed before it registered says interrupted.
        assert all(runs[name] == "finished" for name in versions), runs
        assert all(status in ("finished", "interrupted") for status in runs.values()), runs
    assert registered  # registrations did happen between the kills
    print(f"registration kills (seed {SEED}): {len(registered)} versions registered over 5 kills, all whole")
