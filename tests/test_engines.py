"""The engine seam: stop strings in streams, scoring (exact and by generation), and choosing an
engine by setting or plugin, with transformers as the fallback when llama.cpp is missing."""

import logging
import math
import types

import pytest

from botkit.decoding import DecodingOptions
from botkit.errors import BotkitError
from botkit.hookspecs import hookimpl
from botkit.models import loading
from botkit.models.engine import StopScanner, score_by_generation
from botkit.models.transformers_engine import TransformersEngine
from botkit.testing import FakeEngine


def test_a_stream_never_shows_text_a_stop_string_will_cut():
    scanner = StopScanner(["\nUser:", "###"])
    shown = [scanner.feed(p) for p in ["Hello", " there\n", "Us", "er: hi", " more"]]
    assert "".join(shown) == "Hello there" and scanner.stopped and scanner.text == "Hello there"
    assert shown[1] == " there"  # the newline waits: it may start a stop string
    loose = StopScanner(["###"])
    assert loose.feed("a #") == "a " and loose.feed("b") == "#b" and loose.flush() == ""


def test_scoring_by_generation_picks_the_label_the_model_writes():
    chat = [{"role": "user", "content": "meh"}]
    assert score_by_generation(FakeEngine(["Negative, clearly."]), chat, ["positive", "negative"]) == [-math.inf, 0.0]
    assert score_by_generation(FakeEngine(["No idea"]), chat, ["a b", "c"]) == [-math.inf] * 2


def test_transformers_scores_reuse_the_shared_prefix_without_changing_them(tiny_engine):
    import torch

    examples = [{"role": "system", "content": "Label the sentiment. " * 5}]
    first = tiny_engine.score(examples + [{"role": "user", "content": "I love it"}], ["positive", "negative"])
    second = tiny_engine.score(examples + [{"role": "user", "content": "It broke"}], ["positive", "negative"])
    # From scratch: one forward pass over the whole prompt, no cache.
    tok = tiny_engine.tokenizer
    prompt = tok(tiny_engine.render(examples + [{"role": "user", "content": "It broke"}]), add_special_tokens=False)
    with torch.inference_mode():
        logits = tiny_engine.model(input_ids=torch.tensor([prompt["input_ids"]])).logits[0, -1].log_softmax(-1)
    expected = [float(logits[tok(w, add_special_tokens=False)["input_ids"][0]]) for w in ("positive", "negative")]
    assert second == pytest.approx(expected, abs=1e-4) and first != second
    two_words = tiny_engine.score(examples + [{"role": "user", "content": "x"}], ["very good", "bad"])
    assert all(s < 0 for s in two_words)


def test_generation_that_runs_out_of_tokens_says_length(tiny_engine):
    chat = [{"role": "user", "content": "Hi"}]
    out = tiny_engine.generate(chat, DecodingOptions(max_new_tokens=3, repetition_penalty=1.0))
    assert out.completion_tokens == 3 and out.finish_reason == "length"
    *pieces, last = list(tiny_engine.stream(chat, DecodingOptions(max_new_tokens=3)))
    assert last.finish_reason == "length" and "".join(pieces).strip() == last.text


def test_engine_setting_picks_the_engine_and_names_the_choices(tiny_model_dir, settings):
    engine = loading.load_engine(str(tiny_model_dir), settings=settings.model_copy(update={"engine": "transformers"}))
    assert isinstance(engine, TransformersEngine)
    assert isinstance(loading.load_engine(str(tiny_model_dir), settings=settings), TransformersEngine)  # auto: no GGUF
    choices = r"\(engines: auto, llamacpp, openai, transformers, vllm\)"
    with pytest.raises(BotkitError, match=r"unknown engine 'nope' " + choices):
        loading.load_engine(str(tiny_model_dir), engine="nope", settings=settings)
    with pytest.raises(BotkitError, match="engine llamacpp runs GGUF files|needs llama-cpp-python"):
        loading.load_engine(str(tiny_model_dir), engine="llamacpp", settings=settings)


def test_a_plugin_registers_an_engine_users_pick_by_name(settings):
    from botkit.plugins import plugin_manager

    made = []
    plugin = types.SimpleNamespace(register_engines=hookimpl(
        lambda register: register("canned", lambda spec, settings, adapter=None: made.append(spec) or FakeEngine())))
    pm = plugin_manager()
    pm.register(plugin, "canned-engine")
    try:
        engine = loading.load_engine("any-model", engine="canned", settings=settings)
        assert isinstance(engine, FakeEngine) and made == ["any-model"]
        clash = types.SimpleNamespace(register_engines=hookimpl(lambda register: register("openai", None)))
        pm.register(clash, "clash")
        with pytest.raises(BotkitError, match="two plugins register an engine named 'openai'"):
            loading.engine_loaders()
        pm.unregister(clash)
    finally:
        pm.unregister(plugin)


def test_without_llama_cpp_the_default_model_runs_on_transformers_and_says_so_once(
        settings, default_dir, monkeypatch, caplog):
    monkeypatch.setattr(loading, "llamacpp_installed", lambda: False)
    monkeypatch.setattr(loading, "_said", set())
    with caplog.at_level(logging.WARNING, logger="botkit"):
        first = loading.load_engine("default", settings=settings)
        loading.load_engine("default", settings=settings)
    assert isinstance(first, TransformersEngine)
    notes = [r.message for r in caplog.records if "llama-cpp-python is not installed" in r.message]
    assert len(notes) == 1 and "pip install 'botkit[llamacpp]'" in notes[0]
    with pytest.raises(BotkitError, match="needs llama-cpp-python"):
        loading.load_engine("default", engine="llamacpp", settings=settings)
