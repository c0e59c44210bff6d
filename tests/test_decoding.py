import pytest
from pydantic import ValidationError

from botkit.decoding import DecodingOptions
from botkit.models.engine import Generation

CHAT = [{"role": "user", "content": "Write something about kettles."}]


def test_strategies_map_to_generate_arguments():
    assert DecodingOptions().generate_kwargs()["do_sample"] is False
    beam = DecodingOptions(strategy="beam", num_beams=3).generate_kwargs()
    assert beam["num_beams"] == 3 and beam["do_sample"] is False
    sample = DecodingOptions(strategy="sample", temperature=0.9, top_k=20, top_p=0.8).generate_kwargs()
    assert (sample["do_sample"], sample["temperature"], sample["top_k"], sample["top_p"]) == (True, 0.9, 20, 0.8)


def test_unknown_or_out_of_range_options_are_rejected():
    with pytest.raises(ValidationError):
        DecodingOptions().merged(temprature=0.5)
    with pytest.raises(ValidationError):
        DecodingOptions(top_p=1.5)


def test_seed_makes_sampling_reproducible(tiny_engine):
    opts = DecodingOptions(strategy="sample", max_new_tokens=12, seed=7, temperature=1.5, top_k=0, top_p=1.0)
    first = tiny_engine.generate(CHAT, opts).text
    assert tiny_engine.generate(CHAT, opts).text == first
    others = {tiny_engine.generate(CHAT, opts.merged(seed=s)).text for s in range(8, 12)}
    assert others - {first}, "different seeds should give different samples from a random model"


def test_greedy_and_beam_are_deterministic(tiny_engine):
    for strategy in ("greedy", "beam"):
        opts = DecodingOptions(strategy=strategy, max_new_tokens=8, num_beams=2)
        a, b = tiny_engine.generate(CHAT, opts), tiny_engine.generate(CHAT, opts)
        assert a.text == b.text and a.completion_tokens > 0


def test_max_new_tokens_caps_the_completion(tiny_engine):
    out = tiny_engine.generate(CHAT, DecodingOptions(max_new_tokens=5, repetition_penalty=1.0))
    assert 0 < out.completion_tokens <= 5
    assert out.prompt_tokens == tiny_engine.count_tokens(CHAT)


def test_stop_sequence_cuts_the_text(tiny_engine):
    full = tiny_engine.generate(CHAT, DecodingOptions(max_new_tokens=20)).text
    assert len(full) > 6
    stop = full[3:6]
    cut = tiny_engine.generate(CHAT, DecodingOptions(max_new_tokens=20, stop=[stop])).text
    assert stop not in cut and full.startswith(cut)


def test_stream_yields_pieces_then_the_generation(tiny_engine):
    opts = DecodingOptions(max_new_tokens=10)
    items = list(tiny_engine.stream(CHAT, opts))
    final = items[-1]
    assert isinstance(final, Generation)
    assert "".join(items[:-1]).strip() == final.text == tiny_engine.generate(CHAT, opts).text


def test_batch_matches_single_generation(tiny_engine):
    chats = [CHAT, [{"role": "user", "content": "Hi"}]]
    opts = DecodingOptions(max_new_tokens=6)
    batch = tiny_engine.generate_batch(chats, opts)
    assert [g.text for g in batch] == [tiny_engine.generate(c, opts).text for c in chats]
