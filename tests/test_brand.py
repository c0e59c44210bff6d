"""Which brand a home answers as (botkit.prompting.brand.chosen_brand): the user's profile, the sample's
only when the sample's documents are the knowledge base, else a generic assistant that never names the
sample brand. Real retrieval over real MiniLM; a fake engine (the answers checked need no model)."""

from __future__ import annotations

import shutil

import pytest
import yaml

from botkit.prompting.brand import sample_brand_dir
from botkit.testing import FakeEngine

BIKES = "Wheelhouse rents city bikes for £22 a day. E-bikes cost £45 a day and need a £200 deposit."


def bot_over(settings, embedder, folder=None):
    """A bot started on a home whose knowledge base already holds `folder` (as after `botkit ingest`)."""
    from botkit.dialogue import Bot

    if folder:
        Bot(settings, engine=FakeEngine(), embedder=embedder).knowledge.ingest(folder)
    return Bot(settings, engine=FakeEngine(), embedder=embedder)


@pytest.fixture
def own_docs(tmp_path):
    folder = tmp_path / "own"
    folder.mkdir()
    (folder / "prices.md").write_text(f"# Prices\n\n{BIKES}\n")
    return folder


def test_own_documents_without_a_profile_never_answer_as_the_sample_brand(settings, embedder, own_docs):
    bot = bot_over(settings, embedder, own_docs)
    outside = bot.respond("Who won the Super Bowl last year?")
    assert outside.grounding == "dont-know"
    assert "kettlebrook" not in outside.text.lower() and "support team" in outside.text
    # The model is never told it is Kettlebrook, nor shown the sample's few-shot exchanges.
    assert "Kettlebrook" not in bot.brand.system_prompt() and bot.fewshot.examples == []


def test_the_sample_documents_answer_as_the_sample_brand(settings, embedder, tmp_path):
    folder = tmp_path / "docs"  # copies of the sample's documents count as the sample (make demo, the tests)
    folder.mkdir()
    for name in ("warranty.md", "shipping.md"):
        shutil.copy(sample_brand_dir() / "knowledge" / name, folder)
    bot = bot_over(settings, embedder, folder)
    assert bot.brand.name == "Kettlebrook"
    assert "help@kettlebrook.com" in bot.respond("Who won the Super Bowl last year?").text


def test_sample_and_own_documents_together_are_not_the_sample(settings, embedder, own_docs):
    shutil.copy(sample_brand_dir() / "knowledge" / "warranty.md", own_docs)
    assert "kettlebrook" not in bot_over(settings, embedder, own_docs).brand.dont_know.lower()


def test_a_profile_in_the_home_wins_and_a_configured_one_wins_over_it(settings, embedder, home, tmp_path):
    home.mkdir(parents=True, exist_ok=True)
    (home / "brand.yaml").write_text(yaml.safe_dump({"name": "Wheelhouse", "contact": "hello@wheelhouse.test",
                                                     "dont_know": "Ask us at hello@wheelhouse.test."}))
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(sample_brand_dir() / "knowledge" / "warranty.md", folder)
    bot = bot_over(settings, embedder, folder)
    assert bot.brand.name == "Wheelhouse"
    assert bot.respond("Who won the Super Bowl?").text == "Ask us at hello@wheelhouse.test."
    configured = tmp_path / "other.yaml"
    configured.write_text("name: Other\n")
    assert bot_over(settings.model_copy(update={"brand": configured}), embedder).brand.name == "Other"
