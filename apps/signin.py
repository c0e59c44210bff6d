"""Who is ranking: the annotator sign-in gate shared by the app's pages, and this browser session's
connection to the ranking store.

At minimum annotators sign in with a name and the shared passcode from configuration
(`BOTKIT_PASSCODE`; empty means anyone may sign in with just a name). That keeps honest
colleagues' judgements apart, not attackers out. For real authentication put an identity provider
in front, either way:

- Streamlit's built-in OIDC (`st.login`, needs `pip install "streamlit[auth]"`): add an `[auth]`
  section (`redirect_uri`, `cookie_secret`, `client_id`, `client_secret`, `server_metadata_url`) to
  `.streamlit/secrets.toml`. This page then shows "Log in" instead of the passcode form and uses
  the provider's e-mail (else name) as the annotator.
- A reverse proxy doing OIDC (oauth2-proxy, Pomerium, a cloud load balancer) in front of
  `botkit app`, bound to 127.0.0.1 so nothing bypasses it, plus the passcode as a second factor.
"""

from __future__ import annotations

import hmac

import streamlit as st

from botkit.config import load_settings
from botkit.errors import BotkitError
from botkit.feedback.store import RankingStore


def ranking_store() -> RankingStore:
    # One connection per browser session: the store serialises its own writes, and a session's
    # reads never interleave with another user's open transaction.
    if "ranking_store" not in st.session_state:
        st.session_state.ranking_store = RankingStore.open(load_settings())
    return st.session_state.ranking_store


def current_annotator() -> str | None:
    """The signed-in annotator's name, or None."""
    if "is_logged_in" in st.user:  # OIDC is configured in secrets.toml: the provider decides
        return (st.user.get("email") or st.user.get("name")) if st.user.is_logged_in else None
    return st.session_state.get("annotator")


def sign_out() -> None:
    st.session_state.pop("annotator", None)
    st.session_state.pop("registered", None)
    st.session_state.pop("pair", None)


def require_annotator() -> str:
    """The signed-in annotator; otherwise show the sign-in form and stop the page here."""
    name = current_annotator()
    if name:
        if st.session_state.get("registered") != name:  # a name from the identity provider is new to the store
            st.session_state.registered = ranking_store().add_annotator(name)
        with st.sidebar:
            st.caption(f"Signed in as **{name}**")
            if "is_logged_in" in st.user:
                st.button("Log out", on_click=st.logout)
            else:
                st.button("Sign out", on_click=sign_out, icon=":material/logout:")
        return name

    st.subheader("Sign in")  # the gate of the Rank, Data and Train pages alike
    if "is_logged_in" in st.user:
        st.button("Log in", on_click=st.login, type="primary")
        st.stop()
    passcode = load_settings().passcode
    with st.form("sign-in"):
        name = st.text_input("Your name", max_chars=60)
        typed = st.text_input("Passcode", type="password") if passcode else ""
        if not passcode:
            st.caption("No passcode is configured (`BOTKIT_PASSCODE`), so a name is enough.")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        if passcode and not hmac.compare_digest(typed.encode(), passcode.encode()):
            st.error("Wrong passcode.", icon=":material/lock:")
        else:
            try:
                st.session_state.annotator = ranking_store().add_annotator(name)
            except BotkitError as exc:
                st.error(str(exc), icon=":material/error:")
            else:
                st.rerun()
    st.stop()
