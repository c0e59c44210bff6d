"""BatchingEngine in front of the llama.cpp engine: concurrent streams share one running batch and still
stream token by token, each to its own reader; a request that arrives mid-batch joins it at once; a
reader that leaves does not hold the others up; a task's batched call is served between streams."""

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


REPEATS = [[{"role": "user", "content": f"Repeat exactly: The {thing} is {colour}."}]
           for thing, colour in (("kettle", "blue"), ("mug", "red"), ("teapot", "green"))]


def test_concurrent_streams_share_a_batch_and_each_streams_its_own_answer(engine):
    from botkit.server.batching import BatchingEngine

    batcher = BatchingEngine(engine, max_batch=8, window=0.5)
    got = read_together(batcher, REPEATS, GREEDY, {})
    assert max(batcher.batches) > 1  # generated together
    for i, items in got.items():
        *pieces, last = items
        assert isinstance(last, Generation) and len(pieces) > 1  # token by token, not one block
        assert "".join(pieces).strip() == last.text
        assert ("blue", "red", "green")[i] in last.text.lower()  # its own chat's answer


def test_a_lone_stream_answers_as_the_engine_does_alone(engine):
    """Continuous batching keeps a lone request's greedy answer (rows that leave mid-batch free cells that
    later tokens fill, which may change sums in the last bits: batched answers can differ at near-ties)."""
    from botkit.server.batching import BatchingEngine

    batcher = BatchingEngine(engine, max_batch=8)
    for chat in CHATS:
        assert list(batcher.stream(chat, GREEDY))[-1].text == engine.generate(chat, GREEDY).text


def test_a_request_arriving_mid_batch_joins_it_instead_of_waiting_for_it(engine):
    from botkit.server.batching import BatchingEngine

    batcher = BatchingEngine(engine, max_batch=8)
    long, order = GREEDY.merged(max_new_tokens=200), []
    story = batcher.stream(CHATS[2], long)
    next(story), next(story)  # the story is decoding
    late = threading.Thread(target=lambda: order.append(list(batcher.stream(REPEATS[0], GREEDY))[-1].text))
    late.start()
    after = [item for item in story if order]  # what the story still told once the late chat had its answer
    late.join(timeout=600)
    assert "blue" in order[0].lower() and len(after) > 10  # answered while the story went on
    assert after[-1].completion_tokens == 200


def test_a_task_batch_asked_mid_stream_is_served_after_it(engine):
    from botkit.server.batching import BatchingEngine

    batcher = BatchingEngine(engine, max_batch=8)
    story, generations = batcher.stream(CHATS[2], GREEDY.merged(max_new_tokens=60)), []
    next(story)
    task = threading.Thread(target=lambda: generations.extend(batcher.generate_batch(REPEATS, GREEDY)))
    task.start()
    assert list(story)[-1].completion_tokens == 60
    task.join(timeout=600)
    assert [("blue", "red", "green")[i] in g.text.lower() for i, g in enumerate(generations)] == [True] * 3
    assert "blue" in list(batcher.stream(REPEATS[0], GREEDY))[-1].text.lower()  # streams go on after it


def test_a_reader_that_leaves_a_batch_does_not_hold_up_the_others(engine):
    from botkit.server.batching import BatchingEngine

    batcher = BatchingEngine(engine, max_batch=8, window=0.5)
    options = GREEDY.merged(max_new_tokens=40)
    got = read_together(batcher, CHATS, options, {2: 1})
    assert len(got[2]) == 1  # left after its first piece
    assert "blue" in got[0][-1].text.lower() and got[1][-1].completion_tokens >= 1
    # The model is free again at once: the next call is served.
    assert "blue" in batcher.generate(CHATS[0], GREEDY).text.lower()


def answer_alone(batch, chat, options) -> tuple[object, Generation, int]:
    """One chat through a running batch by itself: (its row, its generation, tokens decoded for it)."""
    before = batch.cells.tokens_decoded
    row = batch.join(chat, options)
    while row.finish is None:
        batch.step()
    generation = batch.result(row)
    batch.leave(row)
    batch.release()
    return row, generation, batch.cells.tokens_decoded - before


def test_a_chat_asked_again_reads_only_its_last_prompt_token_and_answers_the_same(engine):
    """A finished chat's cells stay (parked) while the batch runs on and between batches, so a support
    question asked again costs its reply, not its prompt; anything else the engine runs drops them."""
    batch = engine.continuous_batch()
    chat = [{"role": "system", "content": "You answer briefly."}, *REPEATS[1]]
    first, answer, cost = answer_alone(batch, chat, GREEDY)
    answer_alone(batch, REPEATS[2], GREEDY)  # another chat in between
    again, repeat, repeat_cost = answer_alone(batch, chat, GREEDY)
    assert again.start == len(again.prompt) - 1
    assert repeat.text == answer.text and "red" in repeat.text.lower()
    assert repeat_cost <= answer.completion_tokens + 1 < cost
    engine.generate(REPEATS[0], GREEDY)  # the engine's own call clears what serving parked
    assert not engine.cells.parked
    assert answer_alone(batch, chat, GREEDY)[0].start < again.start


@pytest.fixture(scope="module")
def unified_engine(default_dir):
    """The engine with one pool of cells for every chat (`engines.llamacpp.kv_unified`)."""
    from botkit.config import load_settings
    from botkit.models.loading import load_engine

    settings = load_settings()
    settings.engines.llamacpp.kv_unified, settings.engines.llamacpp.context = True, 4096
    return load_engine("default", engine="llamacpp", settings=settings)


def test_parked_chats_give_way_when_one_pool_of_cells_runs_short(unified_engine):
    engine = unified_engine
    engine.generate(CHATS[1], GREEDY)  # nothing parked from before
    batch = engine.continuous_batch()
    for chat in REPEATS:
        answer_alone(batch, chat, GREEDY)
    assert len(engine.cells.parked) == len(REPEATS)
    every_cell = engine.context_window - engine.count_tokens(CHATS[1]) - 1
    row = batch.join(CHATS[1], GREEDY.merged(max_new_tokens=every_cell))
    assert row is not None and len(engine.cells.parked) < len(REPEATS)
    batch.leave(row)
    batch.release()


def test_with_cells_of_its_own_a_chat_uses_its_whole_window_beside_parked_chats(engine):
    """Each chat decodes in a stream of cells of its own: a chat as long as the window needs no parked
    chat dropped, and a parked chat asked again still reads only its last prompt token."""
    engine.generate(CHATS[1], GREEDY)  # nothing parked from before
    batch = engine.continuous_batch()
    for chat in REPEATS:
        answer_alone(batch, chat, GREEDY)
    every_cell = engine.context_window - engine.count_tokens(CHATS[2]) - 1
    answer_alone(batch, CHATS[2], GREEDY.merged(max_new_tokens=every_cell))
    assert len(engine.cells.parked) == len(REPEATS) + 1
    again = answer_alone(batch, REPEATS[0], GREEDY)[0]
    assert again.start == len(again.prompt) - 1


def test_chats_decoded_together_answer_as_each_alone(engine):
    """With a stream of cells each, a row's attention sees its own cells in position order whatever else
    runs beside it, so a batched greedy answer is the chat's answer alone (word for word where the words are asked
    for, the same opening where they are not)."""
    from botkit.server.batching import BatchingEngine

    chats = [*REPEATS, *CHATS]
    alone = [engine.generate(chat, GREEDY).text for chat in chats]
    got = read_together(BatchingEngine(engine, max_batch=8, window=0.5), chats, GREEDY, {})
    together = [items[-1].text for _, items in sorted(got.items())]
    # A chat that asks for exact words gets them; an open-ended one ("Write a long story") may part at a near tie
    # ("there lived" / "there was"): llama.cpp's sums are not batch-invariant, so the last bits of a logit depend on
    # what ran beside it and when. A row reading another row's cells would part from its own answer at once.
    for chat, mine, theirs in zip(chats, together, alone):
        if chat[0]["content"].startswith("Repeat exactly"):
            assert mine == theirs
        else:
            assert mine.split()[:8] == theirs.split()[:8], (mine, theirs)
