"""The `vllm` engine's requests, built without vLLM or a GPU (vLLM's own classes are checked too
where vLLM is installed)."""

import importlib.util

import pytest

from botkit.decoding import DecodingOptions
from botkit.errors import BotkitError
from botkit.models.engine_settings import VLLMSettings
from botkit.models.vllm_engine import VLLMEngine, llm_kwargs, lora_kwargs, sampling_kwargs

HAS_VLLM = importlib.util.find_spec("vllm") is not None


def test_sampling_params_follow_botkit_decoding():
    greedy = sampling_kwargs(DecodingOptions(max_new_tokens=12, stop=["\n\n"], seed=3))
    assert greedy == {"max_tokens": 12, "repetition_penalty": 1.1, "stop": ["\n\n"], "seed": 3, "temperature": 0.0}
    sample = sampling_kwargs(DecodingOptions(strategy="sample", temperature=0.9, top_p=0.8, top_k=0), seed=9)
    assert sample["temperature"] == 0.9 and sample["top_p"] == 0.8 and sample["top_k"] == -1 and sample["seed"] == 9


def test_each_version_gets_one_stable_lora_slot(tmp_path):
    v1, v2 = tmp_path / "brand-v1", tmp_path / "brand-v2"
    a, b = lora_kwargs(v1), lora_kwargs(v2)
    assert a == lora_kwargs(str(v1)) and a["lora_name"] == "brand-v1" and a["lora_path"] == str(v1.resolve())
    assert a["lora_int_id"] != b["lora_int_id"] and all(0 < k["lora_int_id"] < 2**31 for k in (a, b))


def test_one_llm_serves_every_version_with_lora_on():
    config = VLLMSettings(max_model_len=4096, max_lora_rank=16)
    kwargs = llm_kwargs("HuggingFaceTB/SmolLM2-135M-Instruct", config)
    assert kwargs["enable_lora"] and kwargs["max_lora_rank"] == 16 and kwargs["max_model_len"] == 4096
    assert "max_model_len" not in llm_kwargs("m", VLLMSettings())


@pytest.mark.skipif(not HAS_VLLM, reason="vLLM is not installed (optional extra botkit[vllm])")
def test_vllm_accepts_the_requests(tmp_path):
    from vllm import SamplingParams
    from vllm.lora.request import LoRARequest

    params = SamplingParams(**sampling_kwargs(DecodingOptions(strategy="sample", seed=1)))
    assert params.seed == 1 and params.max_tokens == 96
    assert LoRARequest(**lora_kwargs(tmp_path)).lora_path == str(tmp_path.resolve())


@pytest.mark.skipif(HAS_VLLM, reason="vLLM is installed")
def test_without_vllm_the_engine_says_how_to_get_it():
    with pytest.raises(BotkitError, match=r"engine vllm needs vLLM and a GPU: `pip install 'botkit\[vllm\]'`"):
        VLLMEngine("m", None, VLLMSettings())
