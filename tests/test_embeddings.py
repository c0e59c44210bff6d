"""The MiniLM embedder, on either engine: the same vectors as sentence-transformers (existing Chroma
stores stay valid) without importing it."""

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from botkit.embeddings import Embedder, embedding_model_path

TEXTS = [
    "Every Zephyr 3000 comes with a seven-year warranty.",
    "What's your refund policy?",
    "kettle",
    # longer than the model's 256 tokens: truncated the same way
    " ".join(["The Heron kettle boils a full litre in under three minutes and switches itself off."] * 30),
    "",
]


ENGINES = ["transformers", pytest.param("llamacpp", marks=pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is in the llamacpp extra"))]


@pytest.fixture(scope="module", params=ENGINES)
def plain_embedder(request):
    return Embedder(engine=request.param)


def test_vectors_equal_sentence_transformers(plain_embedder):
    sentence_transformers = pytest.importorskip("sentence_transformers")
    st = sentence_transformers.SentenceTransformer(embedding_model_path(), device="cpu", local_files_only=True)
    expected = st.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    vectors = plain_embedder.encode(TEXTS)
    assert vectors.shape == expected.shape == (len(TEXTS), 384)
    assert (vectors * expected).sum(axis=1).min() > 0.9999


def test_a_text_has_one_vector_whatever_its_batch(plain_embedder):
    alone = np.stack([plain_embedder._embed([t])[0] for t in TEXTS])
    together = plain_embedder._embed(TEXTS)  # one batch: padded (transformers) or packed (llama.cpp)
    # llama.cpp's kernels round differently with the batch's shape: components move by ~1e-4
    # (cosine 0.9999994); a token leaking across texts would move them by tenths.
    assert np.allclose(alone, together, atol=5e-4)
    assert (alone * together).sum(axis=1).min() > 0.99999
    assert np.allclose(np.linalg.norm(together, axis=1), 1, atol=1e-5)
    assert plain_embedder.encode([]).shape == (0, 384)


def test_embedding_does_not_import_sentence_transformers():
    code = ("import sys; from botkit.embeddings import Embedder; Embedder().embed_query('kettle'); "
            "print('sentence_transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
