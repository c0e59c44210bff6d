"""Ad copy: N headline and description pairs for a product or campaign in the brand's voice, each
within its channel's character limits."""

from __future__ import annotations

import re
from typing import Literal

from langchain_core.runnables import RunnableLambda
from pydantic import Field

from botkit.hookspecs import hookimpl
from botkit.knowledge.terms import STOPWORDS
from botkit.tasks import Checked, Task, TaskOptions, best_of_n_step, chat_prompt
from botkit.tasks.brand_voice import copy_engine
from botkit.tasks.brief_copy import composer, plain, says_whole
from botkit.tasks.copy import CopyPrompt, IdeasOption
from botkit.tasks.copy_checks import brand_words_prompt, check_report, origin_mark, with_note, written_by
from botkit.tasks.model import note_output

# channel -> (headline limit, description limit), as the ad platforms count characters
CHANNEL_LIMITS = {"search": (30, 90), "social": (40, 125), "display": (25, 90)}


class AdCopy(Task):
    name = "ad_copy"
    aliases = ("adcopy",)
    # Example requests for routing; no product names: questions about a product must stay in chat.
    intents = [
        "Write a Google search ad for the product",
        "Write an online ad for a product",
        "Write ad copy for our campaign",
        "Write ad headlines and descriptions for a display ad",
    ]
    description = "Write ad headlines and descriptions within a channel's limits (search, social or display)."
    # One headline and one description per example: each prompt takes its own line of the output.
    examples = [
        {"input": "The Zephyr 3000 kettle",
         "output": "A kettle you buy once\nBuilt to last: five temperature presets and a seven-year warranty."},
        {"input": "Our kettle recycling program",
         "output": "Your old kettle, sent off well\nSend us any old kettle, any brand. We recycle it. Simple."},
    ]

    class Options(TaskOptions):
        channel: Literal["search", "social", "display"] = Field(
            "search", description="Where the ad runs: its character limits.")
        n: int = Field(3, ge=1, le=10, description="How many headline and description pairs.")
        seed: int = Field(0, description="Sampling seed: the same seed gives the same ads.")
        ideas: IdeasOption = None

    engine = staticmethod(copy_engine)
    copy_fields = ("headline", "description")  # what the model writes: the keys of copy_prompts()

    def copy_prompts(self, bot, options: Options) -> dict[str, CopyPrompt]:
        """The headline's prompt and the description's: each takes its own line of the examples."""
        def prompt(part: int, what: str, limit: int, tokens: int, brand_words: bool) -> CopyPrompt:
            system = (f"{bot.brand.system_prompt()} Write one {what} for a {options.channel} ad, "
                      f"under {limit} characters.{brand_words_prompt(bot) if brand_words else ''} "
                      f"Reply with the {what} only.")
            shots = [{"input": ex["input"], "output": ex["output"].splitlines()[part]} for ex in self.examples]
            return CopyPrompt(chat_prompt(system, shots), limit, brand_words, tokens)

        headline_limit, description_limit = CHANNEL_LIMITS[options.channel]
        # A headline has no room for the brand's words; its description carries them.
        return {"headline": prompt(0, "headline", headline_limit, 16, brand_words=False),
                "description": prompt(1, "description", description_limit, 40, brand_words=True)}

    def build(self, bot, options: Options):
        def best(part: int, p: CopyPrompt, kind: str):
            # More of each than asked: a headline is shown only beside a description that does not repeat it.
            return best_of_n_step(bot, p.prompt, keep=2 * options.n + 2, limit=p.limit, seed=options.seed + part,
                                  max_new_tokens=p.max_new_tokens, brand_words=p.brand_words, copy_model=True,
                                  ideas=options.ideas, compose=composer(bot, p.limit, kind))

        prompts = self.copy_prompts(bot, options)
        headlines = best(0, prompts["headline"], "headline")
        descriptions = best(1, prompts["description"], "description")

        def rows(text: str) -> Checked:
            heads, descs = headlines.invoke(text), descriptions.invoke(text)
            shown = [{"headline": h.text, "description": d.text, "score": round((h.score + d.score) / 2, 3),
                      "written_by": written_by(h, d)} for h, d in paired(heads, descs, text)[: options.n]]
            note_output(shown[0]["description"] if shown else None)  # the description's chat was the last call
            # The caution is set once, by the checked lists: `Checked` says it only beside the model's lines.
            return Checked(shown, asked=options.n, sampled=heads.sampled + descs.sampled,
                           failed=heads.failed + descs.failed, ranker=heads.ranker,
                           caution=heads.model_caution or descs.model_caution,
                           ideas=[f"{h} — {d}" for h, d in zip(heads.ideas, descs.ideas)], ideas_off=heads.ideas_off)

        return RunnableLambda(rows)

    def evaluate(self, bot, dataset: list[dict], on_progress=None, **options) -> dict:
        def problems(row: dict, opts) -> list[str]:
            headline_limit, description_limit = CHANNEL_LIMITS[opts.channel]
            return (["headline over limit"] if len(row["headline"]) > headline_limit else []) + (
                ["description over limit"] if len(row["description"]) > description_limit else [])

        return check_report(self, bot, dataset, problems, on_progress, **options)

    def format(self, output: list[dict]) -> str:
        lines = "\n".join(f"{i}. **{row['headline']}** — {row['description']}{origin_mark(row)}"
                          for i, row in enumerate(output, 1))
        return with_note(lines, output)


def paired(heads: list, descs: list, brief: str = "") -> list[tuple]:
    """Headlines and descriptions, best first, each headline with the best description left that does
    not repeat it ("The Brew Bundle" with "A Millrace Burr Grinder and ... for $219.", not with "The Brew
    Bundle: a Millrace ..."); a headline with only repeating ones left is not shown (a reader read "1 point
    for every $1 / 1 point for every $1, no fee." as an ad to fix, not to send); with the `brief`, only an ad
    that says it whole (`brief_copy.says_whole`)."""
    left, pairs = list(descs), []
    for h in heads:
        fits = (d for d in left if not repeats(h.text, d.text) and (not brief or says_whole(brief, h.text, d.text)))
        if d := next(fits, None):
            left.remove(d)
            pairs.append((h, d))
    return pairs


def repeats(headline: str, description: str) -> bool:
    """Does `description` say `headline` again: open on its words ("Click-and-collect orders are held /
    Click-and-collect orders are held for 14 days ..."), or say three in five of its content words and
    add three or fewer of its own (a closing counts), or say all of a headline of three words or more? (A
    description naming the headline's product among
    more, "Kettlebrook Circle / Join Kettlebrook Circle: 1 point for every $1", reads as an ad.)"""
    said, says = _words(headline), _words(description)
    opens = plain(description).startswith(plain(headline))
    # A headline of three or more words said again whole, wherever ("Hot cross buns are back for Easter" /
    # "From March 20 until April 5: hot cross buns are back for Easter."), is the ad twice.
    again = len(said) >= 3 and said <= says or len(headline.split()) >= 3 and plain(headline) in plain(description)
    return bool(said) and (opens or again or len(said & says) >= 0.6 * len(said) and len(says - said) <= 3)



def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[\w$%'-]+", text.lower()) if w not in STOPWORDS}


@hookimpl
def register_tasks(register):
    register(AdCopy())
