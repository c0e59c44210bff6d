"""Quotes: a table row's "Column: value" is a label, not a hole; a row about macOS is about the Mac."""

from botkit.evidence import Evidence
from botkit.grounding import has_hole, quote_answer
from botkit.knowledge.store import Chunk

ROW = Chunk("r", "2.0: Released: 9 September 2025, Security fixes until: 1 March 2027",
            "/kb/releases.html", "Support dates", 0.5)
PROSE = Chunk("p", "Version 1 is no longer developed.", "/kb/releases-1.md", "Version 1", 0.4)


def test_a_row_whose_column_ends_in_until_is_quoted():
    evidence = [Evidence(ROW.text, ROW, 0.7), Evidence(PROSE.text, PROSE, 0.6)]
    numbers = {}
    quote = quote_answer(evidence, lambda chunk: numbers.setdefault(chunk.id, len(numbers) + 1),
                         "When did version 2.0 come out?")
    assert quote.startswith("2.0: Released: 9 September 2025")


def test_a_colon_that_ends_the_sentence_is_still_a_hole():
    assert has_hole("Next-day orders are taken until: [1]")
    assert not has_hole("Security fixes until: 1 March 2027 [1]")


def test_a_row_about_macos_answers_a_question_about_a_mac():
    # "Mac" is not a word of the row, but "macOS" names it: the row is not about another product.
    keys = Chunk("k", "Quick switcher (jump to a note): Windows and Linux: Ctrl+K, macOS: ⌘K",
                 "/kb/keys.html", "Keyboard shortcuts", 0.5)
    other = Chunk("o", "To see the full list, press Ctrl+/ (⌘+/ on a Mac).", "/kb/keys.html", "Keyboard shortcuts", 0.5)
    evidence = [Evidence(keys.text, keys, 0.7), Evidence(other.text, other, 0.6)]
    numbers = {}
    quote = quote_answer(evidence, lambda chunk: numbers.setdefault(chunk.id, len(numbers) + 1),
                         "How do I open the quick switcher on my Mac?")
    assert "macOS: ⌘K" in quote
