"""Shared fixtures: a throwaway BOTKIT_HOME, the real MiniLM embedder, a tiny random Llama with the
default model's tokenizer (fast unit tests), and the real default model (a few end-to-end tests)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from botkit.config import load_settings
from botkit.models.default import default_model_dir
from botkit.models.engine import TransformersEngine
from botkit.prompting.brand import sample_brand_dir

SAMPLE_KNOWLEDGE = sample_brand_dir() / "knowledge"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("BOTKIT_HOME", str(path))
    monkeypatch.delenv("BOTKIT_CONFIG", raising=False)
    return path


@pytest.fixture
def settings(home):
    return load_settings()


@pytest.fixture(scope="session")
def embedder():
    from botkit.embeddings import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def default_dir() -> Path:
    return default_model_dir(load_settings().cache_dir)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, default_dir) -> Path:
    """A randomly initialised 2-layer Llama saved with the default model's tokenizer."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(default_dir)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=1024,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    path = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_engine(tiny_model_dir) -> TransformersEngine:
    from botkit.models.loading import load_engine

    return load_engine(str(tiny_model_dir))


@pytest.fixture(scope="session")
def default_engine(default_dir) -> TransformersEngine:
    from botkit.models.loading import load_engine

    return load_engine("default")


@pytest.fixture
def knowledge_dir(tmp_path) -> Path:
    """A copy of the sample brand's documents the test may change."""
    target = tmp_path / "knowledge"
    shutil.copytree(SAMPLE_KNOWLEDGE, target)
    return target


@pytest.fixture
def tiny_bot(settings, tiny_engine, embedder):
    from botkit.dialogue import Bot

    return Bot(settings, engine=tiny_engine, embedder=embedder)


@pytest.fixture
def docs(tmp_path) -> Path:
    """Three of the sample brand's documents: enough to answer from, quick to ingest."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("warranty.md", "pricing-and-bundles.md", "shipping.md"):
        shutil.copy(SAMPLE_KNOWLEDGE / name, folder)
    return folder


@pytest.fixture
def bot(settings, tiny_engine, embedder, docs):
    """A bot on the tiny model over `docs` that logs its replies in the ranking store (reply ids)."""
    from botkit.dialogue import Bot

    bot = Bot.from_config(settings, engine=tiny_engine, embedder=embedder)
    bot.knowledge.ingest(docs)
    return bot
