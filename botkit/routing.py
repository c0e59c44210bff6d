"""Routing a chat message: an explicit `/command` names a task; otherwise the message goes to the
task whose description and example requests it resembles most (embedding similarity), when that
similarity clears a threshold and beats the message's similarity to questions customers ask in chat;
everything else is grounded chat. Every decision says why.

Chat is a route with its own example utterances, as in semantic-router: a threshold alone lets a
question that shares words with a request ("When is the store open?" vs "Rewrite this post: our store
opens Monday") leave chat. Only questions compete with chat: MiniLM weighs product names heavily, so
"Write a search ad for the Zephyr 3000" resembles "How much is the Zephyr 3000?" more than any ad
request. A message is also scored by its lead instruction (the words before a colon or line break),
so a long pasted text does not dilute "Summarize this:"."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from botkit.errors import BotkitError
from botkit.knowledge.questions import AUXILIARIES, WH_WORDS

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


# What customers ask a brand's chatbot; the brand's few-shot example questions are added to these.
CHAT_QUESTIONS = [
    "What are your opening hours?", "When is the store open on weekends?", "How long is the warranty?",
    "Do you ship to my country?", "Where is my order?", "How do I return an item?", "How much does it cost?",
    "Do you have a page on social media?", "What is the difference between these two products?",
    "My product stopped working, what should I do?",
]
# A question's first word, though not "has"/"have", which open requests too ("Have a look at this review: ...").
_QUESTION_WORD = re.compile(rf"(?!has$|have$)(?:{WH_WORDS}|{AUXILIARIES}|may)")
_LEAD = re.compile(r"^(.{3,80}?)(?::|\n|$)", re.S)


def lead_instruction(message: str) -> str:
    """The words before the first colon or line break ("Summarize this" of "Summarize this: ...")."""
    match = _LEAD.match(message.strip())
    return match.group(1).strip() if match else message


# The request ends at a colon, a line break or the end of its first sentence; what follows is the text it is about.
_REQUEST_END = re.compile(r":|\n|[.?!](?=\s)")
_QUOTED = re.compile(r"[\"“'‘]([^\"”'’]+\s[^\"”'’]+)[\"”'’]")


def carries_text(message: str) -> bool:
    """Whether `message` hands over a text to work on besides its request: two or more words after the
    request ("Reply to this email: Where is my order?", "Is this review positive? Terrible service."),
    a quoted phrase, or a message long enough to be a pasted text."""
    text = message.strip()
    end = _REQUEST_END.search(text)
    after = text[end.end():] if end else ""
    return len(after.split()) >= 2 or bool(_QUOTED.search(text)) or len(text.split()) >= 25


def is_question(text: str) -> bool:
    words = text.split()
    return text.rstrip().endswith("?") or bool(words and _QUESTION_WORD.fullmatch(words[0].lower().strip(",")))


class IntentRouter:
    """Matches a message against each task's description and `intents` (example requests), and
    against chat questions (`CHAT_QUESTIONS` plus `chat_examples`) that keep it in chat."""

    def __init__(self, tasks: dict, embedder, threshold: float, chat_examples: list[str] = ()):
        self.tasks, self.embedder, self.threshold = tasks, embedder, threshold
        self.phrases = [(name, text) for name, task in tasks.items()
                        for text in (task.description, *getattr(task, "intents", ()))]
        self.vectors = np.asarray(embedder.embed_documents([p[1] for p in self.phrases])) if self.phrases else None
        self.chat = list(dict.fromkeys([*CHAT_QUESTIONS, *chat_examples]))
        self.chat_vectors = np.asarray(embedder.embed_documents(self.chat))

    def route(self, message: str) -> Route | None:
        explicit = parse_command(message, self.tasks)
        if explicit or self.vectors is None:
            return explicit
        probe = lead_instruction(message)
        whole, lead = (np.asarray(v) for v in self.embedder.embed_documents([message, probe]))
        scores = np.maximum(self.vectors @ whole, self.vectors @ lead)
        if not carries_text(message):  # "How do I make a complaint?" asks the brand, not for a drafted reply
            scores[[getattr(self.tasks[name], "needs_text", False) for name, _ in self.phrases]] = -1.0
        best = int(np.argmax(scores))
        chat = float((self.chat_vectors @ lead).max()) if is_question(probe) else 0.0
        if scores[best] < self.threshold or scores[best] <= chat:
            return None
        name, phrase = self.phrases[best]
        versus = f", above chat questions' {chat:.2f}" if chat else ""
        return Route(name, message, f"resembles '{phrase}' (similarity {scores[best]:.2f} >= {self.threshold}{versus})")
