"""Verifiable rewards for `botkit train rl`: TRL reward functions that score a completion with botkit's own
checks (the grounding check against the sources in its prompt, the copy plugins' checks) or a reward
version, and the grounded RL prompts they need: the exact chats the engine receives for a set of questions."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path

from botkit.errors import BotkitError
from botkit.grounding import DRAFT_SENTENCE_END, strip_citations
from botkit.jsonl import read_jsonl
from botkit.knowledge.terms import terms

# The rewards `--reward` names besides a reward version (`version:NAME`).
REWARDS = ("grounding", "copy-checks")
# A draft longer than this (in words) loses reward: only its first sentence is ever shown, and every
# word past it costs generation time.
SHORT_WORDS = 30
# The most a draft that fails the check, copies a source sentence or drops the fact can earn (for saying
# the fact's source sentence): what a quote would, below any answer in the model's own words with the fact.
PARTIAL = 0.5
FIGURE = r"\d+(?:[.,]\d+)*"


def completion_text(completion) -> str:
    """A TRL completion's text: a string, or a conversational completion's last message."""
    return completion if isinstance(completion, str) else completion[-1]["content"]


def grounded_prompts(bot, questions: list[dict]) -> list[dict]:
    """One RL row per question `bot` would answer from its sources: `prompt`, the chat its engine receives
    (system, few-shot turns, numbered sources, the question: `Bot.grounded_chat` builds it), and
    `sources` (JSON: the question, the source sentences behind each [n], the system prompt), what the
    grounding reward checks against; `question`, `expected` and `source` as the question set gives them.
    Questions the bot declines or answers part by part (no chat for the model to phrase) are left out."""
    rows = []
    for item in questions:
        plan = bot.grounded_chat(item["question"])
        if plan is None:
            continue
        sources = [{"sentence": e.sentence, "score": e.score, "n": plan.numbering[e.chunk.id], "chunk": asdict(e.chunk)}
                   for e in plan.evidence]
        checked = {"question": plan.message, "sources": sources, "system": plan.system, "brand": bot.brand.name,
                   "expected": list(item.get("expected") or [])}
        rows.append({"prompt": plan.messages, "sources": json.dumps(checked, ensure_ascii=False),
                     "question": item["question"], "expected": list(item.get("expected") or []),
                     "source": item.get("source", "")})
    return rows


def rl_rows_from(path: Path | None, settings, *, include_flagged: bool = False) -> tuple[list[dict], str]:
    """(rows, source) for `botkit train rl`: a file of questions (`question` lines, e.g. an eval set) becomes
    the grounded chats this home's bot would answer them from; a prompt file or the store as before."""
    from botkit.feedback.training.data import prompts_from

    if path and Path(path).exists():
        rows = read_jsonl(Path(path))
        if rows and all("question" in r and "prompt" not in r for r in rows):
            from botkit.dialogue import Bot

            prompts = grounded_prompts(Bot(settings), rows)
            if not prompts:
                raise BotkitError(f"{path}: the knowledge base answers none of its questions from sources "
                                  "(ingest the documents first: `botkit ingest PATH`)")
            return prompts, str(path)
    return prompts_from(path, settings, include_flagged=include_flagged)


def stems_and_figures(text: str) -> set[str]:
    """What carries a sentence's meaning: its content words' stems (`terms`) and its figures."""
    return terms(text) | set(re.findall(FIGURE, text))


def first_sentence(draft: str) -> str:
    """The draft's first sentence, citations left out: the part of an answer chat shows by default."""
    return DRAFT_SENTENCE_END.split(" ".join(strip_citations(draft.strip().split("\n\n")[0]).split()), maxsplit=1)[0]


def covered(sentence: str, source: str) -> float:
    """The share of `source`'s stems and figures that `sentence` says (0 when `sentence` has none of its own)."""
    wanted = stems_and_figures(source)
    return len(wanted & stems_and_figures(sentence)) / len(wanted) if wanted else 0.0


def number_of(numbers: dict[str, int]):
    """A chunk's [n] in its prompt, from the chunk ids' numbering."""
    return lambda chunk: numbers[chunk.id]


def key_content(quote: str, question: str) -> tuple[set[str], int]:
    """The fact a row without an `expected` answer is checked for: what the sentence the quote would show
    says beyond the question. Its figures when it has any (one said is enough: "a flat $24.95" answers
    "How much is shipping to Canada?" without the delivery days), else its content words' stems, half of
    which must be said. Returns (the key, how many of it must be said)."""
    figures = set(re.findall(FIGURE, quote)) - set(re.findall(FIGURE, question))  # "Zephyr 3000" is no fact
    if figures:
        return figures, 1
    words = terms(quote) - terms(question)
    return words, max(1, (len(words) + 1) // 2)


def says_key(text: str, key: tuple[set[str], int]) -> bool:
    """Whether `text` says enough of a `key_content` fact."""
    wanted, needed = key
    return bool(wanted) and len(wanted & stems_and_figures(text)) >= needed


def fact_of(data: dict) -> tuple[list[dict], list[str], object]:
    """What a grounded row's answer must say, from its `sources` JSON: (the sources holding the fact, the
    fact's source sentences, the test of a text saying it). The fact is the row's `expected` one (the
    sources whose text holds it); in a row without one, the `key_content` of the sentence the quote would
    show, so that dropping it does not pay."""
    from botkit.evidence import Evidence
    from botkit.grounding import quote_answer
    from botkit.knowledge.store import Chunk

    expected = [e.lower() for e in data.get("expected") or []]
    holding = [s for s in data["sources"] if any(e in s["chunk"]["text"].lower() for e in expected)]
    if expected:
        return holding, [s["sentence"] for s in holding or data["sources"][:1]], \
            lambda text: any(e in text.lower() for e in expected)
    evidence = [Evidence(s["sentence"], Chunk(**s["chunk"]), s["score"]) for s in data["sources"]]
    number = {s["chunk"]["id"]: s["n"] for s in data["sources"]}
    quote = first_sentence(quote_answer(evidence, number_of(number), data["question"], data["brand"],
                                        max_sentences=1))
    return holding, [quote], lambda text: says_key(text, key_content(quote, data["question"]))


def judge_draft(data: dict, draft: str, embedder, answer_sentences: int = 1) -> dict:
    """A draft to a grounded row (`data`: its `sources` JSON) as chat would show it: `text` and `grounding`
    (generated | quoted) from the real grounding check (CheckedAnswer), `copied` (the copy test `botkit eval
    grounding` counts copies by), `says_fact`, `cites_fact` (a citation of a source holding the fact: the
    expected fact's when the row names one, else the best source), and `phrased`: in the model's own
    checked words with the fact."""
    from botkit.evidence import Evidence
    from botkit.feedback.evaluation.grounding import COPIED_SHARE, copied_share
    from botkit.grounding import cited_numbers
    from botkit.knowledge.store import Chunk
    from botkit.streaming import CheckedAnswer

    evidence = [Evidence(s["sentence"], Chunk(**s["chunk"]), s["score"]) for s in data["sources"]]
    number = {s["chunk"]["id"]: s["n"] for s in data["sources"]}
    answer = CheckedAnswer(data["question"], evidence, embedder, number_of(number),
                           allowed=data["brand"], max_sentences=answer_sentences, private=data["system"])
    answer.feed(draft)
    answer.finish()
    holding, _, says = fact_of(data)
    copied = copied_share(answer.text, [s["chunk"]["text"] for s in data["sources"]]) >= COPIED_SHARE
    says_fact = says(answer.text)
    right = {s["n"] for s in holding or data["sources"][:1]}
    return {"text": answer.text, "grounding": answer.grounding, "copied": copied, "says_fact": says_fact,
            "cites_fact": bool(right & set(cited_numbers(draft))),
            "phrased": answer.grounding == "generated" and not copied and says_fact}


def grounding_reward(embedder, answer_sentences: int = 1):
    """The grounding reward of a completion to a grounded chat (rows carry `sources`, see
    `grounded_prompts`). 1.5 when the answer shown is in the model's own words (it passes the grounding
    check and is no copy of a source sentence by `copied_share`, the test `botkit eval grounding` counts
    copies by) and says the fact (`fact_of`), +0.5 when it cites the source holding the fact (see
    `judge_draft`). Any other draft (failed, copied, or phrased without the fact) earns up to PARTIAL for
    the share of the fact's source sentence its first sentence says, half that for a copy: what a quote
    would. Minus 0.25 per 15 words over SHORT_WORDS (at most 0.5). 0 for a chat without sources."""
    from botkit.feedback.evaluation.grounding import COPIED_SHARE, copied_share

    def grounding(prompts, completions, sources=None, **kwargs) -> list[float]:
        scores = []
        for completion, meta in zip(completions, sources or [None] * len(completions)):
            if not meta:
                scores.append(0.0)
                continue
            data, draft = json.loads(meta), completion_text(completion)
            verdict = judge_draft(data, draft, embedder, answer_sentences)
            if verdict["phrased"]:
                score = 1.5 + 0.5 * verdict["cites_fact"]
            else:
                # Failed, copied or without the fact: the share of the fact's sentence said, so that groups
                # where every sample falls short still have something to learn from, halved for the words
                # copied from a source (else the surest partial reward is the source sentence word for word,
                # which passes the check but is not the model's phrasing: a copy earns at most half a
                # PARTIAL, a quote's worth).
                said, texts = first_sentence(draft), [s["chunk"]["text"] for s in data["sources"]]
                score = (PARTIAL * max(covered(said, s) for s in fact_of(data)[1])
                         * (1 - 0.5 * min(1.0, copied_share(said, texts) / COPIED_SHARE)))
            # In steps, not per word: GRPO scales each group's rewards by their spread, so a per-word
            # penalty would turn a group of failed drafts a few words apart into a strong signal.
            scores.append(score - 0.25 * min(2, max(0, len(draft.split()) - SHORT_WORDS) // 15))
        return scores

    return grounding


def copy_checks_reward(bot):
    """The copy checks' reward: the share of the copy plugins' checks (`botkit.tasks.copy_checks.CHECKS`:
    spelling, relevance, invented facts, brand words, banned words, complete phrasing, no role-play) the
    completion passes, against its row's `brief` (else the prompt's last user turn)."""
    from botkit.tasks.copy_checks import CHECKS, CopyChecks

    checks: dict[str, CopyChecks] = {}  # one per brief: building one searches the knowledge base

    def copy_checks(prompts, completions, brief=None, **kwargs) -> list[float]:
        briefs = brief or [p if isinstance(p, str) else next(m["content"] for m in reversed(p) if m["role"] == "user")
                           for p in prompts]
        scores = []
        for text, about in zip(map(completion_text, completions), briefs):
            if about not in checks:
                checks[about] = CopyChecks(bot, about)
            line = re.sub(r"\s+", " ", text).strip()
            scores.append(1.0 - len(checks[about].failures([line])[0]) / len(CHECKS) if line else 0.0)
        return scores

    copy_checks.__name__ = "copy_checks"
    return copy_checks


def reward_model_reward(scorer, name: str):
    """A reward version's score of each completion (a plain callable, as TRL takes)."""
    def reward_model_score(prompts, completions, **kwargs) -> list[float]:
        return scorer.score(list(prompts), [completion_text(c) for c in completions])

    reward_model_score.__name__ = f"version:{name}"
    return reward_model_score


def check_reward_names(names: list[str]) -> None:
    """A misspelt `--reward` fails before anything loads."""
    for name in names:
        if name not in REWARDS and not (name.startswith("version:") and name[len("version:"):]):
            raise BotkitError(f"unknown reward '{name}' (rewards: {', '.join(REWARDS)}, version:NAME)")


def reward_functions(names: list[str], settings) -> list:
    """The TRL reward functions `names` ask for, in order; a reward version that does not exist fails here,
    before the run starts."""
    from botkit.feedback.training.reward import RewardScorer

    check_reward_names(names)
    bot, funcs = None, []
    for name in names:
        if name.startswith("version:"):
            version = name[len("version:"):]
            funcs.append(reward_model_reward(RewardScorer.load(version, settings), version))
            continue
        if bot is None:
            from botkit.dialogue import Bot

            bot = Bot(settings)
        funcs.append(grounding_reward(bot.embedder, settings.answer_sentences) if name == "grounding"
                     else copy_checks_reward(bot))
    return funcs
