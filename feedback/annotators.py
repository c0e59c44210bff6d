"""Annotators that judge a pair of candidates without a person, looked up through the
`register_annotators` hook; the built-in one is a simulated annotator (AlpacaFarm's method: declared
preferences plus seeded label noise) that stands in for people when the loop is benchmarked.

A team plugs in its own judge with a plugin (an LLM judge on a strong model, say):

    @botkit.hookimpl
    def register_annotators(register):
        register(MyJudge())   # has .name and .judge(prompt, a, b, context) -> "a" | "b" | "tie" | "both-bad"
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from botkit.errors import BotkitError
from botkit.hookspecs import hookimpl

SIMULATED = "simulated"
_CITATION = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


@dataclass
class JudgeContext:
    """What an annotator may know besides the prompt and the two texts."""

    plugin: str | None = None  # the copy plugin the prompt is a brief for; None for a chat question
    # The names of the checks a text fails ([] when it passes them all): see `checks_for`.
    failures: Callable[[str], list[str]] = field(default=lambda text: [])
    words_to_use: tuple[str, ...] = ()
    words_to_avoid: tuple[str, ...] = ()


def _has(text: str, phrase: str) -> bool:
    """`phrase` in `text` as whole words, a hyphen and a space counting alike."""
    pattern = r"[\s-]+".join(map(re.escape, re.split(r"[\s-]+", phrase.strip())))
    return bool(re.search(rf"\b{pattern}\b", text, re.I))


class SimulatedAnnotator:
    """A scripted annotator with declared preferences, compared in this order: the candidate failing
    fewer checks, then the one with fewer of the brand's banned words, then the one using the brand's
    words, then the shorter one (by more than `length_margin`); else a tie. When both fail as many
    checks the verdict is "both-bad", as a person would press; when both fail but one fails fewer, it
    is preferred (AlpacaFarm's annotators always pick the better of two, and on the default model's
    drafts, which nearly all fail a check, "both bad" alone would leave nothing to learn from). With
    probability `noise` a decisive verdict is flipped, decided by a hash of (seed, prompt, texts) so a
    rerun gives the same labels."""

    name = SIMULATED

    def __init__(self, noise: float = 0.15, seed: int = 0, length_margin: float = 0.1):
        if not 0.0 <= noise <= 1.0:
            raise BotkitError(f"label noise must be between 0 and 1, not {noise}")
        self.noise, self.seed, self.length_margin = noise, seed, length_margin

    def merits(self, text: str, context: JudgeContext) -> tuple[int, int, int]:
        """(failed checks, banned words, brand words missing): lower is better on each."""
        return (len(context.failures(text)), sum(_has(text, w) for w in context.words_to_avoid),
                int(bool(context.words_to_use) and not any(_has(text, w) for w in context.words_to_use)))

    def prefer(self, prompt: str, a: str, b: str, context: JudgeContext) -> str:
        """The verdict without noise."""
        if a.strip() == b.strip():
            return "tie"
        ma, mb = self.merits(a, context), self.merits(b, context)
        if ma[0] and ma[0] == mb[0]:
            return "both-bad"
        if ma != mb:
            return "a" if ma < mb else "b"
        la, lb = len(a.strip()), len(b.strip())
        if abs(la - lb) > self.length_margin * max(la, lb):
            return "a" if la < lb else "b"
        return "tie"

    def judge(self, prompt: str, a: str, b: str, context: JudgeContext) -> str:
        verdict = self.prefer(prompt, a, b, context)
        if verdict in ("a", "b") and self._draw(prompt, a, b) < self.noise:
            return "b" if verdict == "a" else "a"
        return verdict

    def _draw(self, prompt: str, a: str, b: str) -> float:
        """A uniform number in [0, 1) fixed by the seed and the pair (whichever side each text is on)."""
        key = "\x00".join([str(self.seed), prompt, *sorted((a, b))]).encode()
        return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2 ** 64


def checks_for(bot, prompt: str, plugin: str | None) -> Callable[[str], list[str]]:
    """The failures function of a prompt on `bot`: the copy checks (spelling, relevance, invented facts,
    brand and banned words, incomplete, role-play) of each line of a copy plugin's text; for a chat
    answer the same checks against the question, except the brand's words (answers need not use them),
    its citation markers left out."""
    from botkit.tasks.copy_checks import CopyChecks

    checks = CopyChecks(bot, prompt, brand_words=plugin is not None)

    def failures(text: str) -> list[str]:
        if plugin is None:  # "[2]" says which source an answer cites: not a figure the answer invented
            text = _CITATION.sub("", text)
        lines = [re.sub(r"^\s*(?:\d+[.)]|[-*•])\s*", "", line).strip() for line in text.splitlines()]
        lines = [line for line in lines if line] if plugin else [" ".join(lines)]
        if not lines:
            return ["empty"]
        return sorted({name for failed in checks.failures(lines) for name in failed})

    return failures


def context_for(bot, prompt: str, plugin: str | None) -> JudgeContext:
    """The context a built-in judge gets for a prompt on `bot`: its checks and the brand's words."""
    brand = bot.brand
    return JudgeContext(plugin=plugin, failures=checks_for(bot, prompt, plugin),
                        words_to_use=tuple(brand.words_to_use), words_to_avoid=tuple(brand.words_to_avoid))


@hookimpl(trylast=True)
def register_annotators(register) -> None:
    register(SimulatedAnnotator())
