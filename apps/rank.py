"""The Rank page: an annotator's queue of blind A/B pairs. Two answers side by side (model versions
hidden, sides randomised by the store), the prompt's retrieved sources for judging grounding, and
A / B / Tie / Both bad buttons with keyboard shortcuts. Verdicts are stored against the pair's a/b,
never the screen side, with the seconds between showing the pair and the verdict. With a promoted
reward version the pairs it is least sure of come first; an agreed winner can become a few-shot
example (`feedback.fewshot_auto`)."""

from __future__ import annotations

import hashlib
import time

import pandas as pd
import streamlit as st

from botkit.apps.signin import ranking_store, require_annotator
from botkit.config import load_settings
from botkit.feedback.agreed_examples import promote_agreed
from botkit.feedback.reward_ranking import uncertain_first
from botkit.feedback.store import VERDICTS, RankingStore
from botkit.plaintext import shown_text, without_images

OTHER = {"a": "b", "b": "a"}
# (label, screen verdict, keyboard shortcut): "left"/"right" become the pair's a/b when recorded.
CHOICES = [("A is better", "left", "A"), ("B is better", "right", "B"), ("Tie", "tie", "T"),
           ("Both bad", "both-bad", "X")]


def current_pair(store: RankingStore, annotator: str) -> dict | None:
    """The pair on screen, kept across reruns (the store would pick a new one each time)."""
    pair = st.session_state.get("pair")
    if pair is None or pair["annotator"] != annotator:
        skipped = st.session_state.setdefault("skipped", set())
        # The promoted reward version's least sure pair first (active learning), else the store's order.
        pair = uncertain_first(store, annotator, load_settings(), exclude=skipped) or store.next_pair(
            annotator, exclude=skipped)
        if pair is not None:
            pair = {**pair, "annotator": annotator, "shown_at": time.monotonic()}
        st.session_state.pair = pair
    return pair


def judge(store: RankingStore, pair: dict, screen_verdict: str) -> None:
    """Record the verdict for the pair on screen, mapped from the screen side to the pair's a/b."""
    right = OTHER[pair["left"]]
    verdict = {"left": pair["left"], "right": right}.get(screen_verdict, screen_verdict)
    seconds = round(time.monotonic() - pair["shown_at"], 2)
    reason = st.session_state.get(f"reason-{pair['pair_id']}", "").strip()
    store.record_comparison(pair["pair_id"], pair["annotator"], verdict, reason=reason, seconds=seconds,
                            left=pair["left"])
    st.session_state.pair = None
    st.toast(f"Saved in {seconds:.0f} s", icon=":material/check:")
    feedback = load_settings().feedback
    if feedback.fewshot_auto and promote_agreed(store, feedback.fewshot_min_annotators, {pair["pair_id"]}):
        st.toast("Everyone agreed: the winning answer is now a few-shot example", icon=":material/school:")


def skip(pair: dict) -> None:
    st.session_state.setdefault("skipped", set()).add(pair["pair_id"])
    st.session_state.pair = None


def show_pair(store: RankingStore, pair: dict) -> None:
    st.markdown("**Prompt**")
    st.markdown(without_images(pair["prompt"]))
    sources = pair.get("sources") or []
    with st.expander(f"Retrieved sources ({len(sources)})" if sources else "No sources were retrieved"):
        for n, s in enumerate(sources, 1):
            # A source is untrusted text: shown plain, never as Markdown that could render an image or link.
            st.markdown(f"**[{n}]** {shown_text(s.get('text', ''))}")
            st.caption(f"{s.get('source', '')} · relevance {s.get('score') or 0:.2f}")
    left, right = pair[pair["left"]], pair[OTHER[pair["left"]]]
    for column, label, answer in zip(st.columns(2), "AB", (left, right)):
        with column.container(border=True):
            st.markdown(f"**Answer {label}**")
            st.markdown(without_images(answer["text"]))  # a draft may carry an image planted in a document
    st.text_input("Reason (optional)", key=f"reason-{pair['pair_id']}",
                  placeholder="What made one answer better (facts, tone, length, grounding)?")
    buttons = st.columns(len(CHOICES) + 1)
    for column, (label, screen_verdict, key) in zip(buttons, CHOICES):
        # Keys name the pair: a click that lands after the pair changed cannot judge the next one.
        column.button(label, key=f"{screen_verdict}-{pair['pair_id']}", shortcut=key, on_click=judge,
                      args=(store, pair, screen_verdict), width="stretch",
                      type="primary" if screen_verdict in ("left", "right") else "secondary")
    buttons[-1].button("Skip", key=f"skip-{pair['pair_id']}", shortcut="S", on_click=skip, args=(pair,),
                       width="stretch", type="tertiary")


def own_judgements(store: RankingStore, annotator: str) -> None:
    """The annotator's own earlier verdicts (and nobody else's), editable in place."""
    mine = store.comparisons(annotator=annotator)
    if not mine:
        return
    with st.expander(f"Your judgements ({len(mine)})"):
        rows = pd.DataFrame([{"prompt": c["prompt"], "answer A": c["a_text"], "answer B": c["b_text"],
                              "verdict": c["verdict"], "reason": c["reason"]} for c in mine])
        # Edits are row positions: a key that changes with the rows gives a fresh editor whenever the
        # stored judgements change, so an old edit never lands on a row that moved.
        key = "own-" + hashlib.sha1(rows[["verdict", "reason"]].to_json().encode()).hexdigest()[:12]
        st.data_editor(rows, key=key, on_change=save_edits, args=(store, mine, key), hide_index=True,
                       disabled=["prompt", "answer A", "answer B"], width="stretch", column_config={
                           "verdict": st.column_config.SelectboxColumn(options=list(VERDICTS),
                                                                       required=True)})


def save_edits(store: RankingStore, mine: list[dict], key: str) -> None:
    for index, change in st.session_state[key]["edited_rows"].items():
        c = mine[int(index)]
        store.record_comparison(c["pair_id"], c["annotator"], change.get("verdict", c["verdict"]),
                                reason=change.get("reason", c["reason"]), seconds=c["seconds"], left=c["left"])


def main() -> None:
    annotator = require_annotator()
    store = ranking_store()
    st.title("Rank answers")
    progress = store.progress(annotator)
    total = progress["done"] + progress["remaining"]
    st.progress(progress["done"] / total if total else 0.0,
                text=f"{progress['done']} done · {progress['remaining']} remaining")
    pair = current_pair(store, annotator)
    sources = ("New pairs come from the Chat page's “Compare”, `botkit feedback generate` and "
               "`botkit feedback import`.")
    if pair is None and not total:
        # Only pairs worth a person's time are queued: with the small default model, two answers that
        # both pass their checks are rare, so say so rather than look finished.
        st.info("No pairs to rank yet. Pairs are queued only when both answers passed their checks and differ "
                f"in substance, which the small default model rarely manages. {sources}",
                icon=":material/hourglass_empty:")
    elif pair is None:
        st.success(f"Nothing left to rank: every pair has your verdict. {sources}", icon=":material/task_alt:")
    else:
        st.caption("Which answer is better? Keys: **A**, **B**, **T** tie, **X** both bad, **S** skip.")
        show_pair(store, pair)
    own_judgements(store, annotator)


main()
