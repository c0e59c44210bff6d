"""Evaluation, the loop's measurement: grounding of chat answers, copy plugins' output, reward
models on preference pairs and two model versions against each other (`botkit eval ...`)."""
