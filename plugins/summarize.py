"""Summaries: the key points of a long text (a ticket thread, a report, a review dump) as short
bullets. Every point is checked against the text (its figures and nearly all its content words must
appear there); when the model's points fail the check after retries, the most central sentences
of the text are extracted instead, and the reply says so."""

from __future__ import annotations

import re

import numpy as np
from langchain_core.exceptions import OutputParserException
from langchain_core.runnables import RunnableLambda
from pydantic import Field

from botkit.errors import BotkitError
from botkit.evidence import split_sentences
from botkit.grounding import figures_in
from botkit.hookspecs import hookimpl
from botkit.knowledge.terms import terms
from botkit.tasks import Task, TaskOptions, chat_prompt, parsed_with_retries, repeats_itself

MAX_NOVEL = 0.34  # share of a point's content words the text may lack (inflections, linking words)
BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


def supported(point: str, text: str) -> str:
    """Why `point` is not supported by `text`, or "" when it is."""
    if len(point.split()) < 3:
        return "too short"
    if repeats_itself(point):
        return "repeats itself"
    if figures_in(point) - figures_in(text):
        return "a figure the text does not have"
    words = terms(point)
    novel = words - terms(text)
    if not words or len(novel) / len(words) > MAX_NOVEL:
        return f"words the text does not use: {', '.join(sorted(novel)[:4])}"
    return ""


def point_parser(text: str, limit: int):
    """Model reply -> up to `limit` distinct points the text supports; raises when none is."""

    def parse(reply: str) -> list[str]:
        lines = [BULLET.sub("", line).strip() for line in reply.splitlines()]
        points, reasons = [], []
        for line in filter(None, lines):
            reason = supported(line, text)
            if reason:
                reasons.append(f"'{line[:40]}': {reason}")
            elif line.lower() not in {p.lower() for p in points}:
                points.append(line)
        if not points:
            raise OutputParserException(f"no point matched the text ({reasons[0] if reasons else 'empty reply'})")
        return points[:limit]

    return parse


def central_sentences(sentences: list[str], embedder, k: int) -> list[str]:
    """The `k` sentences closest to the text's mean embedding, in their original order."""
    vectors = np.asarray(embedder.embed_documents(sentences), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    centre = vectors.mean(axis=0)
    best = sorted(np.argsort(-(vectors @ centre))[:k])
    return [sentences[i] for i in best]


class Summarize(Task):
    name = "summarize"
    aliases = ("summarise", "tldr")
    needs_text = True
    intents = [
        "Summarize this text for me",
        "Give me the key points of this email thread",
        "TL;DR of this customer feedback",
        "Can you sum up this report in a few bullet points",
    ]
    description = "Summarize a long text as a few bullet points, each checked against the text."
    examples = [
        {"input": "Our Zephyr 3000 kettle sold 1,200 units in March, up from 900 in February. Returns stayed "
                  "below 2%. Customers praised the temperature presets but asked for a quieter boil. "
                  "The team will test a new heating element in May.",
         "output": "- The Zephyr 3000 sold 1,200 units in March, up from 900 in February.\n"
                   "- Returns stayed below 2%.\n"
                   "- Customers asked for a quieter boil; a new heating element will be tested in May."},
    ]

    class Options(TaskOptions):
        points: int = Field(3, ge=1, le=8, description="How many bullet points, at most.")
        extract: bool = Field(True, description="Extract key sentences when the model's points fail the check "
                                                "(false: fail with an error instead).")
        seed: int = Field(0, description="Seed of the retries' sampling.")

    def build(self, bot, options: Options):
        system = (f"Summarize the user's text in at most {options.points} short bullet points, one sentence each, "
                  "using only facts stated in the text. "
                  "Reply with the bullet points only, each line starting with '- '.")
        prompt = chat_prompt(system, self.examples)

        def summarize(text: str) -> dict:
            sentences = split_sentences(text)
            if len(sentences) <= options.points:
                return {"points": sentences, "method": "unchanged", "note": "the text is already this short"}
            generate = prompt | parsed_with_retries(bot, point_parser(text, options.points), what="summary",
                                                    max_new_tokens=40 * options.points, seed=options.seed)
            try:
                return {"points": generate.invoke(text), "method": "generated", "note": ""}
            except BotkitError as exc:
                if not options.extract:
                    raise
                return {"points": central_sentences(sentences, bot.embedder, options.points), "method": "extracted",
                        "note": f"key sentences of the text: {exc}"}

        return RunnableLambda(summarize)

    def format(self, output: dict) -> str:
        bullets = "\n".join(f"- {p}" for p in output["points"])
        if output["method"] == "extracted":
            bullets += "\n\n_Extracted from the text: the model's own summary did not match it._"
        return bullets


@hookimpl
def register_tasks(register):
    register(Summarize())
