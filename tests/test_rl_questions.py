"""`botkit train rl --train_questions`: more questions to train on beside a question set's split, none of
them a paraphrase of a held-out question, each the grounded chat the bot itself would send its engine."""

from __future__ import annotations

from botkit.feedback.training.rl import extra_questions


def test_extra_training_questions_leave_out_the_held_out_ones_and_their_paraphrases(bot, write_jsonl, tmp_path):
    held = [{"question": "How long is the warranty on the Zephyr 3000 kettle?"}]
    more = write_jsonl(tmp_path / "more.jsonl", [
        {"question": "How long is the Zephyr 3000 kettle's warranty?"},  # a paraphrase of the held-out one
        {"prompt": "How much does standard shipping cost?"},
        {"prompt": "How much does standard shipping cost?"},  # asked twice, trained on once
        {"question": "Do you sell fridges?"},  # the bot declines it: nothing for the model to phrase
    ])
    rows, near = extra_questions([str(more)], held, bot)
    assert near == 1
    assert [r["question"] for r in rows] == ["How much does standard shipping cost?"]
    assert rows[0]["prompt"] == bot.grounded_chat("How much does standard shipping cost?").messages
