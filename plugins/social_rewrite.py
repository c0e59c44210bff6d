"""Social post rewrite: a post rewritten for X, LinkedIn or Instagram in the brand's voice, within
the platform's length; Instagram posts end with hashtags (names, the brand's own tags, its name)."""

from __future__ import annotations

import re
from typing import Literal

from langchain_core.runnables import RunnableLambda, RunnableParallel, RunnablePassthrough
from pydantic import Field

from botkit.hookspecs import hookimpl
from botkit.knowledge.terms import STOPWORDS, WORD, bare
from botkit.tasks import Task, TaskOptions, best_of_n_step, chat_prompt
from botkit.tasks.brand_voice import copy_engine
from botkit.tasks.brief_copy import archive_hashtags, bot_archive, composer, dated
from botkit.tasks.copy import CopyPrompt, IdeasOption
from botkit.tasks.copy_checks import brand_words_prompt, check_report, origin_mark, with_note

# platform -> (character limit, how to write for it, tokens to sample: a 135M model rambles if let)
PLATFORMS = {
    "x": (280, "a post for X (Twitter): short and direct", 64),
    "linkedin": (3000, "a LinkedIn post in a professional tone", 160),
    "instagram": (2200, "an Instagram caption: friendly and visual", 112),
}
HASHTAG = re.compile(r"#[A-Za-z]\w*")
TAG_ROOM = 5 * 21  # five closing hashtags of up to 20 characters: a post is written short enough to take them
NOT_TAGS = STOPWORDS | {"rewrite", "post", "platform", "instagram", "linkedin", "twitter", "caption"} | set(
    # Words that say nothing as a tag (a reader judged "#held #days #picked" and "#order #online" junk).
    "order orders online days hours weeks months years times every available simple".split())
# A name of one or more capitalised words, not a sentence's first word: "Apple Pay" -> #applepay.
_NAME = re.compile(r"\b[A-Z][A-Za-z]+(?:\s+[A-Z][A-Za-z]+)*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+)$")


def clean_post(text: str) -> str:
    """The post without a leading label or wrapping quotes, runs of blank lines collapsed."""
    text = re.sub(r"^\s*(?:here(?:'s| is)[^\n:]*:|(?:rewritten |new )?(?:post|caption|tweet)\s*:)", "", text,
                  flags=re.I)
    return re.sub(r"\n{3,}", "\n\n", text).strip().strip("\"'“”").strip()


def keyword_hashtags(text: str, k: int = 5, brand: str = "", known: list[str] = ()) -> list[str]:
    """Up to `k` hashtags a person would follow: the names in `text` ("#applepay", "#burlington"), the
    brand's own tags (`known`, from its copy archive: "#tea", "#giftcard") whose words `text` uses, and
    the `brand`'s name. No other word of the text: a reader judged "#closes #stays" and "#costs #ships"
    junk, and without a part-of-speech tagger a verb cannot be told from a noun. Fewer tags, or only the
    brand's, rather than junk."""
    # One capitalised word starting a sentence is no name; "Apple Pay" starting one is.
    runs = [m.group() for m in _NAME.finditer(text)
            if " " in m.group() or not _SENTENCE_START.search(text[: m.start()])]
    runs = [[bare(w) for w in run.split() if bare(w) not in STOPWORDS] for run in runs]
    # Not a month or a day: "#march #monday" is no tag anyone follows.
    names = ["".join(run) for run in runs if run and "".join(run) not in NOT_TAGS and not dated(" ".join(run))]
    words = [bare(t) for t in WORD.findall(text)]
    said = {*words, *map("".join, zip(words, words[1:]))}  # "gift card" -> #giftcard
    said |= {w[:-1] for w in said if w.endswith("s")}  # "kettles" -> #kettle
    used = [tag.lstrip("#").lower() for tag in known if tag.lstrip("#").lower() in said]
    tags = list(dict.fromkeys(names + used + [bare(brand).replace(" ", "")] * bool(brand)))
    return ["#" + t for t in tags if t][:k]


def with_hashtags(post: str, source: str, brand: str = "", known: list[str] = ()) -> str:
    """`post` ending in up to five hashtags: the model's own closing ones, topped up from the names of
    the post and its brief, the brand's own tags it uses (`known`) and the `brand`'s name (the post was
    written `TAG_ROOM` under the limit, so it is never cut to make room)."""
    closing = HASHTAG.findall(m.group()) if (m := re.search(r"(?:\s*#\w+)+\s*$", post)) else []
    body = post[: m.start()].rstrip() if m else post
    tags = list(dict.fromkeys(t.lower() for t in closing))
    if len(tags) < 3:
        tags = list(dict.fromkeys(tags + keyword_hashtags(f"{source.rstrip('. ')}. {body}", brand=brand,
                                                          known=known)))
    line = " ".join(tags[:5])
    return f"{body}\n\n{line}" if line else body


class SocialRewrite(Task):
    name = "social_rewrite"
    aliases = ("rewrite",)
    intents = [
        "Rewrite this post for X",
        "Write a tweet about our new product",
        "Rewrite this text as a post for LinkedIn",
        "Rewrite this as an Instagram caption with hashtags",
        "Adapt this announcement into a social media post",
    ]
    description = ("Rewrite a post for X (<= 280 characters), LinkedIn or Instagram (with hashtags) "
                   "in the brand's voice.")
    examples = [
        {"input": "We are pleased to announce that the Zephyr Mini travel kettle is now available for purchase.",
         "output": "The Zephyr Mini is here: a small kettle for big trips. Folds flat, boils anywhere, "
                   "lasts for years."},
        {"input": "Our repair service now covers toasters bought more than five years ago.",
         "output": "Old toaster acting up? We'll fix it, even if you bought it more than five years ago. "
                   "Well-made things deserve a second life."},
    ]

    class Options(TaskOptions):
        platform: Literal["x", "linkedin", "instagram"] = Field(
            "x", description="Where the post goes: its length and tone.")
        n: int = Field(3, ge=1, le=10, description="How many rewrites.")
        seed: int = Field(0, description="Sampling seed: the same seed gives the same posts.")
        ideas: IdeasOption = None

    engine = staticmethod(copy_engine)
    copy_fields = ("post",)  # what the model writes: the keys of copy_prompts()

    def copy_prompts(self, bot, options: Options) -> dict[str, CopyPrompt]:
        """The post's prompt; an Instagram post is written short enough to take its hashtags after."""
        limit, style, tokens = PLATFORMS[options.platform]
        system = (f"{bot.brand.system_prompt()} Rewrite the user's text as {style}, under {limit} characters."
                  f"{brand_words_prompt(bot)} Reply with the post only.")
        room = TAG_ROOM if options.platform == "instagram" else 0
        return {"post": CopyPrompt(chat_prompt(system, self.examples), limit - room, True, tokens, clean_post)}

    def build(self, bot, options: Options):
        post = self.copy_prompts(bot, options)["post"]
        posts = best_of_n_step(bot, post.prompt, keep=options.n, limit=post.limit, seed=options.seed,
                               max_new_tokens=post.max_new_tokens, clean=post.clean, copy_model=True,
                               ideas=options.ideas, compose=composer(bot, post.limit, "post"))

        def rows(state: dict) -> list[dict]:
            texts = [c.text for c in state["posts"]]
            if options.platform == "instagram":
                known = archive_hashtags(bot.brand, bot_archive(bot))
                texts = [with_hashtags(t, state["text"], bot.brand.name, known) for t in texts]
            return state["posts"].like([{"post": t, "characters": len(t), "score": round(c.score, 3),
                                       "written_by": c.written_by} for t, c in zip(texts, state["posts"])])

        return RunnableParallel(text=RunnablePassthrough(), posts=posts) | RunnableLambda(rows)

    def evaluate(self, bot, dataset: list[dict], on_progress=None, **options) -> dict:
        def problems(row: dict, opts) -> list[str]:
            too_long = len(row["post"]) > PLATFORMS[opts.platform][0]
            few_tags = opts.platform == "instagram" and not HASHTAG.findall(row["post"])
            return (["over the platform's limit"] if too_long else []) + (["no hashtags"] if few_tags else [])

        return check_report(self, bot, dataset, problems, on_progress, **options)

    def format(self, output: list[dict]) -> str:
        # Posts run over several lines: indent them under their number so the list stays a list.
        posts = (f"{i}. " + row["post"].replace("\n", "\n   ") + f" _({row['characters']} characters)_"
                 + origin_mark(row) for i, row in enumerate(output, 1))
        return with_note("\n".join(posts), output)


@hookimpl
def register_tasks(register):
    register(SocialRewrite())
