"""The Leaderboard page: Bradley-Terry ratings of model versions with bootstrap confidence intervals,
and the pairwise win-rate heatmap, over all comparisons or one plugin's."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from botkit.apps.signin import ranking_store
from botkit.feedback.ratings import leaderboard, win_rates

ALL = "All prompts"
CHAT = "Chat (no plugin)"


@st.cache_data(show_spinner="Fitting ratings…", max_entries=32)
def fitted(outcomes: tuple[tuple[str, str, str], ...]) -> tuple[list[dict], list[dict]]:
    # Cached on the comparisons themselves: 200 bootstrap refits only run again when a verdict changed.
    rows = [{"a_model": a, "b_model": b, "verdict": v} for a, b, v in outcomes]
    return leaderboard(rows), win_rates(rows)


def ratings_chart(board: pd.DataFrame) -> alt.Chart:
    order = board["model"].tolist()
    # Version names share long prefixes ("SmolLM2-135M-Instruct (greedy)" / "(sample)"): never cut them.
    base = alt.Chart(board).encode(y=alt.Y("model:N", sort=order, title=None, axis=alt.Axis(labelLimit=400)))
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("lower:Q", scale=alt.Scale(zero=False), title="rating (95% bootstrap interval)"), x2="upper:Q")
    points = base.mark_point(filled=True, size=90).encode(
        x="rating:Q", tooltip=["model", alt.Tooltip("rating:Q", format=".0f"), alt.Tooltip("lower:Q", format=".0f"),
                               alt.Tooltip("upper:Q", format=".0f"), "comparisons", "wins", "losses", "ties"])
    return (bars + points).properties(height=max(140, 56 * len(board)))


def heatmap(rates: pd.DataFrame, order: list[str]) -> alt.Chart:
    base = alt.Chart(rates).encode(x=alt.X("opponent:N", sort=order, title="against",
                                           axis=alt.Axis(labelAngle=0, labelLimit=400)),
                                   y=alt.Y("model:N", sort=order, title="model", axis=alt.Axis(labelLimit=400)))
    cells = base.mark_rect().encode(
        color=alt.Color("win_rate:Q", scale=alt.Scale(domain=[0, 1], scheme="redblue"), title="win rate"),
        tooltip=["model", "opponent", alt.Tooltip("win_rate:Q", format=".0%"), "n"])
    labels = base.mark_text(fontSize=13).encode(text=alt.Text("win_rate:Q", format=".0%"))
    return (cells + labels).properties(height=max(160, 60 * len(order)))


def main() -> None:
    st.title("Leaderboard")
    comparisons = ranking_store().comparisons()
    plugins = sorted({c["plugin"] or CHAT for c in comparisons})
    choice = st.selectbox("Prompts", [ALL, *plugins], help="Only comparisons of answers to this plugin's prompts.")
    if choice != ALL:
        comparisons = [c for c in comparisons if (c["plugin"] or CHAT) == choice]
    board, rates = fitted(tuple((c["a_model"], c["b_model"], c["verdict"]) for c in comparisons))
    if not board:
        st.info("No comparisons between two model versions yet: rank some pairs on the Rank page.",
                icon=":material/leaderboard:")
        return

    board = pd.DataFrame(board)
    st.caption(f"Bradley-Terry ratings from {len(comparisons)} comparisons on an Elo-like scale (average model "
               "1000; +400 means 10:1 odds of winning). A tie counts half a win to each side; “both bad” "
               "verdicts are left out. Bars: 95% intervals from 200 bootstrap resamples.")
    st.altair_chart(ratings_chart(board), width="stretch")
    st.dataframe(board, hide_index=True, column_config={
        "rating": st.column_config.NumberColumn(format="%.0f"), "lower": st.column_config.NumberColumn(format="%.0f"),
        "upper": st.column_config.NumberColumn(format="%.0f")})

    st.subheader("Pairwise win rates")
    st.caption("How often the row's model beat the column's (ties count half), over n comparisons.")
    st.altair_chart(heatmap(pd.DataFrame(rates), board["model"].tolist()), width="stretch")


main()
