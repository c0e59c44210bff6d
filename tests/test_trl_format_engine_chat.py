"""Export trains on what the model saw: a logged chat answer's exported prompt is the chat the engine
received (system, sources, the question) and its completion the model's own output, with the question in
provenance; rows logged before chats were kept export as before; export and training split alike."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from botkit.database import MIGRATIONS, open_database
from botkit.dialogue import Bot
from botkit.feedback.store import RankingStore
from botkit.feedback.training.data import preferences_from_store, read_preference_file, split
from botkit.feedback.trl_format import export_trl

QUESTION = "How long is the warranty on the kettle?"


class EngineSpy:
    """The real tiny engine, noting every chat it is asked to answer."""

    def __init__(self, engine):
        self.engine, self.chats = engine, []

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def stream(self, messages, options):
        self.chats.append(messages)
        return self.engine.stream(messages, options)

    def generate_batch(self, chats, options):
        self.chats.extend(chats)
        return self.engine.generate_batch(chats, options)


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def spied_bot(settings, tiny_engine, embedder, docs):
    spy = EngineSpy(tiny_engine)
    bot = Bot.from_config(settings, engine=spy, embedder=embedder)
    bot.knowledge.ingest(docs)
    return bot, spy


def test_export_prompt_is_the_chat_the_engine_saw_and_completions_the_models_outputs(spied_bot, tmp_path):
    bot, spy = spied_bot
    shown = bot.respond(QUESTION)  # logged by the bot: the random model's draft is replaced by a quote
    assert shown.grounding == "quoted" and shown.draft.strip() and shown.draft.strip() != shown.text
    seen = spy.chats[-1]
    assert seen[0]["role"] == "system" and "Sources" in seen[-1]["content"] and QUESTION in seen[-1]["content"]
    # A second sampled answer is quoted the same, so (as the chat's Compare does) its draft is what gets ranked.
    other = bot.answer(QUESTION, strategy="sample", seed=7)
    store = RankingStore(bot.db)
    other_id = store.log_response(QUESTION, other.draft.strip(), model=other.model, origin="compare",
                                  engine_messages=other.engine_messages, output=other.draft.strip())
    bot.record_feedback(other_id, other_id=shown.id, verdict="a", annotator="maya")
    # A surface logging the shown answer again without its chat (the app's thumbs) names the same response.
    again = store.log_response(QUESTION, shown.text, model=shown.model, decoding=bot.settings.decoding.model_dump())
    assert again == shown.id and store.response(again)["engine_messages"] == seen

    report = export_trl(store, tmp_path / "pairs.jsonl")
    assert report["train"] == 1
    [row] = read(tmp_path / "pairs.jsonl")
    assert row["prompt"] == seen and spy.chats[-1] == seen  # both answers were asked in the same chat
    assert row["chosen"] == [{"role": "assistant", "content": other.draft.strip()}]
    assert row["rejected"] == [{"role": "assistant", "content": shown.draft.strip()}]  # not the quote shown
    provenance = row["provenance"]
    assert provenance["question"] == QUESTION and provenance["prompt_from"] == "engine-chat"
    assert (provenance["chosen_from"], provenance["rejected_from"]) == ("model-output", "model-output-not-shown")

    # Asked for, the texts people were shown are exported instead, and provenance says so.
    export_trl(store, tmp_path / "shown.jsonl", completion="shown")
    [shown_row] = read(tmp_path / "shown.jsonl")
    assert shown_row["rejected"] == [{"role": "assistant", "content": shown.text}]
    assert shown_row["provenance"]["rejected_from"] == "shown-text-not-model-output"

    # Training reads the same shape: the engine's chat as the prompt, the question as the split's key.
    [trained] = preferences_from_store(bot.settings)
    assert trained["prompt"] == seen and trained["question"] == QUESTION
    assert trained["chosen"] == other.draft.strip() and trained["rejected"] == shown.draft.strip()


def test_a_plugin_answer_logs_its_chat_and_the_candidate_the_model_wrote(bot):
    result = bot.run_task("ad_copy", "The Zephyr 3000 kettle", n=1)
    row = RankingStore(bot.db).response(result.id)
    assert row["engine_messages"] == result.engine_messages and result.engine_messages[0]["role"] == "system"
    assert result.engine_messages[-1] == {"role": "user", "content": "The Zephyr 3000 kettle"}
    # The random model's copy may fail every check; then no candidate was shown and none is kept.
    assert row["output"] == result.model_output
    assert result.model_output is None or result.model_output in result.text


def test_best_of_n_notes_the_candidate_shown_first_as_the_models_output(tiny_engine):
    from botkit.decoding import DecodingOptions
    from botkit.tasks.best_of_n import best_of_n
    from botkit.tasks.model import model_calls

    messages = [{"role": "system", "content": "Write one subject line."}, {"role": "user", "content": "Kettles"}]
    with model_calls() as call:
        shown = best_of_n(tiny_engine, messages, samples=4, keep=2, limit=400,
                          scorer=lambda texts: [-len(t) for t in texts], decoding=DecodingOptions(max_new_tokens=12))
    assert shown and call.messages == messages and call.output == shown[0].text


def old_store(path: Path) -> RankingStore:
    """A store as botkit wrote it before responses kept the engine's chat (schema 6), then opened now."""
    raw = sqlite_utils.Database(sqlite3.connect(path, isolation_level=None))
    for migration in MIGRATIONS[:6]:
        migration(raw)
    raw.execute("PRAGMA user_version = 6")
    stamp = "2026-11-01T09:00:00+00:00"
    raw.execute("INSERT INTO annotators (name, created_at, admin) VALUES ('maya', ?, 0)", [stamp])
    raw.execute("INSERT INTO prompts (id, key, text, origin, created_at) VALUES (1, 'k', ?, 'chat', ?)",
                [QUESTION, stamp])
    for rid, text in (("r_a", "Seven years from purchase [1]."), ("r_b", "I'm sorry for your loss.")):
        raw.execute("INSERT INTO responses (id, prompt_id, text, model_version, origin, created_at)"
                    " VALUES (?, 1, ?, 'v1', 'chat', ?)", [rid, text, stamp])
    raw.execute("INSERT INTO pairs (id, prompt_id, a_id, b_id, origin, created_at)"
                " VALUES (1, 1, 'r_a', 'r_b', 'chat', ?)", [stamp])
    raw.execute("INSERT INTO comparisons (pair_id, annotator, verdict, \"left\", created_at, updated_at)"
                " VALUES (1, 'maya', 'a', 'a', ?, ?)", [stamp, stamp])
    raw.conn.close()
    return RankingStore(open_database(path))  # migrates


def test_rows_logged_before_chats_were_kept_still_export_and_say_so(tmp_path):
    store = old_store(tmp_path / "old.db")
    assert store.response("r_a")["engine_messages"] is None
    report = export_trl(store, tmp_path / "old.jsonl")
    assert report["train"] == 1
    [row] = read(tmp_path / "old.jsonl")
    assert (row["prompt"], row["chosen"], row["rejected"]) == (
        QUESTION, "Seven years from purchase [1].", "I'm sorry for your loss.")
    provenance = row["provenance"]
    assert (provenance["prompt_from"], provenance["chosen_from"], provenance["rejected_from"]) == (
        "question", "shown-text", "shown-text")


def chat(question: str, source: str) -> list[dict]:
    return [{"role": "system", "content": "You are Kettlebrook's assistant."},
            {"role": "user", "content": f"Sources:\n<<<\n[1] {source}\n>>>\n\nQuestion: {question}"}]


def test_export_and_training_hold_out_the_same_questions_even_when_their_chats_differ(settings, tmp_path):
    store = RankingStore.open(settings)
    store.add_annotator("maya")
    for n in range(12):
        question = f"Question {n} about the kettle?"
        # Two versions fitted different sources into their chats for the same question.
        ids = [store.log_response(question, f"answer {n} from {version}", model=version,
                                  engine_messages=chat(question, f"source seen by {version}"),
                                  output=f"answer {n} from {version}") for version in ("v1", "v2")]
        pair = store.add_pair(*ids)
        store.record_comparison(pair, "maya", "a")
        third = store.log_response(question, f"third answer {n}", model="v3",
                                   engine_messages=chat(question, "another source"), output=f"third answer {n}")
        store.record_comparison(store.add_pair(ids[0], third), "maya", "b")

    export_trl(store, tmp_path / "pairs.jsonl", test_fraction=0.25, seed=3)
    exported = {side: {r["provenance"]["question"] for r in read(tmp_path / name)}
                for side, name in (("train", "pairs.jsonl"), ("test", "pairs.test.jsonl"))}
    assert len(exported["test"]) == 3 and not exported["train"] & exported["test"]
    # The held-out questions' rows were asked in several different chats, all of them held out.
    test_prompts = {json.dumps(r["prompt"]) for r in read(tmp_path / "pairs.test.jsonl")}
    assert len(test_prompts) > len(exported["test"])

    for rows in (read_preference_file(tmp_path / "pairs.jsonl") + read_preference_file(tmp_path / "pairs.test.jsonl"),
                 preferences_from_store(settings)):
        train, heldout = split(rows, 0.25, 3)
        assert {r["question"] for r in heldout} == exported["test"]
        assert {r["question"] for r in train} == exported["train"]


def test_an_exported_file_imports_back_as_the_same_rows(spied_bot, tmp_path):
    bot, _ = spied_bot
    shown = bot.respond(QUESTION)
    other = bot.answer(QUESTION, strategy="sample", seed=3)
    store = RankingStore(bot.db)
    other_id = store.log_response(QUESTION, other.draft.strip(), model=other.model, origin="compare",
                                  engine_messages=other.engine_messages, output=other.draft.strip())
    bot.record_feedback(shown.id, other_id=other_id, verdict="b", annotator="maya")
    export_trl(store, tmp_path / "out.jsonl")

    fresh = RankingStore(open_database(tmp_path / "fresh.db"))
    assert fresh.import_trl(tmp_path / "out.jsonl")["pairs"] == 1
    export_trl(fresh, tmp_path / "again.jsonl")
    [before], [after] = read(tmp_path / "out.jsonl"), read(tmp_path / "again.jsonl")
    assert [after[k] for k in ("prompt", "chosen", "rejected")] == [before[k] for k in ("prompt", "chosen", "rejected")]
    assert after["provenance"]["question"] == QUESTION and after["provenance"]["prompt_from"] == "engine-chat"
