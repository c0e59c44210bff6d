"""Feedback under each Chat answer: thumbs up/down with a reason (for the signed-in annotator), and
"Compare" which samples a second answer and queues both as a pair on the Rank page when they are
worth ranking."""

from __future__ import annotations

import random

import streamlit as st

from botkit.apps.signin import current_annotator, ranking_store
from botkit.dialogue import Bot
from botkit.errors import BotkitError
from botkit.feedback.reply_log import sources_of
from botkit.feedback.worth_ranking import answer_passes, skip_reason
from botkit.plaintext import without_images
from botkit.replies import Citation

COMPARE_TRIES = 3  # seeds tried before giving up on getting a different second answer
# Only answers in the model's own checked words: a quote, a plugin's or a canned answer is not worth a
# pair (the quote is the same whatever the model writes).
COMPARABLE = ("generated",)


def log_answer(bot: Bot, question: str, text: str, meta: dict, decoding: dict | None = None) -> str:
    """Log one chat answer as a candidate response (idempotent: the same answer keeps its id)."""
    sources = sources_of([Citation(**c) for c in meta.get("citations", [])])
    return ranking_store().log_response(
        question, text, model=meta.get("model") or bot.settings.model, plugin=meta.get("plugin"),
        decoding=decoding if decoding is not None else bot.settings.decoding.model_dump(), sources=sources,
        origin="chat", engine_messages=meta.get("engine_messages") or None,  # what training needs (the chat
        output=(meta.get("draft") or "").strip() or None)  # and the draft); a logged chat answer has them already


def rate(bot: Bot, question: str, text: str, meta: dict, key: str) -> None:
    thumb = st.session_state.get(f"thumb-{key}")
    if thumb is None:  # a reason typed before any thumb waits for the thumb
        return
    store = ranking_store()
    annotator = store.add_annotator(current_annotator())  # idempotent; signed in elsewhere, maybe not via Rank
    store.record_rating(log_answer(bot, question, text, meta), annotator, 1 if thumb == 1 else -1,
                        st.session_state.get(f"why-{key}", "").strip())
    st.toast("Thanks: rating saved", icon=":material/thumb_up:" if thumb == 1 else ":material/thumb_down:")


def compare(bot: Bot, question: str, text: str, meta: dict) -> dict:
    """Sample a second answer with a fresh seed and store the two as a pair for the Rank queue, when
    the pair is worth a person's time (`worth_ranking`: both answers passed the grounding check and
    they differ in substance); else {"skipped": why} after COMPARE_TRIES seeds."""
    why = None
    for _ in range(COMPARE_TRIES):
        seed = random.randrange(2**31)
        second = bot.answer(question, strategy="sample", seed=seed)
        why = skip_reason(text, answer_passes(meta.get("grounding", "")), second.text, answer_passes(second.grounding))
        if why is None:
            break
    else:
        return {"skipped": why}
    decoding = bot.settings.decoding.merged(strategy="sample", seed=seed).model_dump()
    first_id = log_answer(bot, question, text, meta)
    second_id = log_answer(bot, question, second.text, second.as_dict(), decoding)
    pair_id = ranking_store().add_pair(first_id, second_id, origin="compare")
    return {"pair_id": pair_id, "text": second.text, "seed": seed}


def answer_feedback(bot: Bot, question: str, text: str, meta: dict, key: str) -> None:
    """The row under an answer: thumbs, a reason, and Compare."""
    annotator = current_annotator()
    thumbs, why, more = st.columns([1, 5, 2], vertical_alignment="center")
    with thumbs:
        st.feedback("thumbs", key=f"thumb-{key}", disabled=not annotator, on_change=rate,
                    args=(bot, question, text, meta, key))
    if annotator:
        why.text_input("Why?", key=f"why-{key}", placeholder="Why? (optional, saved with your thumb)",
                       label_visibility="collapsed", on_change=rate, args=(bot, question, text, meta, key))
    else:
        # Markdown, not a caption: the answer's last caption stays its details line.
        why.markdown(":gray[:small[Sign in on the Rank page to rate answers.]]")
    compared = st.session_state.setdefault("compared", {})
    comparable = meta.get("grounding") in COMPARABLE and not meta.get("plugin")
    if comparable and more.button("Compare", key=f"compare-{key}", icon=":material/compare_arrows:",
                                  help="Sample a second answer and queue both, blind, for ranking"):
        with st.spinner("Sampling a second answer…"):
            try:
                compared[key] = compare(bot, question, text, meta)
            except BotkitError as exc:
                compared[key] = {"error": str(exc)}
    result = compared.get(key)
    if result is None:
        return
    if result.get("skipped"):
        why = {"identical": "came out the same as this one",
               "near-identical": "said the same as this one in nearly the same words",
               "failed checks": "were not in the model's own checked words"}[result["skipped"]]
        st.markdown(f":gray[:small[{COMPARE_TRIES} sampled answers {why}: not queued, as no pair was worth "
                    "ranking.]]")
    elif result.get("error"):
        st.error(result["error"], icon=":material/error:")
    else:
        with st.expander(f"Second answer (sampled, seed {result['seed']}) · queued for ranking as pair "
                         f"#{result['pair_id']}"):
            st.markdown(without_images(result["text"]))
