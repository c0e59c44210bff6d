"""The evidence reranker's training pairs, synthesized from a made-up knowledge base, and a short real
training run of the cross-encoder."""

from __future__ import annotations

import re

import pytest

from botkit.feedback.training.reranker import Reranker, RerankerConfig, synthesize_pairs, train_cross_encoder

# (title, text, source) as the knowledge base stores chunks: a FAQ row, a table, a section of prose.
CHUNKS = [
    ("FAQ", "Q: Can I pay with a cheque?\nA: No. We only accept cards and bank transfers.", "faq.csv"),
    ("Delivery › Prices",
     "Standard: Price: $4.95; Arrives in: 3-5 working days\n"
     "Express: Price: $9.95; Arrives in: next working day\n"
     "Collection: Price: free; Arrives in: 2 days", "delivery.md"),
    ("Warranty › Repairs",
     "Every kettle has a seven-year warranty on the heating element.\n"
     "Send the kettle back in its original box with the receipt.\n"
     "Repairs take 10 days from the day we receive it.", "warranty.md"),
    ("Warranty › Spare parts",
     "Spare lids and filters can be ordered from the parts page.\n"
     "A replacement lid costs $12 including postage.", "warranty.md"),
]


@pytest.fixture(scope="module")
def rows():
    return synthesize_pairs(CHUNKS, RerankerConfig(max_queries=10_000))


def positives(rows, kind):
    return [r for r in rows if r["kind"] == kind and r["label"] == 1.0]


def test_a_faq_question_is_paired_with_its_answer(rows):
    faq = positives(rows, "faq")
    assert [r["query"] for r in faq] == ["Can I pay with a cheque?"]
    assert "We only accept cards and bank transfers." in faq[0]["passage"]


def test_a_table_row_is_asked_for_by_its_label_and_a_header_never_its_value(rows):
    express = [r for r in positives(rows, "table_row") if r["passage"].startswith("Delivery › Prices: Express")]
    assert express and all(r["query"] in ("Express price?", "Express arrives in?") for r in express)
    negatives = [r["passage"] for r in rows if r["query"] == express[0]["query"] and r["label"] == 0.0]
    # The other rows of the same table are the hard negatives: the wrong row is the mistake to unlearn.
    assert any("Standard:" in p or "Collection:" in p for p in negatives)


def test_a_sentence_is_asked_for_by_its_own_words_without_its_figures(rows):
    key_phrases = positives(rows, "key_phrase")
    assert key_phrases
    for row in key_phrases:
        sentence = row["passage"].split(": ", 1)[-1]
        assert not set(re.findall(r"\d+", row["query"])) & set(re.findall(r"\d+", sentence))
    repairs = [r for r in key_phrases if r["passage"].endswith("Repairs take 10 days from the day we receive it.")]
    assert repairs and repairs[0]["query"].startswith("How long")


def test_hard_negatives_come_from_the_positives_own_section(rows):
    query = next(r["query"] for r in positives(rows, "key_phrase") if "seven-year warranty" in r["passage"])
    negatives = [r["passage"] for r in rows if r["query"] == query and r["label"] == 0.0]
    assert "Warranty › Repairs: Repairs take 10 days from the day we receive it." in negatives
    assert all(r["passage"] != n for r in positives(rows, "key_phrase") if r["query"] == query for n in negatives)


def test_a_heading_is_never_trained_against_a_sentence_under_it(rows):
    for row in positives(rows, "heading"):
        section = row["passage"].split(": ", 1)[0]
        negatives = [r["passage"] for r in rows if r["query"] == row["query"] and r["label"] == 0.0]
        assert not any(n.startswith(section + ":") for n in negatives)


@pytest.mark.slow
def test_training_changes_the_encoder_and_the_saved_reranker_scores_passages(rows, tmp_path):
    import torch
    from transformers import AutoModel

    from botkit.embeddings import embedding_model_path

    figures = train_cross_encoder(rows, tmp_path / "reranker", RerankerConfig(max_steps=4, batch_size=8))
    assert figures["steps"] == 4 and figures["pairs"] == len(rows)
    before = AutoModel.from_pretrained(embedding_model_path(), local_files_only=True)
    reranker = Reranker(tmp_path / "reranker")
    after = reranker.model.model.bert if hasattr(reranker.model.model, "bert") else reranker.model.model
    layer = "encoder.layer.5.output.dense.weight"
    assert not torch.equal(before.state_dict()[layer], after.state_dict()[layer])
    scores = reranker.score("How long do repairs take?", ["Repairs take 10 days.", "A lid costs $12."])
    assert scores.shape == (2,) and ((scores >= 0) & (scores <= 1)).all()
