"""Best-of-N chat drafts (setting `answer_candidates`, botkit.draft_ranking): N sampled drafts in one batch,
each checked as a streamed draft is; the best that passes is shown in the model's own words, ranked by
the promoted reward version once it beat brand similarity, else by similarity to the cited source."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from botkit.cli.commands import main
from botkit.config import load_settings
from botkit.dialogue import Bot, Reply
from botkit.errors import BotkitError
from botkit.feedback.registry import ModelRegistry
from botkit.feedback.training.reward import RewardScorer
from botkit.testing import FakeEngine

QUESTION = "How long is the Zephyr 3000 warranty?"
SHOUTING = "THE ZEPHYR 3000 ELECTRIC KETTLE IS COVERED FOR SEVEN YEARS FROM THE DATE OF PURCHASE!!!"
POLITE = "We are happy to say the Zephyr 3000 is covered for seven years from the date of purchase."
PLAIN = "Your Zephyr 3000 is covered for seven years from the date of purchase."
OFF_TOPIC = "I'm sorry for your loss. It's been a long day."
UNSUPPORTED = "Your Zephyr 3000 kettle has a seven-year warranty."  # "7 year" in a context the source lacks


class Recorded:
    """The real tiny engine, noting each generate_batch call (its chats, decoding and drafts)."""

    def __init__(self, engine):
        self.engine, self.batches = engine, []

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def generate_batch(self, chats, options):
        out = self.engine.generate_batch(chats, options)
        self.batches.append({"chats": chats, "options": options, "drafts": [g.text for g in out]})
        return out


def drafting_bot(embedder, docs, drafts: list[str], candidates: int | None = None) -> Bot:
    """A bot over `docs` whose model writes `drafts`, in turn, with `answer_candidates` = len(drafts)."""
    bot = Bot(load_settings(answer_candidates=candidates or len(drafts)), engine=FakeEngine(drafts),
              embedder=embedder)
    bot.knowledge.ingest(docs)
    return bot


def test_n_drafts_are_sampled_in_one_seeded_batch_call(settings, tiny_engine, embedder, docs):
    engine = Recorded(tiny_engine)
    bot = Bot(load_settings(answer_candidates=4), engine=engine, embedder=embedder)
    bot.knowledge.ingest(docs)
    reply = bot.respond(QUESTION, max_new_tokens=12)
    (batch,) = engine.batches
    assert len(batch["chats"]) == 4 and all(chat == reply.engine_messages for chat in batch["chats"])
    assert batch["options"].strategy == "sample" and batch["options"].seed == 0
    assert len(set(batch["drafts"])) > 1  # sampled, not four copies of one draft
    # The random model's drafts never pass the check: the quote of the sources, as with one draft.
    assert reply.grounding == "quoted" and "seven years" in reply.text and reply.draft in batch["drafts"]
    assert reply.usage["completion_tokens"] > 12  # every draft's tokens are counted
    assert bot.respond(QUESTION, max_new_tokens=12).draft == reply.draft  # seeded: runs repeat

    # answer_batch: two questions, four drafts each, still one call.
    engine.batches.clear()
    replies = bot.answer_batch([QUESTION, "How much does shipping cost?"], max_new_tokens=12)
    assert [len(b["chats"]) for b in engine.batches] == [8] and len(replies) == 2


def test_a_passing_draft_is_kept_over_a_quote(settings, embedder, docs):
    drafts = [OFF_TOPIC, UNSUPPORTED, PLAIN]
    one = drafting_bot(embedder, docs, drafts, candidates=1).respond(QUESTION)
    # Today's single draft fails: a quote. The draft stops at its first sentence that can never pass.
    assert one.grounding == "quoted" and one.draft and OFF_TOPIC.startswith(one.draft)

    reply = drafting_bot(embedder, docs, drafts).respond(QUESTION)
    assert reply.grounding == "generated" and reply.text == PLAIN + " [1]" and reply.draft == PLAIN
    assert reply.citations[0].source.endswith("warranty.md")
    assert "best of 3 drafts: 1 distinct passed" in reply.check and reply.ranker == ""  # nothing to rank

    none_pass = drafting_bot(embedder, docs, [OFF_TOPIC, UNSUPPORTED]).respond(QUESTION)
    assert none_pass.grounding == "quoted" and none_pass.text == one.text  # the same quote as today


def test_the_reward_version_ranks_drafts_once_it_beat_brand_similarity(settings, reward_version, embedder, docs):
    drafts = [OFF_TOPIC, SHOUTING, POLITE, PLAIN]  # three pass the check
    # Nothing promoted: the draft closest to the cited source sentence, which the shouting copy of it is.
    fallback = drafting_bot(embedder, docs, drafts).respond(QUESTION)
    assert fallback.ranker == "source_similarity" and fallback.draft == SHOUTING
    assert "3 distinct passed the check, ranked by source_similarity" in fallback.check

    # Brand copy that shouts makes brand similarity lose: the reward version orders the drafts now.
    registry = ModelRegistry.open(settings)
    won = registry.promote_reward(reward_version, embedder=embedder, examples=[SHOUTING, "HUGE SALE!!! NOW!!!"])
    assert won["ranks_best_of_n"]
    bot = drafting_bot(embedder, docs, drafts)
    reply = bot.respond(QUESTION)
    passing = [SHOUTING + " [1]", POLITE + " [1]", PLAIN + " [1]"]
    scores = RewardScorer.load(reward_version, settings).score([reply.engine_messages] * 3, passing)
    assert reply.ranker == "reward_version" and reply.text == passing[scores.index(max(scores))]
    assert "ranked by reward_version" in reply.check

    # Promoted without held-out pairs to show it beats brand similarity on: the fallback ranks again.
    (Path(registry.version(reward_version)["adapter_path"]) / "heldout.jsonl").unlink()
    assert not registry.promote_reward(reward_version, embedder=embedder, examples=[SHOUTING])["ranks_best_of_n"]
    assert drafting_bot(embedder, docs, drafts).respond(QUESTION).ranker == "source_similarity"


def test_one_candidate_keeps_streaming_piece_by_piece(settings, embedder, docs):
    two = "The Zephyr 3000 is covered for seven years. Each warranty period starts on the date of purchase."
    settings = load_settings(answer_sentences=2)
    streamed = Bot(settings, engine=FakeEngine([two]), embedder=embedder)
    streamed.knowledge.ingest(docs)
    *pieces, reply = streamed.stream(QUESTION)
    assert len(pieces) >= 3 and "".join(pieces) == reply.text and reply.grounding == "generated"

    drafted = Bot(settings.model_copy(update={"answer_candidates": 2}), engine=FakeEngine([two]), embedder=embedder)
    *pieces, best = drafted.stream(QUESTION)
    assert pieces == [best.text] and best.text == reply.text  # one piece, once the best draft is known
    assert isinstance(best, Reply)


@pytest.mark.parametrize("value", ["0", "-2", "17", "many"])
def test_bad_candidate_counts_are_one_clear_error(home, monkeypatch, capsys, value):
    monkeypatch.setenv("BOTKIT_ANSWER_CANDIDATES", value)
    with pytest.raises(BotkitError, match="answer_candidates"):
        load_settings()
    monkeypatch.delenv("BOTKIT_ANSWER_CANDIDATES")

    monkeypatch.setattr(sys, "argv", ["botkit", "eval", "grounding", "--candidates", value])
    monkeypatch.setattr(sys, "stdin", open(os.devnull))
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    if value == "many":  # not a number: typer's own usage message, as for every integer option
        assert exit_.value.code == 2 and "Traceback" not in err
        return
    assert exit_.value.code == 1 and "Traceback" not in err
    assert [line for line in err.splitlines() if line.strip()] == [
        f"error: --candidates must be from 1 to 16 drafts per answer, not {value}"]
