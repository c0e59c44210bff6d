import json

import pytest

from botkit.errors import BotkitError
from botkit.models.default import DEFAULT_MODEL, is_default_converted
from botkit.models.loading import load_engine, resolve_model


def test_default_model_is_converted_once_and_has_a_chat_template(default_engine, default_dir):
    assert is_default_converted(default_dir.parent.parent)
    assert (default_dir / "model.safetensors").exists()
    assert default_engine.name == DEFAULT_MODEL
    assert default_engine.context_window == 768  # engines.llamacpp.context: 768 cells a chat, allocated up front
    rendered = default_engine.render([{"role": "user", "content": "Hello"}])
    assert "<|im_start|>user" in rendered and rendered.rstrip().endswith("assistant")


def test_default_model_answers_with_the_fact_it_is_given(default_engine):
    from botkit.decoding import DecodingOptions

    chat = [{"role": "user", "content": "Repeat exactly: The kettle is blue."}]
    out = default_engine.generate(chat, DecodingOptions(max_new_tokens=16))
    assert "blue" in out.text.lower()


@pytest.mark.parametrize("spec", ["./no/such/model", "not a model id"])
def test_unknown_model_is_a_clear_error(spec, tmp_path):
    with pytest.raises(BotkitError, match="unknown model|no such|not a"):
        resolve_model(spec, tmp_path)


def test_a_non_gguf_file_is_rejected(tmp_path):
    f = tmp_path / "weights.bin"
    f.write_bytes(b"\x00\x01")
    with pytest.raises(BotkitError, match="not a .gguf"):
        resolve_model(str(f), tmp_path)


def test_hub_ids_pass_through_without_network(tmp_path):
    hub_id = "HuggingFaceTB/SmolLM2-360M-Instruct"
    assert resolve_model(hub_id, tmp_path) == (hub_id, None)


def _save_lora(base_dir, out_dir):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base_dir)
    peft_model = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    peft_model.save_pretrained(out_dir)
    return out_dir


def test_lora_adapter_loads_on_its_base_and_changes_outputs(tiny_model_dir, tiny_engine, tmp_path):
    from botkit.decoding import DecodingOptions

    adapter = _save_lora(tiny_model_dir, tmp_path / "adapter")
    assert json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"] == str(tiny_model_dir)
    engine = load_engine(str(adapter))
    assert engine.name.endswith("+adapter")
    chat = [{"role": "user", "content": "Hello there"}]
    opts = DecodingOptions(max_new_tokens=8)
    assert engine.generate(chat, opts).text != tiny_engine.generate(chat, opts).text


def test_adapter_on_the_wrong_base_is_a_clear_error(tiny_model_dir, tmp_path):
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    other = tmp_path / "other-base"
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=48, intermediate_size=64, num_hidden_layers=2,
                                 num_attention_heads=2, num_key_value_heads=2)).save_pretrained(other)
    tok.save_pretrained(other)
    adapter = _save_lora(tiny_model_dir, tmp_path / "adapter")
    with pytest.raises(BotkitError, match="does not fit base model"):
        load_engine(str(other), adapter=str(adapter))


def test_a_hub_model_that_is_not_downloaded_fails_fast_without_network(tmp_path):
    with pytest.raises(BotkitError, match="not downloaded: run `botkit models pull nonexistent-org/none`"):
        load_engine("nonexistent-org/none", cache_dir=tmp_path)
