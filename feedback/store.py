"""The ranking store: prompts, candidate responses, blind A/B comparisons, annotators and thumbs, in
the one SQLite database. Every write is one `BEGIN IMMEDIATE` transaction against UNIQUE
constraints, so concurrent annotators (processes) lose nothing and never duplicate a judgement."""

from __future__ import annotations

import hashlib
import json
import random
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, get_args

import sqlite_utils

from botkit.database import open_database
from botkit.errors import BotkitError
from botkit.sessions import now

# A blind comparison's outcome: side a better, side b better, a tie, or both answers bad.
Verdict = Literal["a", "b", "tie", "both-bad"]
VERDICTS: tuple[str, ...] = get_args(Verdict)
ORIGINS = ("chat", "api", "import", "generate", "compare")
GOLD_SHARE = 0.1  # about one pair in ten is a gold pair with a known answer, to check raters


def prompt_key(text: str, plugin: str | None, messages: list[dict] | None = None) -> str:
    """The identity of a prompt: the same text for the same plugin is stored once. A conversational
    prompt is identified by its whole chat, not only its last turn."""
    body = json.dumps(messages, sort_keys=True, ensure_ascii=False) if messages else text
    return hashlib.sha256(f"{plugin or ''}\x00{body}".encode()).hexdigest()


class RankingStore:
    """Read and write ranking data. Methods raise BotkitError (one line) for user mistakes."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        # One connection may be shared by threads (Streamlit): serialise this object's transactions.
        self._lock = threading.RLock()

    @classmethod
    def open(cls, settings) -> RankingStore:
        return cls(open_database(Path(settings.database_path)))

    @contextmanager
    def write(self):
        """One write transaction, taken with the write lock up front (BEGIN IMMEDIATE) so a
        read-then-write never races another process; nested calls join the outer transaction."""
        with self._lock:
            conn = self.db.conn
            if conn.in_transaction:
                yield
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _one(self, sql: str, params=()) -> dict | None:
        return next(iter(self.db.query(sql, params)), None)

    # annotators -------------------------------------------------------------------------------

    def add_annotator(self, name: str) -> str:
        name = (name or "").strip()
        if not name:
            raise BotkitError("an annotator needs a non-empty name")
        with self.write():
            self.db.execute("INSERT INTO annotators (name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
                            [name, now()])
        return name

    def annotators(self) -> list[str]:
        return [r["name"] for r in self.db.query("SELECT name FROM annotators ORDER BY name")]

    def admins(self) -> list[str]:
        return [r["name"] for r in self.db.query("SELECT name FROM annotators WHERE admin ORDER BY name")]

    def set_admin(self, name: str, admin: bool = True, *, first_only: bool = False) -> bool:
        """Give (or take away) an annotator's admin role; with `first_only`, only while nobody has it
        (the app's first annotator). Returns whether `name` is an admin now."""
        with self.write():
            name = self._known_annotator(name)
            if not (first_only and self.admins()):
                self.db.execute("UPDATE annotators SET admin = ? WHERE name = ?", [int(admin), name])
            return bool(self._one("SELECT admin FROM annotators WHERE name = ?", [name])["admin"])

    def _known_annotator(self, name: str) -> str:
        name = (name or "").strip()
        if not self._one("SELECT 1 AS x FROM annotators WHERE name = ?", [name]):
            known = ", ".join(self.annotators()) or "none"
            raise BotkitError(f"unknown annotator '{name}': add them first (annotators: {known})")
        return name

    # prompts, responses, pairs ------------------------------------------------------------------

    def log_response(self, prompt: str, text: str, *, model: str, plugin: str | None = None,
                     decoding: dict | None = None, sources: list[dict] = (), examples: list[dict] = (),
                     messages: list[dict] | None = None, origin: str = "chat",
                     engine_messages: list[dict] | None = None, output: str | None = None) -> str:
        """Store one candidate answer to `prompt` and return its id ("r_" + 16 hex characters).
        Logging the same answer again (same prompt, text, model, plugin, decoding) returns the same id.

        `engine_messages` is the chat the engine received (system, few-shot, sources, history, the user
        turn) and `output` what the model wrote (the draft behind a quote, the copy candidate), kept for
        training on what the model saw; None when the model was not asked (a canned or imported reply).
        They are not part of the id, so a surface logging the same answer without them (the app's thumbs)
        names the same response, and a later log with them fills them in."""
        prompt = (prompt or "").strip()
        if not prompt:
            raise BotkitError("the prompt is empty")
        if not (model or "").strip():
            raise BotkitError("a response needs the model version that wrote it")
        if origin not in ORIGINS:
            raise BotkitError(f"unknown origin '{origin}' (one of {', '.join(ORIGINS)})")
        text = text or ""
        key = prompt_key(prompt, plugin, messages)
        decoding_json = json.dumps(decoding, sort_keys=True) if decoding is not None else None
        chat_json = json.dumps(engine_messages, ensure_ascii=False) if engine_messages else None
        response_id = "r_" + hashlib.sha256(
            "\x00".join([key, text, model, plugin or "", decoding_json or ""]).encode()).hexdigest()[:16]
        stamp = now()
        with self.write():
            # The first sources / examples / chat seen for a prompt are kept; later empty ones never erase them.
            self.db.execute(
                "INSERT INTO prompts (key, text, messages, plugin, sources, examples, origin, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
                " sources = CASE WHEN prompts.sources = '[]' THEN excluded.sources ELSE prompts.sources END,"
                " examples = CASE WHEN prompts.examples = '[]' THEN excluded.examples ELSE prompts.examples END,"
                " messages = coalesce(prompts.messages, excluded.messages)",
                [key, prompt, json.dumps(messages, ensure_ascii=False) if messages else None, plugin,
                 json.dumps(list(sources), ensure_ascii=False, default=str),
                 json.dumps(list(examples), ensure_ascii=False, default=str), origin, stamp])
            prompt_id = self._one("SELECT id FROM prompts WHERE key = ?", [key])["id"]
            self.db.execute(
                "INSERT INTO responses (id, prompt_id, text, model_version, plugin, decoding, origin, created_at,"
                " engine_messages, output) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                " engine_messages = coalesce(responses.engine_messages, excluded.engine_messages),"
                " output = coalesce(responses.output, excluded.output)",
                [response_id, prompt_id, text, model, plugin, decoding_json, origin, stamp, chat_json, output])
        return response_id

    def response(self, response_id: str) -> dict:
        row = self._one(
            "SELECT r.*, p.text AS prompt, p.messages, p.sources, p.examples FROM responses r"
            " JOIN prompts p ON p.id = r.prompt_id WHERE r.id = ?", [response_id])
        if row is None:
            raise BotkitError(f"unknown response '{response_id}'")
        for name in ("decoding", "messages", "sources", "examples", "engine_messages"):
            row[name] = json.loads(row[name]) if row[name] else None
        return row

    def add_pair(self, a_id: str, b_id: str, *, gold: str | None = None, origin: str = "chat") -> int:
        """Make two answers to the same prompt a pair to rank; the same pair (either order) keeps one id.
        Pairs are stored with a_id < b_id, so `gold` is flipped when the arguments are swapped."""
        if gold not in (None, "a", "b", "tie"):
            raise BotkitError(f"gold must be a, b or tie, not '{gold}'")
        if origin not in ORIGINS:
            raise BotkitError(f"unknown origin '{origin}' (one of {', '.join(ORIGINS)})")
        a, b = self.response(a_id), self.response(b_id)
        if a["id"] == b["id"] or a["text"].strip() == b["text"].strip():
            raise BotkitError("the two responses have identical texts: there is nothing to compare")
        if a["prompt_id"] != b["prompt_id"]:
            raise BotkitError("the two responses answer different prompts: a pair must share its prompt")
        if a["id"] > b["id"]:
            a, b = b, a
            gold = {"a": "b", "b": "a"}.get(gold, gold)
        with self.write():
            self.db.execute(
                "INSERT INTO pairs (prompt_id, a_id, b_id, gold, origin, created_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(a_id, b_id) DO NOTHING", [a["prompt_id"], a["id"], b["id"], gold, origin, now()])
            return self._one("SELECT id FROM pairs WHERE a_id = ? AND b_id = ?", [a["id"], b["id"]])["id"]

    def pair(self, pair_id: int) -> dict:
        row = self._one("SELECT * FROM pairs WHERE id = ?", [pair_id])
        if row is None:
            raise BotkitError(f"unknown pair {pair_id}")
        return row

    # judgements ---------------------------------------------------------------------------------

    def record_comparison(self, pair_id: int, annotator: str, verdict: str, *, reason: str = "",
                          seconds: float | None = None, left: str = "a") -> None:
        """Record (or change) `annotator`'s verdict on a pair. The verdict names the pair's a/b, never
        a screen side; `left` says which of them was shown on the left."""
        if verdict not in VERDICTS:
            raise BotkitError(f"verdict must be one of {', '.join(VERDICTS)}, not '{verdict}'")
        if left not in ("a", "b"):
            raise BotkitError(f"left must be 'a' or 'b', not '{left}'")
        if seconds is not None and seconds < 0:
            raise BotkitError("seconds cannot be negative")
        stamp = now()
        with self.write():
            annotator = self._known_annotator(annotator)
            self.pair(pair_id)
            self.db.execute(
                'INSERT INTO comparisons (pair_id, annotator, verdict, reason, seconds, "left", created_at, updated_at)'
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(pair_id, annotator) DO UPDATE SET"
                ' verdict = excluded.verdict, reason = excluded.reason, seconds = excluded.seconds,'
                ' "left" = excluded."left", updated_at = excluded.updated_at',
                [pair_id, annotator, verdict, reason or "", seconds, left, stamp, stamp])

    def record_rating(self, response_id: str, annotator: str, value: int, reason: str = "") -> None:
        """A thumb up (1) or down (-1); a second thumb from the same annotator replaces the first."""
        if value not in (1, -1):
            raise BotkitError(f"a rating is 1 (thumb up) or -1 (thumb down), not {value!r}")
        with self.write():
            annotator = self._known_annotator(annotator)
            self.response(response_id)
            self.db.execute(
                "INSERT INTO ratings (response_id, annotator, value, reason, created_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(response_id, annotator) DO UPDATE SET value = excluded.value,"
                " reason = excluded.reason, created_at = excluded.created_at",
                [response_id, annotator, value, reason or "", now()])

    def ratings(self, annotator: str) -> dict[str, dict]:
        """`annotator`'s thumbs by response id: {"value": 1 | -1, "reason": ...}."""
        rows = self.db.query("SELECT response_id, value, reason FROM ratings WHERE annotator = ?", [annotator])
        return {r["response_id"]: {"value": r["value"], "reason": r["reason"]} for r in rows}

    # the ranking queue ----------------------------------------------------------------------------

    def next_pair(self, annotator: str, *, per_pair: int = 2, exclude=(), rng=None) -> dict | None:
        """A pair `annotator` has not judged, blind (no model versions) with a random left side.
        Pairs still short of `per_pair` judgements come first, those closest to it first, so several
        annotators rank the same pairs; about one in ten is a gold pair when any are left. Pairs in
        `exclude` (e.g. skipped ones) come only when nothing else is left."""
        rng = rng or random.Random()
        annotator = self._known_annotator(annotator)
        rows = list(self.db.query(
            "SELECT p.id, p.gold IS NOT NULL AS is_gold, count(c.id) AS n FROM pairs p"
            " LEFT JOIN comparisons c ON c.pair_id = p.id"
            " WHERE NOT EXISTS (SELECT 1 FROM comparisons m WHERE m.pair_id = p.id AND m.annotator = ?)"
            " GROUP BY p.id", [annotator]))
        if not rows:
            return None
        rows = [r for r in rows if r["id"] not in set(exclude)] or rows
        gold = [r for r in rows if r["is_gold"]]
        plain = [r for r in rows if not r["is_gold"]]
        pool = gold if gold and (not plain or rng.random() < GOLD_SHARE) else plain

        def priority(r):
            return (r["n"] < per_pair, r["n"] if r["n"] < per_pair else -r["n"])

        best = max(map(priority, pool))
        chosen = rng.choice([r for r in pool if priority(r) == best])
        row = self._one(
            "SELECT p.id, p.gold, q.text AS prompt, q.sources, q.plugin, a.id AS a_id, a.text AS a_text,"
            " b.id AS b_id, b.text AS b_text FROM pairs p JOIN prompts q ON q.id = p.prompt_id"
            " JOIN responses a ON a.id = p.a_id JOIN responses b ON b.id = p.b_id WHERE p.id = ?", [chosen["id"]])
        return {"pair_id": row["id"], "prompt": row["prompt"], "sources": json.loads(row["sources"] or "[]"),
                "plugin": row["plugin"], "a": {"id": row["a_id"], "text": row["a_text"]},
                "b": {"id": row["b_id"], "text": row["b_text"]}, "left": rng.choice(("a", "b")),
                "is_gold": row["gold"] is not None}

    def progress(self, annotator: str) -> dict:
        annotator = self._known_annotator(annotator)
        done = self._one("SELECT count(*) AS n FROM comparisons WHERE annotator = ?", [annotator])["n"]
        total = self._one("SELECT count(*) AS n FROM pairs")["n"]
        return {"done": done, "remaining": total - done}

    def comparisons(self, annotator: str | None = None, plugin: str | None = None) -> list[dict]:
        """Every judgement joined with its pair, prompt and both responses (model versions included)."""
        where, params = [], []
        if annotator is not None:
            where.append("c.annotator = ?")
            params.append(annotator)
        if plugin is not None:
            where.append("q.plugin = ?")
            params.append(plugin)
        return list(self.db.query(
            'SELECT c.pair_id, c.annotator, c.verdict, c.reason, c.seconds, c."left", c.created_at, c.updated_at,'
            " q.text AS prompt, q.messages, q.plugin, q.key AS prompt_key, p.a_id, p.b_id, a.text AS a_text,"
            " b.text AS b_text, a.model_version AS a_model, b.model_version AS b_model, p.gold,"
            " a.engine_messages AS a_engine_messages, b.engine_messages AS b_engine_messages,"
            " a.output AS a_output, b.output AS b_output"
            " FROM comparisons c JOIN pairs p ON p.id = c.pair_id JOIN prompts q ON q.id = p.prompt_id"
            " JOIN responses a ON a.id = p.a_id JOIN responses b ON b.id = p.b_id"
            + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY c.pair_id, c.annotator", params))

    # files and figures ----------------------------------------------------------------------------

    def import_trl(self, path, *, annotator: str = "import", keep_good: bool = False) -> dict:
        from botkit.feedback.trl_format import import_trl

        return import_trl(self, Path(path), annotator=annotator, keep_good=keep_good)

    def export_trl(self, out_path, *, ties: str = "skip", plugin: str | None = None, since: str | None = None,
                   min_agreement: float = 0.0, test_fraction: float = 0.0, seed: int = 0,
                   min_annotators: int = 1) -> dict:
        from botkit.feedback.trl_format import export_trl

        return export_trl(self, Path(out_path), ties=ties, plugin=plugin, since=since, min_agreement=min_agreement,
                          test_fraction=test_fraction, seed=seed, min_annotators=min_annotators)

    def stats(self) -> dict:
        from botkit.feedback.stats import preference_stats

        return preference_stats(self)
