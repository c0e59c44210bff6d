"""DPO and the reward model train from the store on the shape export writes: the chat the engine saw
(system prompt, few-shot turns, numbered sources, the question) as a conversational prompt and the
model's outputs as completions, held out by question. Real (tiny) training runs."""

from __future__ import annotations

import json

import pytest

from botkit.feedback.store import RankingStore
from botkit.feedback.training.config import load_config
from botkit.feedback.training.data import preferences_from_store
from botkit.feedback.training.dpo import DPORunConfig, train_dpo
from botkit.feedback.training.reward import RewardRunConfig, RewardScorer, train_reward_model

pytestmark = pytest.mark.slow  # real training

SYSTEM = "You are Kettlebrook's assistant. Answer warmly and only from the sources."


def engine_chat(question: str, source: str) -> list[dict]:
    """A chat shaped like botkit.prompting.budget's: system, one few-shot exchange, sources + question."""
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Do you ship abroad?"},
            {"role": "assistant", "content": "We ship to the UK and the EU [1]."},
            {"role": "user", "content": f"Sources (quoted documents):\n<<<\n[1] {source}\n>>>\n\nQuestion: {question}"}]


@pytest.fixture
def judged_store(settings, polite_vs_shouting):
    """20 judged pairs logged with the chats the engine saw; the first 5 questions were also asked by a
    second version that fitted another source into its chat."""
    store = RankingStore.open(settings)
    store.add_annotator("maya")
    for n, row in enumerate(polite_vs_shouting(20)):
        for source, cite in [("Our products carry a seven-year warranty.", "")] + (
                [("Orders ship in two days.", " [1]")] if n < 5 else []):
            chat = engine_chat(row["prompt"], source)
            ids = [store.log_response(row["prompt"], text + cite, model=model, engine_messages=chat, output=text + cite)
                   for text, model in ((row["chosen"], "v1"), (row["rejected"], "v2"))]
            pair = store.add_pair(*ids)
            store.record_comparison(pair, "maya", "a" if store.pair(pair)["a_id"] == ids[0] else "b")
    return store


def test_dpo_and_reward_model_train_on_the_engines_chats(settings, judged_store, tiny_model_dir, weight_watch):
    rows = preferences_from_store(settings)
    assert len(rows) == 25 and all(r["prompt"][0]["role"] == "system" and len(r["prompt"]) == 4 for r in rows)

    config = load_config(DPORunConfig, model=str(tiny_model_dir), max_steps=3, learning_rate=1e-2,
                         per_device_train_batch_size=4, max_length=160, max_prompt_length=128, test_fraction=0.2)
    version = train_dpo(config, rows, "chat-dpo", source="the ranking store", callbacks=[weight_watch])
    assert weight_watch.changed("lora_B") and version["metrics"]["steps"] == 3
    heldout = [json.loads(line) for line in
               (settings.home / "models" / "chat-dpo" / "heldout.jsonl").read_text().splitlines()]
    # Held out by question: 4 of 20 questions, with every chat each was asked in.
    questions = {r["question"] for r in heldout}
    assert len(questions) == 4 and version["metrics"]["heldout_pairs"] == len(heldout) >= 4
    assert all(r["prompt"][0] == {"role": "system", "content": SYSTEM} for r in heldout)

    config = load_config(RewardRunConfig, max_length=96, max_prompt_length=48, num_train_epochs=2,
                         per_device_train_batch_size=8, learning_rate=2e-3, test_fraction=0.2)
    version = train_reward_model(config, rows, "chat-rm", source="the ranking store")
    metrics = version["metrics"]
    assert metrics["heldout_accuracy"] is not None and metrics["heldout_pairs"] >= 4 and metrics["steps"] > 0
    # It scores the serving shape: a chat prompt and the model's answer.
    scorer = RewardScorer.load("chat-rm", settings)
    [score] = scorer.score([engine_chat("Tell a customer about the kettle.", "Warranty: seven years.")],
                           ["Thank you for choosing our kettle; it is covered for seven years [1]."])
    assert isinstance(score, float)
