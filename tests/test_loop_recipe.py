"""The loop recipe's best-of-n distillation: SFT learns each prompt's answer the annotator preferred
over its judged pairs, once, and a prompt whose answers only beat each other in a circle gives none."""

from botkit.feedback.training.sft import preferred_examples


def pair(question, chosen, rejected):
    return {"prompt": [{"role": "user", "content": f"Sources ...\n\nQuestion: {question}"}], "question": question,
            "chosen": chosen, "rejected": rejected}


def test_each_prompt_keeps_the_answer_with_the_most_net_wins():
    rows = [pair("Warranty?", "Seven years. [1]", "The Zephyre has a 2.2 hour warranty."),
            pair("Warranty?", "Seven years. [1]", "It depends."),
            pair("Warranty?", "It depends.", "The Zephyre has a 2.2 hour warranty."),  # a noisy label
            pair("Price?", "It costs $99. [1]", "It costs $45."),
            pair("Price?", "It costs $45.", "It costs $99. [1]"),
            pair("Price?", "It costs $45.", "Prices vary."),
            pair("Price?", "It costs $99. [1]", "Prices vary."),
            pair("Price?", "It costs $99. [1]", "Call us.")]
    examples = preferred_examples(rows)
    assert [(e["question"], e["completion"]) for e in examples] == [("Warranty?", "Seven years. [1]"),
                                                                   ("Price?", "It costs $99. [1]")]
    # The prompt is the chat the engine saw, as DPO trains on it.
    assert examples[0]["prompt"] == rows[0]["prompt"]


def test_a_prompt_whose_answers_beat_each_other_in_a_circle_teaches_nothing():
    rows = [pair("Cord?", "Short.", "Long."), pair("Cord?", "Long.", "Medium."), pair("Cord?", "Medium.", "Short.")]
    assert preferred_examples(rows) == []
