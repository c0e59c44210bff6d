"""Email subject lines: N variants of at most 60 characters in the brand's voice, optional preview
text, spam-trigger words flagged. The template for built-in task plugins."""

from __future__ import annotations

import re

from langchain_core.runnables import RunnableLambda, RunnableParallel, RunnablePassthrough
from pydantic import Field

from botkit.hookspecs import hookimpl
from botkit.tasks import (
    CopyChecks,
    ModelStep,
    Task,
    TaskOptions,
    best_of_n_step,
    chat_prompt,
    copy_scorer,
    first_line,
    penalized,
)
from botkit.tasks.brand_voice import copy_engine
from botkit.tasks.brief_copy import composer
from botkit.tasks.copy import CopyPrompt, IdeasOption
from botkit.tasks.copy_checks import brand_words_prompt, check_report, origin_mark, with_note

SUBJECT_LIMIT = 60
PREVIEW_LIMIT = 90  # what most inboxes show after the subject
SPAM_PENALTY = 0.1  # per flag: a spammy line is shown, but never first when a clean one exists
SPAM_TRIGGERS = {
    # "Free shipping" said plainly is the offer itself (the most common shop subject line); shouted, with "!",
    # or as a giveaway it reads as spam.
    "free": r"(?-i:\bFREE\b)|(?<!-)\bfree\s*!|\bfree (?:gifts?|money|cash|prizes?|trials?|\w+ giveaways?)\b",
    "guarantee": r"\bguarantee[ds]?\b", "act now": r"\bact now\b", "100%": r"\b100\s?%",
    "winner": r"\bwinners?\b", "!!!": r"!{2,}", "cash": r"\bcash\b", "urgent": r"\burgent\b",
    "limited time": r"\blimited[- ]time\b", "click here": r"\bclick here\b", "buy now": r"\bbuy now\b",
    "risk-free": r"\brisk[- ]free\b", "$$$": r"\${2,}",
}


def spam_flags(text: str) -> list[str]:
    """The spam-trigger words in `text`, plus any word in all caps (filters read shouting as spam)."""
    flags = [word for word, pattern in SPAM_TRIGGERS.items() if re.search(pattern, text, re.I)]
    shouted = re.findall(r"\b[A-Z]{3,}\b", text)
    return flags + ([f"all caps: {' '.join(shouted)}"] if shouted else [])


class SubjectLines(Task):
    name = "subject_lines"
    aliases = ("subject",)
    intents = [
        "Write email subject lines for our newsletter",
        "Give me subject line ideas for an email campaign",
        "Suggest an email subject for our sale announcement",
        "What should the subject line of our marketing email be?",
    ]
    description = "Write email subject lines (<= 60 characters) with optional preview text, flagging spam triggers."
    examples = [
        # Each uses one of the sample brand's words: a small model copies the examples more than the rules.
        {"input": "Our spring sale on toasters", "output": "Golden toast for years, now for a little less"},
        {"input": "A kettle recycling program", "output": "Send us your old kettle. Simple as that."},
    ]

    class Options(TaskOptions):
        n: int = Field(5, ge=1, le=20, description="How many subject lines.")
        preview: bool = Field(False, description="Also write preview text for each.")
        audience: str = Field("", description="Who the email is for (default: the brand's audience).")
        seed: int = Field(0, description="Sampling seed: the same seed gives the same lines.")
        ideas: IdeasOption = None

    # A subject line needs none of the brand's words: the From field names the brand, and its 60 characters
    # (35-50 shown by most inboxes) go to the offer and the date; a closing left no room for them.
    brand_words = False
    engine = staticmethod(copy_engine)
    copy_fields = ("subject",)  # what the model writes: the keys of copy_prompts()

    def copy_prompts(self, bot, options: Options) -> dict[str, CopyPrompt]:
        """The prompt of each field the model writes (the preview is written after, from the subject)."""
        audience = options.audience or bot.brand.audience or "our customers"
        system = (f"{bot.brand.system_prompt()} Write one email subject line for {audience.rstrip('.')}, "
                  f"under {SUBJECT_LIMIT} characters.{brand_words_prompt(bot)} Reply with the subject line only.")
        return {"subject": CopyPrompt(chat_prompt(system, self.examples), SUBJECT_LIMIT, brand_words=self.brand_words,
                                      max_new_tokens=32)}

    def build(self, bot, options: Options):
        subject = self.copy_prompts(bot, options)["subject"]
        score = penalized(copy_scorer(bot), lambda t: SPAM_PENALTY * len(spam_flags(t)))

        def rows(state: dict) -> list[dict]:
            subjects = state["subjects"]
            texts = [c.text for c in subjects]
            previews = self._previews(bot, state["text"], texts) if options.preview else [None] * len(subjects)
            return subjects.like([{"subject": c.text, "preview": p, "spam_flags": spam_flags(f"{c.text} {p or ''}"),
                                 "score": round(c.score, 3), "written_by": c.written_by}
                                 for c, p in zip(subjects, previews)])

        subjects = best_of_n_step(bot, subject.prompt, keep=options.n, limit=subject.limit, seed=options.seed,
                                  max_new_tokens=subject.max_new_tokens, scorer=score, copy_model=True,
                                  brand_words=subject.brand_words,
                                  ideas=options.ideas, compose=composer(bot, subject.limit, "subject"))
        return RunnableParallel(text=RunnablePassthrough(), subjects=subjects) | RunnableLambda(rows)

    def evaluate(self, bot, dataset: list[dict], on_progress=None, **options) -> dict:
        def problems(row: dict, opts) -> list[str]:
            return (["subject over 60 characters"] if len(row["subject"]) > SUBJECT_LIMIT else []) + (
                ["preview over 90 characters"] if len(row["preview"] or "") > PREVIEW_LIMIT else []) + (
                ["spam trigger"] if row["spam_flags"] else [])

        return check_report(self, bot, dataset, problems, on_progress, **options)

    def format(self, output: list[dict]) -> str:
        lines = []
        for i, row in enumerate(output, 1):
            line = f"{i}. **{row['subject']}**"
            if row["preview"]:
                line += f" — {row['preview']}"
            if row["spam_flags"]:
                line += f" (spam triggers: {', '.join(row['spam_flags'])})"
            line += origin_mark(row)
            lines.append(line)
        return with_note("\n".join(lines), output)

    def _previews(self, bot, text: str, subjects: list[str]) -> list[str]:
        """One preview line per subject, in one batched call; the brand's tagline for a draft over the
        limit or failing the checks (a preview is never left blank once asked for, nor cut)."""
        system = (f"{bot.brand.system_prompt()} Write the preview text an inbox shows after an email's subject: "
                  f"one sentence under {PREVIEW_LIMIT} characters that adds to the subject.")
        prompt = chat_prompt(system, human="Email about: {text}\nSubject: {subject}")
        prompts = [prompt.invoke({"text": text, "subject": s}) for s in subjects]
        drafts = ModelStep(copy_engine(bot), bot.settings.decoding.merged(max_new_tokens=40)).batch(prompts)
        drafts = [first_line(d) for d in drafts]
        failures = CopyChecks(bot, text, brand_words=False).failures(drafts)
        return [d if d and len(d) <= PREVIEW_LIMIT and not f else bot.brand.tagline for d, f in zip(drafts, failures)]


@hookimpl
def register_tasks(register):
    register(SubjectLines())
