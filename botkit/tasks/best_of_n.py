"""Best-of-N, how a small model gives usable copy: sample candidates in batches until N pass the limit
and the copy checks (`botkit.tasks.copy_checks`), rank those with a scorer (`botkit.tasks.scoring`:
the promoted reward version once it beat brand similarity, else brand similarity), best first, name
the ranker, and say plainly when fewer than N passed."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.runnables import RunnableLambda

from botkit.decoding import DecodingOptions
from botkit.knowledge.terms import content_words
from botkit.tasks.brand_voice import copy_caution, copy_engine
from botkit.tasks.copy import ends_sentence, first_line, repeats_itself, whole_sentences
from botkit.tasks.copy_checks import BRIEF_MAY_SKIP, CopyChecks
from botkit.tasks.model import note_call, to_chat
from botkit.tasks.scoring import Scorer, copy_scorer, rank_scores, ranker_name

ROUNDS = 3  # batches sampled at most before showing fewer variants than asked
Checker = Callable[[list[str]], list[list[str]]]  # texts -> the checks each one fails


@dataclass
class Candidate:
    text: str
    score: float
    written_by: str = "model"  # or "brief": composed from the brief's own words (`botkit.tasks.brief_copy`)


class Checked(list):
    """What passed every check (candidates, or the rows a task shows), best first, with what the checks
    found: `sampled` distinct candidates, `failed` how many failed each check, `note` why fewer than
    `asked` came back ("" when enough passed), `ranker` the scorer that ordered them, `caution` what
    the model's lines are worth (`brand_voice.copy_caution`), said only beside a line the model wrote,
    and `ideas`: the copy model's lines that passed the checks but are not shown as variants, because
    a reader found nearly none of that model's usable (the default 135M model: 1 of 43)."""

    def __init__(self, items=(), *, asked: int = 0, sampled: int = 0, failed: Counter | None = None,
                 ranker: str = "", caution: str = "", ideas: list[str] = (), ideas_off: bool = False):
        super().__init__(items)
        self.ideas_off = ideas_off  # the copy model's lines were not asked for (`copy_ideas` off): said in the note
        self.asked, self.sampled, self.failed = asked, sampled, failed or Counter()
        self.ranker = ranker  # the scorer that ordered them: "reward_version", "brand_similarity", ...
        self.model_caution, self.ideas = caution, list(ideas)  # the caution text, said or not

    @property
    def caution(self) -> str:
        """The copy model's caution when a line it wrote is shown, as a variant or an idea; else ""."""
        wrote = self.ideas or any("model" in _writer(item) for item in self)
        return self.model_caution if wrote else ""

    def like(self, items) -> Checked:
        """`items` (rows made from these candidates) with these candidates' findings."""
        return Checked(items, asked=self.asked, sampled=self.sampled, failed=self.failed, ranker=self.ranker,
                       caution=self.model_caution, ideas=self.ideas, ideas_off=self.ideas_off)

    @property
    def note(self) -> str:
        if len(self) >= self.asked:
            return ""
        failing = ", ".join(f"{name} ({n})" for name, n in self.failed.most_common())
        got = f"only {len(self)} of {self.asked}" if self else f"none of the {self.asked}"
        composed = f"{got} variants asked for passed the checks as lines made of the brief's words"
        if self.ideas_off:  # the model was not asked: its lines are not worth a person's time by default
            return (f"{composed} ({self.sampled} lines; failed: {failing or 'none'}); the small copy model's own "
                    f"lines are not shown (option ideas=true lists them apart, unchecked), and a stronger copy "
                    f"model writes more")
        if self.ideas:  # the model's lines passed too, but are not shown as variants
            return (f"{composed} ({self.sampled} candidates; failed: {failing or 'none'}); the copy model's own "
                    f"lines are set apart as ideas, and a stronger copy model writes more")
        return (f"{got} variants asked for passed the checks ({self.sampled} candidates sampled; "
                f"failed: {failing or 'none'}); try another seed or a stronger model")


def best_of_n(engine, messages: list[dict], *, samples: int, keep: int, limit: int, scorer: Scorer,
              decoding: DecodingOptions, clean: Callable[[str], str] = first_line,
              check: Checker | None = None, rounds: int = ROUNDS, composed: list[str] = (),
              prefer_brief: bool = False, model_ideas: bool = False, caution: str = "", ideas: bool = True,
              soft: tuple[str, ...] = BRIEF_MAY_SKIP, brief: str = "") -> Checked:
    """Up to `keep` distinct candidates of at most `limit` characters that pass `check`, best first.

    Samples `samples` at a time (seeded, so runs repeat; each round the next seed) for at most
    `rounds` batches; a candidate over the limit keeps its first whole sentences that fit, else it is
    dropped: never cut mid-sentence (a cut line is not copy). `composed` lines (made of the brief's own
    words) are checked and ranked beside the samples, and marked `written_by="brief"` (they may fail the
    `soft` checks: those are counted, but the line is the person's own words); `prefer_brief`
    shows those that pass before any of the model's, in the composer's order (best first, and varied);
    `model_ideas` (for a model whose own lines read as nonsense) shows only those, and the model's
    lines that passed (one round of samples) apart as `ideas`, or, without `ideas`, the model is not asked
    at all (a reader found 3 of its 78 such lines usable): fewer variants than asked are then said.
    `caution` is said beside the model's lines (`Checked.caution`). A line that is a shown one plus words
    the `brief` never uses ("... Simple as that.", the tagline) is the same variant signed off: not shown.
    """
    options = decoding.merged(strategy="sample", seed=decoding.seed or 0)
    seen: set[str] = set()
    passed: list[str] = []
    failed: Counter = Counter()

    def judge(texts: list[str], verdicts: list[list[str]], skip: tuple[str, ...] = ()) -> None:
        """Add `check`'s findings to each text's `verdicts`, count them, keep the texts with none but `skip`."""
        if check and texts:
            verdicts = [v + c for v, c in zip(verdicts, check(texts))]
        failed.update(name for v in verdicts for name in v)
        passed.extend(t for t, v in zip(texts, verdicts) if not set(v) - set(skip))

    from_brief = {t for t in composed if t and len(t) <= limit}
    if from_brief:
        texts = list(dict.fromkeys(t for t in composed if t in from_brief))
        seen.update(t.lower() for t in texts)
        judge(texts, [_limits(t, limit) for t in texts], soft)
    for round_ in range((1 if ideas else 0) if model_ideas else rounds):
        batch = engine.generate_batch([messages] * samples, options.merged(seed=options.seed + round_))
        texts, verdicts = [], []
        for g in batch:
            cleaned = clean(g.text)
            # Stopped by the token cap with the kept text at the reply's end: its last sentence may be cut.
            capped = g.completion_tokens >= options.max_new_tokens and _at_end(cleaned, g.text)
            text = whole_sentences(cleaned, limit, capped)
            if text.lower() not in seen:
                seen.add(text.lower())
                texts.append(text)
                verdicts.append(_limits(text, limit) + (["cut off"] if capped and not ends_sentence(text) else []))
        judge(texts, verdicts)
        if len(passed) >= keep:
            break
    # A reward model scores each candidate as an answer to the chat the engine saw (what it trained on).
    scores = rank_scores(scorer, passed, messages) if passed else []
    first = {t: i for i, t in enumerate(composed)} if prefer_brief or model_ideas else {}
    ranked = sorted(zip(passed, scores), key=lambda pair: (pair[0] not in first, first.get(pair[0], 0), -pair[1]))
    shown_ideas = [t for t, _ in ranked if t not in from_brief][:keep] if model_ideas else []
    ranked = [pair for pair in ranked if pair[0] in from_brief or not model_ideas]
    ranked, signed = _distinct(ranked, brief)
    failed.update({"the same line with another ending": signed} if signed else {})
    ranked = ranked[:keep]
    note_call(messages, ranked[0][0] if ranked else None)
    return Checked([Candidate(t, float(s), "brief" if t in from_brief else "model") for t, s in ranked], asked=keep,
                   sampled=len(seen), failed=failed, ranker=ranker_name(scorer), caution=caution, ideas=shown_ideas,
                   ideas_off=model_ideas and not ideas)


def best_of_n_step(bot, prompt, *, keep: int, limit: int, seed: int, max_new_tokens: int,
                   scorer: Scorer | None = None, clean: Callable[[str], str] = first_line,
                   brand_words: bool = True, copy_model: bool = False,
                   compose: Callable[[str], list[str]] | None = None, ideas: bool | None = None) -> RunnableLambda:
    """`best_of_n` as a Runnable step (the user's brief in, checked candidates out) over `prompt` on
    `bot`'s active model and decoding; `scorer` defaults to `copy_scorer(bot)` (the promoted reward
    version when it beat brand similarity on held-out pairs, else brand similarity), the checks are
    `CopyChecks` against the brief (`brand_words`: must use one of the brand's words); `copy_model`:
    write with the copy model (`brand_voice.copy_engine`, what copy tasks do) and carry its caution,
    else with the bot's chat model; `compose(brief)` gives lines made of the brief's own words to rank
    beside the samples (`botkit.tasks.brief_copy.composer`); when the copy model carries a caution (the
    default 135M model: a blind reader found 1 of its 43 shown lines usable, after an edit) they are the
    only variants shown, and the model's lines that pass are set apart as ideas when `ideas` (None: the
    `copy_ideas` setting, off) asks for them; else the model is not asked."""
    scorer = scorer or copy_scorer(bot)
    decoding = bot.settings.decoding.merged(max_new_tokens=max_new_tokens, seed=seed)
    engine, caution = (copy_engine(bot), copy_caution(bot)) if copy_model else (bot.engine, "")
    ideas = bot.settings.copy_ideas if ideas is None else ideas

    def run(brief: str) -> Checked:
        checks = CopyChecks(bot, brief, brand_words=brand_words)
        return best_of_n(engine, to_chat(prompt.invoke(brief)), samples=max(3 * keep, 6), keep=keep, limit=limit,
                         scorer=scorer, decoding=decoding, clean=clean, check=checks.failures,
                         composed=compose(brief) if compose else [], prefer_brief=bool(caution),
                         model_ideas=bool(caution) and compose is not None, caution=caution, ideas=ideas,
                         brief=brief)

    return RunnableLambda(run)


def _distinct(ranked: list[tuple[str, float]], brief: str) -> tuple[list[tuple[str, float]], int]:
    """`ranked` without the lines that only add a sign-off to one before them, or drop it (the words
    added are none of the `brief`'s): three variants asked for are three lines, not one with and
    without "Simple as that."; and how many were left out."""
    if not brief:
        return ranked, 0
    said = content_words(brief)
    kept: list[tuple[str, float]] = []
    for pair in ranked:
        words = _words(pair[0])
        if not any(_signed_off(words, _words(k[0]), said) for k in kept):
            kept.append(pair)
    return kept, len(ranked) - len(kept)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9$%']+", text.lower())


def _signed_off(a: list[str], b: list[str], said: set[str]) -> bool:
    """Is one of `a`, `b` the other plus words that say nothing of the brief (`said`)?"""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return long_[:len(short)] == short and not content_words(" ".join(long_[len(short):])) & said


def _writer(item) -> str:
    """Who wrote a shown item: a `Candidate` or a task's row (a dict with `written_by`)."""
    return item.get("written_by", "model") if isinstance(item, dict) else getattr(item, "written_by", "model")


def _at_end(cleaned: str, raw: str) -> bool:
    tail = " ".join(cleaned.split())[-12:].strip("\"'“”")
    return " ".join(raw.split()).strip("\"'“”").endswith(tail)


def _limits(text: str, limit: int) -> list[str]:
    if not text:
        return ["empty"]
    return (["over the limit"] if len(text) > limit else []) + (["repeats itself"] if repeats_itself(text) else [])
