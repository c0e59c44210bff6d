"""The botkit Streamlit app (`botkit app`): the multipage entry point that lists the pages and runs
the one the user picked."""

import streamlit as st

st.set_page_config(page_title="botkit", page_icon=":material/forum:", layout="wide")

# One line per page. Streamlit resolves page files against this script's folder, so the app runs
# the same from any working directory and from the installed `botkit.apps` package.
PAGES = [
    st.Page("chat.py", title="Chat", icon=":material/chat:", default=True),
    st.Page("rank.py", title="Rank", icon=":material/compare:"),
    st.Page("leaderboard.py", title="Leaderboard", icon=":material/leaderboard:"),
    st.Page("data.py", title="Data", icon=":material/dataset:"),
    st.Page("train.py", title="Train", icon=":material/model_training:"),
]

st.navigation(PAGES).run()
