"""Answers checked sentence by sentence as the model writes them (botkit.streaming through Bot.stream):
what streams is only checked text, it streams before the draft is done, a failing sentence gives way
to the quote of the sources, and streamed and batched answers agree."""

from __future__ import annotations

import re

import pytest

from botkit.dialogue import Bot
from botkit.evidence import select_evidence
from botkit.grounding import check_answer
from botkit.knowledge.store import Chunk
from botkit.models.engine import Generation
from botkit.replies import Draft, Reply
from botkit.streaming import CheckedAnswer, failure_for_good

QUESTION = "How long is the warranty on the Zephyr 3000?"
GOOD = "The Zephyr 3000 electric kettle is covered for seven years."


class DraftingEngine:
    """Writes `draft` word by word, counting the words it has produced (`written`), and says
    "length" when it ran out of `max_new_tokens` words."""

    name, context_window = "drafting", 2048

    def __init__(self, draft: str):
        self.draft, self.written = draft, 0

    def count_tokens(self, messages):
        return sum(len(m["content"].split()) + 4 for m in messages)

    def stream(self, messages, options):
        words = re.findall(r"\S+\s*", self.draft)
        for word in words[:options.max_new_tokens]:
            self.written += 1
            yield word
        finish = "length" if len(words) > options.max_new_tokens else "stop"
        yield Generation(self.draft, self.count_tokens(messages), min(len(words), options.max_new_tokens), finish)

    def generate_batch(self, chats, options):
        out = []
        for chat in chats:
            *_, generation = self.stream(chat, options)
            out.append(generation)
        return out


@pytest.fixture
def ask(settings, embedder, docs):
    """ask(draft, **settings) -> (streamed items, the engine) for QUESTION over the sample documents."""
    knowledge = {}

    def run(draft: str, drafts: bool = False, decoding: dict | None = None, **changes):
        engine = DraftingEngine(draft)
        bot = Bot(settings.model_copy(update=changes), engine=engine, embedder=embedder)
        if "kb" not in knowledge:
            bot.knowledge.ingest(docs)
            knowledge["kb"] = True
        items = []
        for item in bot.stream(QUESTION, drafts=drafts, **(decoding or {})):
            items.append((item, engine.written))
        return items, engine

    return run


def texts(items) -> list[str]:
    return [item for item, _ in items if isinstance(item, str)]


def reply_of(items) -> Reply:
    return items[-1][0]


def test_a_checked_sentence_streams_before_the_draft_is_done_and_generation_stops(ask):
    rambling = f"{GOOD} It is also the best kettle in the whole wide world, say our many happy customers."
    items, engine = ask(rambling, answer_sentences=1)
    first, written = next((item, n) for item, n in items if isinstance(item, str))
    assert first == GOOD
    assert written == len(GOOD.split())  # sent as soon as its last word ("years. ") was written
    assert engine.written < len(rambling.split())  # the rest was never generated
    reply = reply_of(items)
    assert "".join(texts(items)) == reply.text == f"{GOOD} [1]"
    assert reply.grounding == "generated" and reply.citations[0].source.endswith("warranty.md")


def test_a_failing_sentence_is_replaced_by_the_quote(ask):
    items, _ = ask("The Zephyr 3000 is covered for five years. Call us!")
    streamed = texts(items)
    reply = reply_of(items)
    assert reply.grounding == "quoted" and "five" not in "".join(streamed)
    assert streamed == [reply.text] and "covered for seven years" in reply.text and reply.text.endswith("]")
    assert "numbers not in the sources" in reply.check


def test_a_later_unsupported_sentence_is_left_out(ask):
    items, _ = ask(f"{GOOD} It also includes free descaling by Zeus Corp forever.", answer_sentences=2)
    reply = reply_of(items)
    assert texts(items) == [GOOD, " [1]"]
    assert reply.grounding == "generated" and "left out" in reply.check


def test_a_sentence_is_held_until_the_next_one_brings_the_key_figure(ask):
    items, _ = ask("The Zephyr 3000 has a warranty. It is covered for seven years.", answer_sentences=2)
    assert texts(items) == ["The Zephyr 3000 has a warranty. It is covered for seven years.", " [1]"]


def test_the_model_draft_streams_apart_on_request(ask):
    items, _ = ask(GOOD, drafts=True)
    assert "".join(i.text for i, _ in items if isinstance(i, Draft)) == GOOD
    assert "".join(texts(items)) == reply_of(items).text


def test_an_answer_cut_by_max_tokens_says_length(ask):
    items, _ = ask("The Zephyr 3000 electric kettle is covered for seven years from the date",
                   decoding={"max_new_tokens": 11})
    reply = reply_of(items)
    assert reply.grounding == "generated" and reply.finish_reason == "length"
    items, _ = ask(GOOD)
    assert reply_of(items).finish_reason == "stop"


def test_a_sentence_certain_to_fail_stops_the_draft_before_its_end(ask):
    doomed = "The Zephyr 3000 kettle is made by Zeus Corp in a factory near the sea and it lasts for ages."
    items, engine = ask(doomed)
    streamed = texts(items)
    assert streamed == [reply_of(items).text] and "covered for seven years" in streamed[0]  # the quote, at once
    assert engine.written == len("The Zephyr 3000 kettle is made by Zeus".split())  # stopped once "Zeus " was out
    assert "names not in the sources" in reply_of(items).check


def test_a_misspelt_name_stops_the_draft_as_soon_as_its_word_is_finished(ask):
    items, engine = ask("The Zephyre 3000 kettle is covered for seven years.")
    assert texts(items) == [reply_of(items).text] and reply_of(items).grounding == "quoted"
    assert engine.written == 2  # "The Zephyre ": the start can no longer be padding, and the name is wrong


def test_a_start_that_may_still_be_filler_or_padding_is_not_judged(ask):
    items, _ = ask(f"According to the sources, {GOOD[0].lower()}{GOOD[1:]}")  # "According" is no name of theirs
    assert reply_of(items).grounding == "generated" and texts(items)[0] == GOOD
    items, _ = ask(f"I'm sorry for any confusion. {GOOD}")
    assert reply_of(items).grounding == "generated"


def test_a_complete_link_does_not_keep_a_doomed_sentence_going(ask):
    doomed = "The [kettle page](https://zeus.example/kettle) says the Zephyr 3000 is made by Zeus Corp near the sea."
    items, engine = ask(doomed)
    assert texts(items) == [reply_of(items).text] and "covered for seven years" in reply_of(items).text
    assert engine.written == len(doomed.split("Zeus")[0].split()) + 1  # stopped once "Zeus " was out


def test_padding_with_a_foreign_name_is_dropped_not_taken_for_a_failure(ask):
    items, _ = ask(f"I hope this helps with your Zeus Corp kettle, dear friend. {GOOD}")
    reply = reply_of(items)
    assert reply.grounding == "generated" and texts(items) == [GOOD, " [1]"]


@pytest.mark.parametrize("draft", [
    "The Zephyr 3000 kettle is made by Zeus Corp in a factory near the sea and it lasts for ages.",
    GOOD,
    f"I'm sorry for any confusion. {GOOD}",
    "The Zephyr 3000 is covered for five years.",
    f"{GOOD}\n\nAnything else? Visit zeus.example!",
    "",
])
def test_streamed_and_batched_answers_agree(ask, settings, embedder, draft):
    items, _ = ask(draft)
    bot = Bot(settings, engine=DraftingEngine(draft), embedder=embedder)
    (batched,) = bot.answer_batch([QUESTION])
    assert "".join(texts(items)) == reply_of(items).text == batched.text


WARRANTY = Chunk("c1", "Every Zephyr 3000 comes with a seven-year warranty. It holds 1.7 liters.", "/kb/zephyr.md",
                 "Zephyr 3000", 0.6)


def test_sentences_split_across_pieces_and_citations(embedder):
    evidence = select_evidence(QUESTION, [WARRANTY], embedder)
    answer = CheckedAnswer(QUESTION, evidence, embedder, lambda chunk: 1, max_sentences=1)
    sent = [answer.feed(piece) for piece in ["Every Zephyr 3000 comes with a seven", "-year warranty.[1", "] It holds"]]
    assert sent == [[], [], ["Every Zephyr 3000 comes with a seven-year warranty."]]
    assert answer.done  # one sentence was asked for: no more draft is wanted
    assert answer.feed(" 1.7 liters.") == [] and answer.finish() == [" [1]"]
    assert answer.text == "Every Zephyr 3000 comes with a seven-year warranty. [1]"


@pytest.mark.parametrize("sentence", [
    "Every Zephyr 3000 comes with a warranty of five years from Zeus.",
    "Every Zephyr 3000 made by Zeus Corp comes with a seven-year warranty.",
    "Every Zephyr 3000 kettle holds 2.5 liters and comes with a seven-year warranty.",
    "Every Zephyr 3000 kettle is not covered by any warranty at all, sadly.",  # the source says no "not"
    "Every Zephyr 3000 comes with 1.7 years of warranty and a free descaler.",  # 1.7 is the liters, not the years
    "Yes, every Zephyr 3000 comes with a seven-year warranty.",  # no source says yes to a "how long"
])
def test_a_start_that_fails_for_good_means_the_whole_sentence_fails_the_check(embedder, sentence):
    evidence = select_evidence(QUESTION, [WARRANTY], embedder)
    start = " ".join(sentence.split()[:9])
    assert failure_for_good(start, QUESTION, evidence)
    assert not check_answer(sentence, QUESTION, evidence, embedder).supported


def test_a_supported_sentence_never_looks_doomed_on_the_way(embedder):
    evidence = select_evidence(QUESTION, [WARRANTY], embedder)
    sentence = "Every Zephyr 3000 comes with a seven-year warranty."
    assert check_answer(sentence, QUESTION, evidence, embedder).supported
    words = sentence.split()
    assert not any(failure_for_good(" ".join(words[:n]), QUESTION, evidence) for n in range(1, len(words) + 1))
