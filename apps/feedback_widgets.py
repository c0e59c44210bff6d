"""Feedback under each Chat answer: thumbs up/down with a reason (for the signed-in annotator), and
"Compare" which samples a second answer and queues both as a pair on the Rank page."""

from __future__ import annotations

import random

import streamlit as st

from botkit.apps.signin import current_annotator, ranking_store
from botkit.dialogue import Bot, Citation
from botkit.errors import BotkitError
from botkit.feedback.reply_log import sources_of

COMPARE_TRIES = 3  # seeds tried before giving up on getting a different second answer
COMPARABLE = ("generated", "quoted")  # plugin and canned answers have nothing to resample


def log_answer(bot: Bot, question: str, text: str, meta: dict, decoding: dict | None = None) -> str:
    """Log one chat answer as a candidate response (idempotent: the same answer keeps its id)."""
    sources = sources_of([Citation(**c) for c in meta.get("citations", [])])
    return ranking_store().log_response(
        question, text, model=meta.get("model") or bot.settings.model, plugin=meta.get("plugin"),
        decoding=decoding if decoding is not None else bot.settings.decoding.model_dump(), sources=sources,
        origin="chat")


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
    """Sample a second answer with a fresh seed and store the two as a pair for the Rank queue.

    Answers quoted from the sources come out the same whatever the seed; then the pair holds the
    two model drafts behind them instead, which is what training on the verdict would change.
    """
    first_draft = (meta.get("draft") or "").strip()
    for _ in range(COMPARE_TRIES):
        seed = random.randrange(2**31)
        second = bot.answer(question, strategy="sample", seed=seed)
        if second.text.strip() != text.strip():
            texts, drafts = (text, second.text), False
            break
        if first_draft and second.draft.strip() and second.draft.strip() != first_draft:
            texts, drafts = (first_draft, second.draft.strip()), True
            break
    else:
        return {"same": True}
    decoding = bot.settings.decoding.merged(strategy="sample", seed=seed).model_dump()
    first_id = log_answer(bot, question, texts[0], meta)
    second_id = log_answer(bot, question, texts[1], second.as_dict(), decoding)
    pair_id = ranking_store().add_pair(first_id, second_id, origin="compare")
    return {"pair_id": pair_id, "text": texts[1], "seed": seed, "drafts": drafts}


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
    if result.get("same"):
        st.markdown(f":gray[:small[{COMPARE_TRIES} sampled answers and their drafts all came out the same as "
                    "this one: nothing to compare.]]")
    elif result.get("error"):
        st.error(result["error"], icon=":material/error:")
    else:
        what = "Second draft" if result["drafts"] else "Second answer"
        with st.expander(f"{what} (sampled, seed {result['seed']}) · queued for ranking as pair #{result['pair_id']}"):
            if result["drafts"]:
                st.caption("Both answers quote the sources, so the pair compares the model's own drafts.")
            st.markdown(result["text"])
