"""The llama.cpp engine on the default model (a cached Q8_0 copy of its own Q4_1 GGUF): generation,
streaming, stop strings, seeds, batching, token counts, scoring, and a model version's LoRA adapter
converted to GGUF."""

import importlib.util

import pytest

from botkit.decoding import DecodingOptions
from botkit.models.engine import Generation

NO_LLAMA = importlib.util.find_spec("llama_cpp") is None
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(NO_LLAMA, reason="llama-cpp-python is not installed")]

BLUE = [{"role": "user", "content": "Repeat exactly: The kettle is blue."}]
GREEDY = DecodingOptions(max_new_tokens=24)


@pytest.fixture(scope="module")
def engine(default_dir):
    from botkit.config import load_settings
    from botkit.models.loading import load_engine

    return load_engine("default", settings=load_settings())  # engine: auto picks llama.cpp on CPU


def test_auto_runs_the_default_gguf_on_llamacpp_and_answers(engine):
    from botkit.config import load_settings
    from botkit.models.default import DEFAULT_MODEL
    from botkit.models.llamacpp import LlamaCppEngine

    assert isinstance(engine, LlamaCppEngine) and engine.name == DEFAULT_MODEL
    assert engine.gguf.name.endswith(".Q8_0.gguf") and engine.gguf.parent == load_settings().cache_dir / "models"
    assert engine.context_window == 768  # engines.llamacpp.context: cells a chat
    out = engine.generate(BLUE, GREEDY)
    assert "blue" in out.text.lower() and out.finish_reason == "stop" and out.prompt_tokens == engine.count_tokens(BLUE)


def test_the_shipped_q4_1_file_runs_when_asked_and_the_q8_0_copy_is_made_once(engine):
    from botkit.config import load_settings
    from botkit.models.default import default_gguf, requantized_gguf
    from botkit.models.loading import load_engine

    made = engine.gguf.stat().st_mtime_ns
    assert requantized_gguf(default_gguf(), load_settings().cache_dir, "Q8_0") == engine.gguf
    assert engine.gguf.stat().st_mtime_ns == made  # cached, not made again
    settings = load_settings()
    shipped = settings.model_copy(update={"engines": settings.engines.model_copy(
        update={"llamacpp": settings.engines.llamacpp.model_copy(update={"default_quantization": "Q4_1"})})})
    q4 = load_engine("default", settings=shipped)
    assert q4.gguf == default_gguf() and q4.name == engine.name
    assert q4.generate(BLUE, GREEDY).text == engine.generate(BLUE, GREEDY).text


def test_chat_template_and_token_counts_match_transformers(engine, default_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(default_dir)
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Héllo, what's new? 🙂"}]
    rendered = tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    assert engine.render(chat) == rendered
    assert engine.count_tokens(chat) == len(tok(rendered, add_special_tokens=False)["input_ids"])


def test_stream_pieces_add_up_to_the_answer(engine):
    *pieces, last = list(engine.stream(BLUE, GREEDY))
    assert isinstance(last, Generation) and len(pieces) > 2
    assert "".join(pieces).strip() == last.text == engine.generate(BLUE, GREEDY).text


def test_stop_strings_end_the_answer_before_them(engine):
    out = engine.generate(BLUE, GREEDY.merged(stop=["blue"]))
    assert "blue" not in out.text.lower() and out.finish_reason == "stop"
    streamed = "".join(p for p in engine.stream(BLUE, GREEDY.merged(stop=["blue"])) if isinstance(p, str))
    assert "blue" not in streamed.lower()
    short = engine.generate(BLUE, DecodingOptions(max_new_tokens=2))
    assert short.completion_tokens == 2 and short.finish_reason == "length"


def test_seeds_make_sampling_reproducible(engine):
    chat = [{"role": "user", "content": "Write a tagline for a kettle."}]
    sample = DecodingOptions(strategy="sample", temperature=1.0, max_new_tokens=16, seed=11)
    assert engine.generate(chat, sample).text == engine.generate(chat, sample).text
    texts = {engine.generate(chat, sample.merged(seed=s)).text for s in range(4)}
    assert len(texts) > 1


def test_a_batch_decodes_each_chat_as_it_would_alone(engine):
    chats = [BLUE, [{"role": "user", "content": "Name a colour."}], BLUE,
             [{"role": "user", "content": "Say hello to Ann."}]]
    alone = [engine.generate(c, GREEDY).text for c in chats]
    assert [g.text for g in engine.generate_batch(chats, GREEDY)] == alone
    sampled = engine.generate_batch([chats[1]] * 4, DecodingOptions(strategy="sample", temperature=1.2, seed=5,
                                                                     max_new_tokens=12))
    assert len({g.text for g in sampled}) > 1  # copies of one prompt sample apart


def test_chats_with_one_system_prompt_batched_answer_as_they_would_alone(engine):
    system = {"role": "system", "content": "You are Kettlebrook's helpful assistant. " * 12}
    chats = [[system, {"role": "user", "content": q}] for q in
             ("Repeat exactly: The kettle is blue.", "Name a colour.", "Say hello to Ann.")]
    # llama.cpp's logits shift a little with how a prompt is split across decode calls, so each chat
    # alone also finds the system prompt read already (from the chat before), as in the batch.
    engine.generate([system, {"role": "user", "content": "Hi."}], GREEDY)
    alone = [engine.generate(c, GREEDY).text for c in chats]
    assert [g.text for g in engine.generate_batch(chats, GREEDY)] == alone


def test_a_batched_chat_nobody_reads_any_more_stops_while_the_others_go_on(engine):
    chats = [[{"role": "user", "content": "Write a long story about a kettle."}]] * 2 + [BLUE]
    options = DecodingOptions(max_new_tokens=40, repetition_penalty=1.0)
    left: set[int] = set()
    done: dict[int, Generation] = {}
    for i, item in engine.stream_batch(chats, options, unwanted=lambda i: i in left):
        if isinstance(item, Generation):
            done[i] = item
        elif i == 1:
            left.add(1)  # its reader leaves after the first piece
    assert done[0].completion_tokens == 40 and done[0].finish_reason == "length"
    assert done[1].completion_tokens <= 2
    assert "blue" in done[2].text.lower()


def test_a_batch_everyone_left_is_not_read_and_the_cache_stays_right(engine):
    chats = [[{"role": "user", "content": f"Tell me about kettle number {i}. " * 40}] for i in range(8)]
    out = list(engine.stream_batch(chats, GREEDY, unwanted=lambda i: True))
    assert [g.completion_tokens for _, g in out] == [0] * 8
    assert engine.generate(BLUE, GREEDY).text == engine.generate(BLUE, GREEDY).text
    assert "blue" in engine.generate(BLUE, GREEDY).text.lower()


def test_scores_rank_the_answer_the_chat_asks_for(engine):
    scores = engine.score(BLUE, ["The kettle is blue.", "Bananas grow in Iceland."])
    assert scores[0] > scores[1] + 5 and all(s < 0 for s in scores)
    again = engine.score([{"role": "user", "content": "Name a colour."}], ["Blue", "Banana"])
    assert again[0] > again[1]


def test_a_lora_version_scores_answers_as_transformers_and_peft_do(engine, default_dir, tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from botkit.config import load_settings
    from botkit.models.gguf_lora import GGUF_NAME
    from botkit.models.loading import load_engine

    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(default_dir),
                           LoraConfig(r=8, lora_alpha=16, init_lora_weights=False,
                                      target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj"]))
    # Big enough to change answers.
    for name, param in model.named_parameters():
        if "lora_B" in name:
            param.data.normal_(0, 0.1)
    adapter = tmp_path / "brand-v1"
    model.save_pretrained(adapter)
    settings = load_settings()
    # On the shipped Q4_1, whose values transformers holds exactly (the Q8_0 copy rounds them again,
    # which flips near-ties in greedy decoding and says nothing about the adapter's conversion).
    shipped = settings.model_copy(update={"engines": settings.engines.model_copy(
        update={"llamacpp": settings.engines.llamacpp.model_copy(update={"default_quantization": "Q4_1"})})})
    on_llama = load_engine(str(adapter), settings=shipped)
    on_hf = load_engine(str(adapter), engine="transformers", settings=settings)
    assert (adapter / GGUF_NAME).exists() and on_llama.name == on_hf.name == "SmolLM2-135M-Instruct+brand-v1"
    prompts = [[{"role": "user", "content": q}] for q in
               ("What is a kettle for?", "Write a haiku about tea.", "Repeat exactly: The kettle is blue.",
                "Name three colours.")]
    options = DecodingOptions(max_new_tokens=12, repetition_penalty=1.0)
    # Compared by likelihood, not by greedy text: llama.cpp reads Q4_1 weights with 8-bit activations and
    # transformers in fp32, so a near-tie may fall either way (on an AVX-512 Xeon, "heat" against "power"
    # at the 8th token). The log-likelihood the two engines give transformers+PEFT's greedy answer agrees
    # within 0.5 nats (0.03-0.23 measured) and always closer than the base model's without the adapter
    # (0.4-2.5 off, 6 in all); a conversion that skipped llama.cpp's q/k row order is 1.0 off on the first.
    base_gap = 0.0
    for prompt in prompts:
        answer = on_hf.generate(prompt, options).text
        [adapted], [expected], [unadapted] = (e.score(prompt, [answer]) for e in (on_llama, on_hf, engine))
        assert abs(adapted - expected) < min(0.5, abs(unadapted - expected)), (prompt, answer, adapted, expected)
        base_gap += abs(unadapted - expected)
    assert base_gap > 3.0  # the adapter changes what the model says
