"""BatchingEngine in front of the llama.cpp engine: concurrent streams share one batch and still
stream token by token, each to its own reader; a reader that leaves does not hold the others up."""

import importlib.util
import threading

import pytest

from botkit.decoding import DecodingOptions
from botkit.models.engine import Generation

NO_LLAMA = importlib.util.find_spec("llama_cpp") is None
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(NO_LLAMA, reason="llama-cpp-python is not installed")]

CHATS = [[{"role": "user", "content": q}] for q in
         ("Repeat exactly: The kettle is blue.", "Name a colour.", "Write a long story about a kettle.")]
GREEDY = DecodingOptions(max_new_tokens=24, repetition_penalty=1.0)


@pytest.fixture(scope="module")
def engine(default_dir):
    from botkit.config import load_settings
    from botkit.models.loading import load_engine

    return load_engine("default", engine="llamacpp", settings=load_settings())


def read_together(batcher, chats, options, leave_after: dict[int, int]) -> dict[int, list]:
    """Each chat streamed on its own thread, all started together; chat i's reader leaves after
    `leave_after[i]` pieces. What each reader got, in order."""
    got: dict[int, list] = {i: [] for i in range(len(chats))}
    start = threading.Barrier(len(chats))

    def read(i):
        start.wait()
        for item in batcher.stream(chats[i], options):
            got[i].append(item)
            if len(got[i]) == leave_after.get(i):
                break

    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(chats))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    return got


def test_concurrent_streams_share_a_batch_and_each_streams_its_own_answer(engine):
    from botkit.server.batching import BatchingEngine

    batcher = BatchingEngine(engine, max_batch=8, window=0.5)
    got = read_together(batcher, CHATS, GREEDY, {})
    assert max(batcher.batches) > 1  # generated together
    batched = engine.generate_batch(CHATS, GREEDY)
    for i, items in got.items():
        *pieces, last = items
        assert isinstance(last, Generation) and len(pieces) > 1  # token by token, not one block
        assert "".join(pieces).strip() == last.text == batched[i].text


def test_a_reader_that_leaves_a_batch_does_not_hold_up_the_others(engine):
    from botkit.server.batching import BatchingEngine

    batcher = BatchingEngine(engine, max_batch=8, window=0.5)
    options = GREEDY.merged(max_new_tokens=40)
    got = read_together(batcher, CHATS, options, {2: 1})
    assert len(got[2]) == 1  # left after its first piece
    assert "blue" in got[0][-1].text.lower() and got[1][-1].completion_tokens >= 1
    # The model is free again at once: the next call is served.
    assert "blue" in batcher.generate(CHATS[0], GREEDY).text.lower()
