"""MiniLM on llama.cpp gives transformers' vectors: on awkward texts, in retrieval over the sample
brand, over a knowledge base the other engine embedded; and `botkit serve` runs without torch."""

import json
import subprocess
import sys

import numpy as np
import pytest

from botkit.database import open_database
from botkit.embeddings import Embedder, embedding_model_path, embeddings_engine
from botkit.embeddings_llamacpp import WordPieceTokenizer, minilm_gguf
from botkit.knowledge.store import KnowledgeBase
from botkit.prompting.brand import sample_brand_dir

pytest.importorskip("llama_cpp", reason="llama-cpp-python is in the llamacpp extra")

VARIED = [
    "",
    "kettle",
    "How much does the Zephyr 3000 cost?",
    "Prices: $19.99/month, €17,50 or ¥2,000 - 20% off until 30/04!",
    "Café crème, naïve résumé, Ångström, Straße",
    "Emoji 😀🚀 and ✅ in a sentence",
    "Привет, как дела? Ελληνικά. עברית.",
    "日本語のテキストです。我想在apple工作",
    "हिन्दी पाठ",  # spacing vowel signs (Unicode Mc): llama.cpp's own WordPiece drops them, transformers keeps them
    "Numbers 3.14 1,000,000 42nd 2026-11-30 10:30",
    "Punctuation!!! ??? ... --- ''' \"quoted\" (paren) [brackets]",
    "ﬁ ligature, ＡＢＣ full width, e\u0301 combining, zero\u200bwidth, tab\tnew\nline",
    # longer than the model's 256 tokens: both cut it at the same token
    " ".join(["The Heron kettle boils a full litre in under three minutes and switches itself off."] * 30),
]


@pytest.fixture(scope="module")
def torch_embedder():
    return Embedder(engine="transformers")


@pytest.fixture(scope="module")
def llama_embedder():
    return Embedder(engine="llamacpp")


def test_llamacpp_vectors_equal_transformers_vectors(torch_embedder, llama_embedder):
    assert llama_embedder.engine == "llamacpp" and llama_embedder.model is None
    expected = torch_embedder.encode(VARIED)
    vectors = llama_embedder.encode(VARIED)
    assert vectors.shape == expected.shape == (len(VARIED), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    cosines = (vectors * expected).sum(axis=1)
    assert cosines.min() >= 0.9999, dict(zip(VARIED, cosines.round(6)))


def test_its_tokenizer_counts_and_cuts_as_transformers_does(torch_embedder):
    """The chunker counts and cuts with the embedder's tokenizer: the same chunks on either engine."""
    ours = WordPieceTokenizer(embedding_model_path(), 256)
    for text in VARIED:
        theirs = torch_embedder.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        mine = ours(text, add_special_tokens=False, return_offsets_mapping=True)
        assert mine["input_ids"] == theirs["input_ids"], text
        assert [tuple(o) for o in mine["offset_mapping"]] == [tuple(o) for o in theirs["offset_mapping"]], text
        cut = torch_embedder.tokenizer(text, truncation=True, max_length=256)["input_ids"]
        assert ours.model_inputs([text])[0] == cut, text


def test_the_gguf_is_converted_once_and_reused(tmp_path):
    first = minilm_gguf(embedding_model_path(), tmp_path, name="minilm")
    made = first.stat().st_mtime_ns
    again = minilm_gguf(embedding_model_path(), tmp_path, name="minilm")
    assert again == first and again.stat().st_mtime_ns == made
    assert first.parent == tmp_path / "models" and not list(first.parent.glob("*.partial"))


def test_the_setting_chooses_the_engine(monkeypatch, home):
    assert embeddings_engine("auto", "cpu") == "llamacpp"
    assert embeddings_engine("auto", "cuda") == "transformers"
    monkeypatch.setenv("BOTKIT_EMBEDDINGS_ENGINE", "transformers")
    assert Embedder().engine == "transformers"
    monkeypatch.setenv("BOTKIT_EMBEDDINGS_ENGINE", "llamacpp")
    assert Embedder().engine == "llamacpp"
    assert Embedder(engine="transformers").engine == "transformers"  # training asks for it by name


def test_a_knowledge_base_embedded_on_one_engine_answers_the_same_on_the_other(tmp_path, torch_embedder,
                                                                             llama_embedder):
    """The sample brand's 41 eval questions find the same top chunk whichever engine embeds the
    question, over chunks the transformers engine stored (an existing Chroma store stays usable)."""
    db = open_database(tmp_path / "botkit.db")
    stored = KnowledgeBase(db, tmp_path / "chroma", torch_embedder)
    stored.ingest(sample_brand_dir() / "knowledge")
    reread = KnowledgeBase(db, tmp_path / "chroma", llama_embedder)
    lines = (sample_brand_dir() / "eval" / "questions.jsonl").read_text().splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    same_fused = same_dense = 0
    for q in questions:
        same_fused += stored.search(q, k=1)[0].id == reread.search(q, k=1)[0].id
        dense = [stored.collection.query(query_embeddings=[e.embed_query(q)], n_results=1)["ids"][0][0]
                 for e in (torch_embedder, llama_embedder)]
        same_dense += dense[0] == dense[1]
    print(f"same top chunk: {same_fused}/{len(questions)} (hybrid search), {same_dense}/{len(questions)} (dense only)")
    assert len(questions) == 41 and same_fused == same_dense == len(questions)


SERVE_WITHOUT_TORCH = """
import sys
from fastapi.testclient import TestClient
from botkit.config import load_settings
from botkit.dialogue import Bot
from botkit.server.app import create_app

settings = load_settings()
Bot(settings).knowledge.ingest(sys.argv[1])
app = create_app(settings, auth=False)
with TestClient(app) as client:
    reply = client.post("/v1/chat/completions", json={"model": "botkit", "max_tokens": 24, "messages": [
        {"role": "user", "content": "How long is the warranty on the Zephyr 3000?"}]}).json()
print(reply["choices"][0]["message"]["content"])
print("torch" in sys.modules, "transformers" in sys.modules)
"""


@pytest.mark.e2e
def test_serve_answers_a_grounded_question_without_importing_torch(tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "warranty.md").write_text((sample_brand_dir() / "knowledge" / "warranty.md").read_text())
    monkeypatch.setenv("BOTKIT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BOTKIT_EMBEDDINGS_ENGINE", raising=False)
    monkeypatch.delenv("BOTKIT_ENGINE", raising=False)
    out = subprocess.run([sys.executable, "-c", SERVE_WITHOUT_TORCH, str(docs)], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    answer, imported = out.stdout.strip().splitlines()[-2:]
    assert "seven" in answer.lower() or "7" in answer
    assert imported == "False False"
