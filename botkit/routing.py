"""Routing a chat message: an explicit `/command` names a task; otherwise the message goes to the
task whose description and example requests it resembles most (embedding similarity), when that
similarity clears a threshold; everything else is grounded chat. Every decision says why."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from botkit.errors import BotkitError

_OPTION = re.compile(r"^([A-Za-z_]\w*)=(\S+)$")


@dataclass
class Route:
    task: str
    text: str
    reason: str
    options: dict = field(default_factory=dict)


def command_names(tasks: dict) -> dict[str, str]:
    """Every `/word` that names a task (its name and its aliases) -> task name."""
    names = {}
    for name, task in tasks.items():
        for word in (name, *getattr(task, "aliases", ())):
            names[word] = name
    return names


def parse_command(message: str, tasks: dict) -> Route | None:
    """`/subject n=3 Spring sale` -> Route("subject_lines", "Spring sale", options={"n": "3"})."""
    if not message.startswith("/"):
        return None
    word, _, rest = message[1:].partition(" ")
    names = command_names(tasks)
    if word not in names:
        known = ", ".join(f"/{w}" for w in sorted(names)) or "none"
        raise BotkitError(f"unknown command /{word} (plugin commands: {known})")
    tokens, options = rest.split(), {}
    while tokens and _OPTION.match(tokens[0]):
        key, value = _OPTION.match(tokens.pop(0)).groups()
        options[key] = value
    return Route(names[word], " ".join(tokens), f"explicit command /{word}", options)


class IntentRouter:
    """Matches a message against each task's description and `intents` (example requests)."""

    def __init__(self, tasks: dict, embedder, threshold: float):
        self.tasks, self.embedder, self.threshold = tasks, embedder, threshold
        self.phrases = [(name, text) for name, task in tasks.items()
                        for text in (task.description, *getattr(task, "intents", ()))]
        self.vectors = np.asarray(embedder.embed_documents([p[1] for p in self.phrases])) if self.phrases else None

    def route(self, message: str) -> Route | None:
        explicit = parse_command(message, self.tasks)
        if explicit or self.vectors is None:
            return explicit
        scores = self.vectors @ np.asarray(self.embedder.embed_query(message))
        best = int(np.argmax(scores))
        if scores[best] < self.threshold:
            return None
        name, phrase = self.phrases[best]
        return Route(name, message, f"resembles '{phrase}' (similarity {scores[best]:.2f} >= {self.threshold})")
