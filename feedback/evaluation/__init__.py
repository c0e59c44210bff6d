"""Evaluation, the loop's measurement (`botkit eval ...`): grounding of chat answers, copy plugins'
output, and two model versions against each other. A reward model's pairwise accuracy comes from its
own scorer (`botkit.feedback.training.reward.score_pairs`)."""
