"""The Data page: who ranked how much and how fast, how far annotators agree (Cohen's kappa per pair
of annotators, Krippendorff's alpha overall), gold-pair accuracy, and the TRL export download."""

from __future__ import annotations

import tempfile
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from botkit.apps.signin import ranking_store, require_annotator
from botkit.feedback.agreement import annotator_stats, cohen_kappas, krippendorff_alpha
from botkit.feedback.store import RankingStore


def trl_export(store: RankingStore, min_agreement: float) -> bytes:
    """The store's TRL export (prompt/chosen/rejected + provenance) as the bytes of a JSONL file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "preferences.jsonl"
        store.export_trl(path, min_agreement=min_agreement)
        return path.read_bytes()


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


def main() -> None:
    require_annotator()
    store = ranking_store()
    st.title("Data")
    comparisons = store.comparisons()
    if not comparisons:
        st.info("No comparisons yet: rank some pairs on the Rank page.", icon=":material/dataset:")
        return

    st.subheader("Annotators")
    stats = pd.DataFrame(annotator_stats(comparisons))
    st.dataframe(stats, hide_index=True, column_config={
        "median_seconds": st.column_config.NumberColumn("median s", format="%.1f"),
        "gold": st.column_config.NumberColumn("gold pairs"),
        "gold_accuracy": st.column_config.NumberColumn("gold accuracy", format="percent")})
    agreement_section(comparisons)
    gold_section(stats)

    st.subheader("Export")
    st.caption("TRL preference format (`prompt`, `chosen`, `rejected` + provenance), one row per pair: the "
               "majority verdict wins; ties, both-bad and pairs without a majority are skipped. "
               "`botkit feedback export` has the same rules and more filters.")
    min_agreement = st.slider("Minimum agreement", 0.0, 1.0, 0.0, 0.05,
                              help="Share of a pair's annotators who gave the majority verdict.")
    st.download_button("Download preferences.jsonl", lambda: trl_export(store, min_agreement),
                       file_name="preferences.jsonl", mime="application/jsonl", icon=":material/download:",
                       on_click="ignore")


main()
