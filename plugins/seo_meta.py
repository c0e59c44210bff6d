"""SEO meta descriptions: N variants of 120-158 characters (what search results show in full) in the
brand's voice, each containing the target keyword when one is given."""

from __future__ import annotations

import re

from langchain_core.runnables import RunnableLambda
from pydantic import Field

from botkit.feedback.evaluation.copy import evaluate_copy
from botkit.hookspecs import hookimpl
from botkit.tasks import (
    Task,
    TaskOptions,
    best_of_n_step,
    chat_prompt,
    copy_scorer,
    first_line,
    penalized,
    trim_to_limit,
)

META_MIN, META_MAX = 120, 158


def fit_meta(text: str) -> str:
    """The whole reply as one line of at most META_MAX characters, ending at a sentence when one
    ends late enough, else at a word boundary."""
    cut = trim_to_limit(first_line(" ".join(text.split())), META_MAX)
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s|$)", cut)]
    return cut[: ends[-1]] if ends and ends[-1] >= META_MIN else cut


def with_keyword(text: str, keyword: str) -> str:
    """`text` if it contains `keyword`, else `text` led by the keyword, trimmed to keep the limit."""
    if keyword.lower() in text.lower():
        return text
    lead = f"{keyword[:1].upper()}{keyword[1:]}: "
    return lead + trim_to_limit(text, META_MAX - len(lead))


class SeoMeta(Task):
    name = "seo_meta"
    aliases = ("meta",)
    intents = [
        "Write an SEO meta description for our product page",
        "I need a meta description for the homepage",
        "Write a search result snippet for a web page with a keyword",
    ]
    description = "Write SEO meta descriptions (120-158 characters) for a web page, containing a target keyword."
    examples = [
        {"input": "Product page of the Zephyr 3000 kettle",
         "output": "The Zephyr 3000 electric kettle: five temperature presets for tea and coffee, a 1.7 liter jug "
                   "and a seven-year warranty. Built to last, for years."},
        {"input": "Our repair service page",
         "output": "Kettlebrook repairs what it makes: send us your kettle, toaster or grinder and we'll fix it "
                   "with standard parts we still sell. Simple and steady."},
    ]

    class Options(TaskOptions):
        keyword: str = Field("", max_length=60, description="A phrase every description must contain.")
        n: int = Field(3, ge=1, le=10, description="How many descriptions.")
        seed: int = Field(0, description="Sampling seed: the same seed gives the same descriptions.")

    def build(self, bot, options: Options):
        keyword = options.keyword.strip()
        lacks = (lambda t: keyword.lower() not in t.lower()) if keyword else (lambda t: False)
        system = (f"{bot.brand.system_prompt()} Write the meta description search results show for the user's page: "
                  f"one or two sentences, {META_MIN} to {META_MAX - 8} characters"
                  + (f", containing the phrase \"{keyword}\"" if keyword else "")
                  + ". Reply with the description only.")
        # Short or keyword-less candidates rank last, so the best-of-N keeps the ones that can be shown.
        score = penalized(copy_scorer(bot), lambda t: (len(t) < META_MIN) + lacks(t))
        metas = chat_prompt(system, self.examples) | best_of_n_step(
            bot, keep=options.n, limit=META_MAX, seed=options.seed, max_new_tokens=48, scorer=score, clean=fit_meta)

        def rows(candidates) -> list[dict]:
            candidates = [c for c in candidates if not lacks(c.text)] or candidates
            texts = [(with_keyword(c.text, keyword) if keyword else c.text, c.score) for c in candidates]
            texts = [(t, s) for t, s in texts if len(t) >= META_MIN] or texts  # too short only when nothing is longer
            return [{"description": t, "characters": len(t), "score": round(s, 3)} for t, s in texts]

        return metas | RunnableLambda(rows)

    def evaluate(self, bot, dataset: list[dict], on_progress=None, **options) -> dict:
        def problems(row: dict, opts) -> list[str]:
            n = len(row["description"])
            keyword = opts.keyword.strip().lower()
            return (["too short"] if n < META_MIN else []) + (["too long"] if n > META_MAX else []) + (
                ["keyword missing"] if keyword and keyword not in row["description"].lower() else [])

        return evaluate_copy(self, bot, dataset, problems, on_progress, **options)

    def format(self, output: list[dict]) -> str:
        return "\n".join(f"{i}. {row['description']} _({row['characters']} characters)_"
                         for i, row in enumerate(output, 1))


@hookimpl
def register_tasks(register):
    register(SeoMeta())
