"""SEO meta descriptions: N variants of 120-158 characters (what search results show in full) in the
brand's voice, each containing the target keyword when one is given."""

from __future__ import annotations

import re

from langchain_core.runnables import RunnableLambda
from pydantic import Field

from botkit.hookspecs import hookimpl
from botkit.tasks import Task, TaskOptions, best_of_n_step, chat_prompt, copy_scorer, first_line, penalized
from botkit.tasks.brand_voice import copy_engine
from botkit.tasks.brief_copy import composer
from botkit.tasks.copy import IdeasOption
from botkit.tasks.copy_checks import brand_words_prompt, check_report, origin_mark, with_note

META_MIN, META_MAX = 120, 158


def fit_meta(text: str) -> str:
    """The whole reply as one line; over META_MAX characters, its first whole sentences when they are
    at least META_MIN long (never a cut mid-sentence: a longer reply is dropped by the limit)."""
    line = first_line(" ".join(text.split()))
    if len(line) <= META_MAX:
        return line
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s|$)", line) if META_MIN <= m.end() <= META_MAX]
    return line[: ends[-1]] if ends else line


def with_keyword(text: str, keyword: str) -> str:
    """`text` if it contains `keyword`, else `text` led by the keyword (which may take it over the limit:
    then it is not shown)."""
    if keyword.lower() in text.lower():
        return text
    return f"{keyword[:1].upper()}{keyword[1:]}: {text}"


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
        ideas: IdeasOption = None

    engine = staticmethod(copy_engine)  # a copy plugin: it writes with the copy model, like the others

    def build(self, bot, options: Options):
        keyword = options.keyword.strip()
        lacks = (lambda t: keyword.lower() not in t.lower()) if keyword else (lambda t: False)
        system = (f"{bot.brand.system_prompt()} Write the meta description search results show for the user's page: "
                  f"one or two sentences, {META_MIN} to {META_MAX - 8} characters"
                  + (f", containing the phrase \"{keyword}\"" if keyword else "")
                  + f".{brand_words_prompt(bot)} Reply with the description only.")
        # Short or keyword-less candidates rank last, so the best-of-N keeps the ones that can be shown.
        score = penalized(copy_scorer(bot), lambda t: (len(t) < META_MIN) + lacks(t))
        compose = composer(bot, META_MAX, "meta")
        metas = best_of_n_step(bot, chat_prompt(system, self.examples), keep=options.n, limit=META_MAX,
                               seed=options.seed, max_new_tokens=48, scorer=score, clean=fit_meta, copy_model=True,
                               ideas=options.ideas,
                               compose=lambda brief: [line for line in compose(brief) if len(line) >= META_MIN])

        def rows(candidates):
            kept = [c for c in candidates if not lacks(c.text)] or list(candidates)
            texts = [(with_keyword(c.text, keyword) if keyword else c.text, c.score, c.written_by) for c in kept]
            texts = [row for row in texts if len(row[0]) <= META_MAX]
            texts = [row for row in texts if len(row[0]) >= META_MIN] or texts  # too short only when nothing is longer
            return candidates.like([{"description": t, "characters": len(t), "score": round(s, 3), "written_by": w}
                                    for t, s, w in texts])

        return metas | RunnableLambda(rows)

    def evaluate(self, bot, dataset: list[dict], on_progress=None, **options) -> dict:
        def problems(row: dict, opts) -> list[str]:
            n = len(row["description"])
            keyword = opts.keyword.strip().lower()
            return (["too short"] if n < META_MIN else []) + (["too long"] if n > META_MAX else []) + (
                ["keyword missing"] if keyword and keyword not in row["description"].lower() else [])

        return check_report(self, bot, dataset, problems, on_progress, **options)

    def format(self, output: list[dict]) -> str:
        return with_note("\n".join(f"{i}. {row['description']} _({row['characters']} characters)_{origin_mark(row)}"
                                   for i, row in enumerate(output, 1)), output)


@hookimpl
def register_tasks(register):
    register(SeoMeta())
