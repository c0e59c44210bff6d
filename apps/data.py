"""The Data page: who ranked how much and how fast, how far annotators agree (Cohen's kappa per pair
of annotators, Krippendorff's alpha overall), gold-pair accuracy, which annotators are flagged (left
out of exports and training), the share of "both bad" verdicts per source of pairs, agreed winners
to add as few-shot examples, and the TRL export download."""

from __future__ import annotations

import tempfile
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from botkit.apps.signin import admin_only, ranking_store, require_annotator
from botkit.config import FeedbackSettings, load_settings
from botkit.feedback.agreed_examples import agreed_winners, promote_agreed
from botkit.feedback.agreement import annotator_stats, cohen_kappas, krippendorff_alpha
from botkit.feedback.annotator_quality import annotator_quality
from botkit.feedback.store import RankingStore
from botkit.feedback.trl_format import export_trl
from botkit.feedback.worth_ranking import both_bad_by_origin


def trl_export(store: RankingStore, min_agreement: float, include_flagged: bool, redact: bool,
               settings: FeedbackSettings) -> bytes:
    """The store's TRL export (prompt/chosen/rejected + provenance) as the bytes of a JSONL file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "preferences.jsonl"
        export_trl(store, path, min_agreement=min_agreement, include_flagged=include_flagged, redact=redact,
                   settings=settings)
        return path.read_bytes()


def flagged_section(quality: list[dict], settings: FeedbackSettings) -> None:
    flagged = [q for q in quality if q["flagged"]]
    if not flagged:
        st.caption(f"No annotator is flagged: none is under {settings.min_gold_accuracy:.0%} on gold pairs "
                   f"(after {settings.min_gold_pairs}) or under {settings.min_agreement:.0%} agreement with the "
                   f"others (after {settings.min_shared_pairs} shared judgements).")
        return
    lines = "\n".join(f"- **{q['annotator']}**: {'; '.join(q['reasons'])}" for q in flagged)
    st.warning(f"Flagged annotators: their verdicts are left out of exports and `botkit train --from-store` "
               f"unless included (`--include-flagged`).\n\n{lines}", icon=":material/flag:")


def agreement_section(comparisons: list[dict]) -> None:
    st.subheader("Agreement")
    alpha = krippendorff_alpha(comparisons)
    st.metric("Krippendorff's alpha (nominal, all annotators)", "n/a" if alpha is None else f"{alpha:.2f}",
              help="1 = perfect agreement, 0 = what chance would give; computed over pairs judged by two or more "
                   "annotators. Above 0.67 is usually taken as tentatively reliable, above 0.8 as reliable.")
    kappas = cohen_kappas(comparisons)
    if kappas:
        st.markdown("**Cohen's kappa** for each pair of annotators, over the pairs both judged")
        st.dataframe(pd.DataFrame(kappas), hide_index=True, column_config={
            "annotator_1": "annotator", "annotator_2": "with", "n": st.column_config.NumberColumn("pairs in common"),
            "agreement": st.column_config.NumberColumn("raw agreement", format="percent"),
            "kappa": st.column_config.NumberColumn(format="%.2f")})
    else:
        st.caption("No pair has been judged by two annotators yet.")


def gold_section(stats: pd.DataFrame) -> None:
    gold = stats[stats["gold"] > 0]
    st.subheader("Gold pairs")
    if gold.empty:
        st.caption("No gold pair (a pair with a known answer) has been judged yet.")
        return
    chart = alt.Chart(gold).mark_bar().encode(
        x=alt.X("gold_accuracy:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title="accuracy"),
        y=alt.Y("annotator:N", sort="-x", title=None), tooltip=["annotator", "gold", "gold_accuracy"])
    st.altair_chart(chart.properties(height=max(80, 36 * len(gold))), width="stretch")


ORIGIN_NAMES = {"generate": "generated (feedback generate, eval compare)", "compare": "Compare in the chat",
                "chat": "chat", "api": "HTTP API feedback", "import": "imported"}


def both_bad_section(db) -> None:
    """The share of "both bad" verdicts per source of pairs: a source whose pairs people can only
    call both bad wastes their time and yields no training pair."""
    st.subheader("Pairs worth ranking")
    rows = both_bad_by_origin(db)
    st.caption("Share of judgements that were “both bad”, per source of pairs. Generated pairs and "
               "Compare queue only answers that passed their checks and differ in substance.")
    st.dataframe(pd.DataFrame([{**r, "origin": ORIGIN_NAMES.get(r["origin"], r["origin"])} for r in rows]),
                 hide_index=True, column_config={
                     "origin": "source of pairs", "judgements": st.column_config.NumberColumn("judgements"),
                     "both_bad": st.column_config.NumberColumn("both bad"),
                     "both_bad_share": st.column_config.NumberColumn("both bad share", format="percent")})


def fewshot_section(store: RankingStore, settings: FeedbackSettings) -> None:
    """Agreed winners of chat pairs, and the admin's button that makes them few-shot examples."""
    st.subheader("Agreed answers as few-shot examples")
    winners = agreed_winners(store, settings.fewshot_min_annotators)
    if not winners:
        st.caption(f"No new chat pair has a winner that {settings.fewshot_min_annotators} or more annotators all "
                   "picked (setting feedback.fewshot_min_annotators).")
        return
    st.caption(f"{len(winners)} answer(s) that {settings.fewshot_min_annotators} or more annotators all picked: as "
               "few-shot examples they are shown to the model with similar questions, without training.")
    st.dataframe(pd.DataFrame([{"question": w["input"], "chosen answer": w["output"], "annotators": w["annotators"]}
                               for w in winners]), hide_index=True)
    if admin_only("Adding few-shot examples") and st.button("Add them to the few-shot examples",
                                                            icon=":material/school:"):
        added = promote_agreed(store, settings.fewshot_min_annotators)
        st.success(f"{len(added)} few-shot example(s) added: the next similar question is answered with them.")


def main() -> None:
    require_annotator("see the ranking data")
    store = ranking_store()
    settings = load_settings().feedback
    st.title("Data")
    comparisons = store.comparisons()
    if not comparisons:
        st.info("No comparisons yet: rank some pairs on the Rank page.", icon=":material/dataset:")
        return

    st.subheader("Annotators")
    quality = annotator_quality(comparisons, settings)
    stats = pd.DataFrame(annotator_stats(comparisons)).merge(
        pd.DataFrame(quality)[["annotator", "shared", "agreement", "flagged"]], on="annotator")
    flagged_section(quality, settings)
    st.dataframe(stats, hide_index=True, column_config={
        "median_seconds": st.column_config.NumberColumn("median s", format="%.1f"),
        "gold": st.column_config.NumberColumn("gold pairs"),
        "gold_accuracy": st.column_config.NumberColumn("gold accuracy", format="percent"),
        "shared": st.column_config.NumberColumn("shared pairs", help="Pairs another "
                                                "(unflagged) annotator judged too."),
        "agreement": st.column_config.NumberColumn("agreement with others", format="percent"),
        "flagged": st.column_config.CheckboxColumn("flagged")})
    agreement_section(comparisons)
    gold_section(stats)
    both_bad_section(store.db)
    fewshot_section(store, settings)

    st.subheader("Export")
    if not admin_only("Exporting rankings"):
        return
    st.caption("TRL preference format (`prompt`, `chosen`, `rejected` + provenance), one row per pair: the "
               "majority verdict wins; ties, both-bad and pairs without a majority are skipped. "
               "`botkit feedback export` has the same rules and more filters.")
    min_agreement = st.slider("Minimum agreement", 0.0, 1.0, 0.0, 0.05,
                              help="Share of a pair's annotators who gave the majority verdict.")
    include_flagged = st.checkbox("Include flagged annotators", False,
                                  help="Their verdicts are left out by default (see Annotators above).")
    redact = st.checkbox("Redact e-mail addresses, phone and card numbers", settings.redact_pii,
                         help="Replaced by [email], [phone], [card] (setting feedback.redact_pii).")
    st.download_button("Download preferences.jsonl",
                       lambda: trl_export(store, min_agreement, include_flagged, redact, settings),
                       file_name="preferences.jsonl", mime="application/jsonl", icon=":material/download:",
                       on_click="ignore")


main()
