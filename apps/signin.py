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

A passcode sign-in survives a page reload through a signed cookie (botkit.apps.session_cookie,
`signin_days`); "Sign out" clears it. Admins alone see the Train page (runs, promotion, rollback)
and the Data page's exports. Who is an admin: the `admins` setting (`BOTKIT_ADMINS='["ana"]'`), or
`botkit feedback annotators add NAME --admin`; while neither names anyone, the first annotator to
sign in to the app becomes the admin.
"""

from __future__ import annotations

import hmac

import streamlit as st

from botkit.apps.session_cookie import COOKIE, clear_cookie_script, set_cookie_script, sign, signed_name
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
    if "annotator" not in st.session_state and not st.session_state.get("signed_out"):
        # A new browser session (a reload): the cookie of an earlier sign-in, if still valid.
        settings = load_settings()
        name = signed_name(st.context.cookies.get(COOKIE), home=settings.home, passcode=settings.passcode,
                           max_days=settings.signin_days)
        if name:
            st.session_state.annotator = name
    return st.session_state.get("annotator")


def is_admin(name: str) -> bool:
    return name in load_settings().admins or name in ranking_store().admins()


def sign_out() -> None:
    for key in ("annotator", "registered", "pair"):
        st.session_state.pop(key, None)
    # This session's cookies were read when the page loaded: remember not to trust them again.
    st.session_state.signed_out = True
    st.session_state.cookie_script = clear_cookie_script()


def sign_in(name: str) -> None:
    settings = load_settings()
    st.session_state.annotator = ranking_store().add_annotator(name)
    st.session_state.pop("signed_out", None)
    st.session_state.cookie_script = set_cookie_script(
        sign(st.session_state.annotator, home=settings.home, passcode=settings.passcode), settings.signin_days)


def require_annotator(action: str = "rank answers") -> str:
    """The signed-in annotator; otherwise show the sign-in form ("Sign in to ACTION") and stop the page here."""
    if script := st.session_state.pop("cookie_script", None):  # set or clear the cookie, once
        st.html(script, unsafe_allow_javascript=True, width="content")
    name = current_annotator()
    if name:
        if st.session_state.get("registered") != name:  # a name from the identity provider is new to the store
            st.session_state.registered = ranking_store().add_annotator(name)
            if not load_settings().admins:
                ranking_store().set_admin(name, first_only=True)
        with st.sidebar:
            st.caption(f"Signed in as **{name}**" + (" · admin" if is_admin(name) else ""))
            if "is_logged_in" in st.user:
                st.button("Log out", on_click=st.logout)
            else:
                st.button("Sign out", on_click=sign_out, icon=":material/logout:")
        return name

    st.subheader(f"Sign in to {action}")
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
                sign_in(name)
            except BotkitError as exc:
                st.error(str(exc), icon=":material/error:")
            else:
                st.rerun()
    st.stop()


def admin_only(what: str) -> bool:
    """Whether the signed-in annotator is an admin; if not, one line saying `what` is for admins."""
    name = current_annotator()
    if name and is_admin(name):
        return True
    st.info(f"{what} is for admins only (you are signed in as {name}). An admin can make you one: "
            "`botkit feedback annotators add NAME --admin`.", icon=":material/admin_panel_settings:")
    return False


def require_admin(action: str, what: str) -> str:
    """The signed-in admin; otherwise the sign-in form, or one line for a non-admin, and the page stops here."""
    name = require_annotator(action)
    if not admin_only(what):
        st.stop()
    return name
