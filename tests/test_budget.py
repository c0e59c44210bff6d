import pytest

from botkit.errors import BotkitError
from botkit.prompting.budget import PromptParts, fit


def words(messages):
    """A stand-in token counter: one token per word (the real one is tested end to end)."""
    return sum(len(m["content"].split()) for m in messages)


def parts():
    return PromptParts(
        system="You are helpful.",
        question="How long is the warranty?",
        examples=[{"input": "hi " * 5, "output": "hello " * 5}, {"input": "q " * 5, "output": "a " * 5}],
        sources=["[1] " + "fact " * 10, "[2] " + "other " * 10],
        history=[{"role": "user", "content": "old " * 20}, {"role": "assistant", "content": "reply " * 20},
                 {"role": "user", "content": "newer " * 5}, {"role": "assistant", "content": "reply " * 5}],
    )


def test_everything_fits_nothing_dropped():
    messages, dropped = fit(parts(), words, 10_000)
    assert dropped == {"history_messages": 0, "examples": 0, "sources": 0}
    assert messages[0]["role"] == "system" and "How long is the warranty?" in messages[-1]["content"]


def test_oldest_history_goes_first_then_examples_then_sources():
    full = words(parts().messages())
    messages, dropped = fit(parts(), words, full - 30)
    assert dropped == {"history_messages": 2, "examples": 0, "sources": 0}
    assert "old" not in " ".join(m["content"] for m in messages) and "newer" in messages[-3]["content"]

    messages, dropped = fit(parts(), words, full - 60)
    assert dropped["history_messages"] == 4 and dropped["examples"] >= 1 and dropped["sources"] == 0

    minimal = PromptParts("You are helpful.", "How long is the warranty?", sources=["[1] " + "fact " * 10])
    messages, dropped = fit(parts(), words, words(minimal.messages()))
    assert dropped == {"history_messages": 4, "examples": 2, "sources": 1}
    assert "[1] fact" in messages[-1]["content"] and "[2]" not in messages[-1]["content"]


def test_message_longer_than_the_window_is_a_clear_error():
    too_long = PromptParts("sys", "word " * 500, sources=["[1] x"])
    with pytest.raises(BotkitError, match="message is too long"):
        fit(too_long, words, 100)
