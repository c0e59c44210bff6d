"""Property tests (hypothesis) of three contracts any input must keep: the ranking store gives back
any unicode text it was given (also through a TRL export and import), prompt assembly never goes
over the token limit and never drops the question, and the chunker loses no text and makes no
chunk over its limit."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from botkit.database import open_database
from botkit.errors import BotkitError
from botkit.feedback.store import RankingStore
from botkit.knowledge.chunking import SectionChunker
from botkit.knowledge.sections import Section
from botkit.prompting.budget import PromptParts, fit

# Any text a user could paste: every unicode category but lone surrogates (which no UTF-8 input holds),
# NUL, line and paragraph separators, right-to-left marks and emoji included.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
NONBLANK = TEXT.filter(lambda t: t.strip())
# Hypothesis runs hundreds of examples; the tokenizer and SQLite are real, so keep each example small.
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])


# the ranking store -----------------------------------------------------------------------------------

@FAST
@given(prompt=NONBLANK, first=TEXT, second=TEXT, annotator=NONBLANK, reason=TEXT, model=NONBLANK)
def test_the_store_gives_back_any_text_it_was_given(prompt, first, second, annotator, reason, model):
    assume(first.strip() != second.strip())
    with tempfile.TemporaryDirectory() as tmp:
        store = RankingStore(open_database(Path(tmp) / "botkit.db"))
        a = store.log_response(prompt, first, model=model, plugin=None)
        b = store.log_response(prompt, second, model=model, plugin=None)
        name = store.add_annotator(annotator)
        store.record_comparison(store.add_pair(a, b), name, "a", reason=reason)
        assert (store.response(a)["text"], store.response(b)["text"]) == (first, second)
        assert store.response(a)["prompt"] == prompt.strip() and store.response(a)["model_version"] == model
        (judged,) = store.comparisons()
        assert (judged["annotator"], judged["reason"]) == (annotator.strip(), reason)
        store.db.conn.close()


@FAST
@given(prompt=NONBLANK, chosen=TEXT, rejected=TEXT)
@example(prompt="Line\u2028separator?", chosen="ok\x85next\u2029para\x0bvt\x1cfs", rejected="\x00nul")
def test_an_exported_pair_imports_back_identical(prompt, chosen, rejected):
    """Export writes raw unicode (U+2028, U+0085, NUL...) into JSONL; import must read the same text."""
    assume(chosen.strip() != rejected.strip())
    with tempfile.TemporaryDirectory() as tmp:
        source = RankingStore(open_database(Path(tmp) / "a.db"))
        a = source.log_response(prompt, chosen, model="m1")
        b = source.log_response(prompt, rejected, model="m2")
        source.add_annotator("ann")
        pair = source.add_pair(a, b)
        source.record_comparison(pair, "ann", "a" if source.pair(pair)["a_id"] == a else "b")
        source.export_trl(Path(tmp) / "pairs.jsonl")
        target = RankingStore(open_database(Path(tmp) / "b.db"))
        assert target.import_trl(Path(tmp) / "pairs.jsonl")["pairs"] == 1
        (row,) = target.comparisons()
        winner, loser = ("a", "b") if row["verdict"] == "a" else ("b", "a")
        assert (row["prompt"], row[f"{winner}_text"], row[f"{loser}_text"]) == (prompt.strip(), chosen, rejected)
        source.db.conn.close()
        target.db.conn.close()


# prompt assembly ------------------------------------------------------------------------------------

WORDS = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=400)


@FAST
@given(system=WORDS, question=WORDS.filter(lambda t: t.strip()),
       examples=st.lists(st.fixed_dictionaries({"input": WORDS, "output": WORDS}), max_size=4),
       sources=st.lists(WORDS, max_size=5), history_turns=st.lists(st.tuples(WORDS, WORDS), max_size=4),
       limit=st.integers(50, 1500))
def test_the_prompt_never_goes_over_the_limit_and_keeps_the_question(tiny_engine, system, question, examples,
                                                                     sources, history_turns, limit):
    count = tiny_engine.count_tokens  # what the bot counts with: the default model's tokenizer and chat template
    history = [m for user, bot in history_turns
               for m in ({"role": "user", "content": user}, {"role": "assistant", "content": bot})]
    parts = PromptParts(system, question, examples, [f"[{i}] {s}" for i, s in enumerate(sources, 1)], history)
    try:
        messages, dropped = fit(parts, count, limit)
    except BotkitError:
        # Only when the part that is never cut (system, question, the best source) is over the limit.
        alone = PromptParts(system, question, sources=parts.sources[:1])
        assert count(alone.messages()) > limit
        return
    assert count(messages) <= limit
    assert messages[0] == {"role": "system", "content": system}
    assert messages[-1]["role"] == "user" and question in messages[-1]["content"]
    assert dropped["sources"] < max(len(sources), 1)  # the best source always stays
    kept_history = messages[1 + 2 * (len(examples) - dropped["examples"]):-1]
    assert kept_history == history[dropped["history_messages"]:]  # the oldest turns go first, whole


# the chunker ----------------------------------------------------------------------------------------

UNIT = st.one_of(
    TEXT,
    st.lists(st.sampled_from(["Kettles", "boil", "water.", "The", "Zephyr", "3000", "ships", "in", "2", "days!",
                              "Naïve", "café", "€40", "a.m.", "e.g.", "—", "漢字", "🙂", "Q:", "A:", "\n"]),
             max_size=400).map(" ".join),
    st.text(st.sampled_from("abc xyz.!?"), max_size=3000),  # long runs with and without full stops
)


def _visible(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _in_order(needle: str, haystack: str) -> bool:
    """Every character of `needle` appears in `haystack`, in the same order."""
    rest = iter(haystack)
    return all(ch in rest for ch in needle)


@FAST
@given(units=st.lists(UNIT, min_size=1, max_size=6), chunk_tokens=st.integers(32, 256),
       overlap=st.integers(0, 64), qa=st.booleans())
def test_chunks_lose_no_text_and_stay_within_the_limit(embedder, units, chunk_tokens, overlap, qa):
    tokenizer = embedder.tokenizer
    if qa:  # a question-answer pair, as the CSV/JSONL loaders make them
        units = [f"Q: {units[0].strip() or 'Why?'}\nA: {' '.join(units[1:]) or 'Because.'}"]
    chunker = SectionChunker(tokenizer, chunk_tokens, overlap)
    chunks = chunker.chunks([Section(("Doc", "Part"), units)])
    for chunk in chunks:
        assert chunker.tokens(chunk.text) <= chunk_tokens, (chunk_tokens, chunk.text)
    # Overlap repeats text, so what is kept is a (non-whitespace) character subsequence of all the chunks.
    everything = _visible("".join(c.text for c in chunks))
    for unit in units:
        assert _in_order(_visible(unit), everything)
