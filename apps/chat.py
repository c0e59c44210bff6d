"""The Chat page: talk to the brand bot, see where each answer comes from, reopen past conversations."""

from pathlib import Path

import streamlit as st

from botkit.apps.feedback_widgets import answer_feedback, log_answer
from botkit.config import load_settings
from botkit.dialogue import Bot, Reply
from botkit.errors import BotkitError
from botkit.plaintext import shown_text, without_images

GROUNDING = {
    "generated": "model-phrased, checked against sources",
    "quoted": "quoted from sources",
    "dont-know": "not in the sources",
    "empty-knowledge-base": "knowledge base is empty",
    "plugin": "written by a plugin",
}
RANKERS = {"reward_version": "the reward model trained on your rankings", "brand_similarity": "brand similarity"}


def load_bot() -> Bot:
    """The bot for the active model version, read from the config on every rerun: after `botkit models
    promote` or `rollback` the next message is answered by the new version, without a restart."""
    settings = load_settings()
    return _bot_for(settings.model, settings.adapter)


@st.cache_resource(show_spinner="Loading the model and the knowledge base…", max_entries=2)
def _bot_for(model: str, adapter: str | None) -> Bot:
    # One Bot per model and process: the model and embeddings are too big to load per browser tab.
    # Loading them here, not on the first question, puts the wait (and any model error) on page load.
    bot = Bot()
    _ = bot.engine, bot.knowledge
    return bot


def show_details(meta: dict) -> None:
    """Citations, then one caption line saying which model answered, how, and at what cost."""
    for c in meta.get("citations", []):
        with st.expander(f"[{c['n']}] {c['title'] or 'Untitled'} · {Path(c['source']).name}"):
            # A source is untrusted text: shown plain, never as Markdown that could render an image or link.
            st.markdown(shown_text(c["text"]))
            st.caption(f"Relevance {c['score']:.2f} · {c['source']}")
    parts = [meta.get("model", ""), GROUNDING.get(meta.get("grounding"), meta.get("grounding", ""))]
    if meta.get("plugin"):  # routing is visible: which plugin answered, and why
        parts.append(f"{meta['plugin']}: {meta.get('route', '')}")
    if meta.get("ranker"):  # which scorer chose the variants shown: people's rankings, or brand similarity
        parts.append(f"ranked by {RANKERS.get(meta['ranker'], meta['ranker'])}")
    usage = meta.get("usage") or {}
    if usage.get("prompt_tokens") or usage.get("completion_tokens"):
        parts.append(f"{usage.get('prompt_tokens', 0)} prompt + {usage.get('completion_tokens', 0)} completion tokens")
    # The check says why a model-phrased draft was kept or swapped for a quote of the sources.
    check = meta.get("check")
    st.caption(" · ".join(p for p in parts if p), help=f"Grounding check: {check}" if check else None)


def open_session(session_id: str | None) -> None:
    st.session_state.session_id = session_id
    # The id also lives in the URL so a browser reload comes back to the same conversation.
    if session_id:
        st.query_params["session"] = session_id
    else:
        st.query_params.pop("session", None)


def sidebar(bot: Bot):
    """The brand, the knowledge base and "New conversation"; returns a slot for the recent conversations."""
    with st.sidebar:
        st.header(bot.brand.name)
        if bot.brand.tagline:
            st.caption(bot.brand.tagline)
        st.markdown(f"**Knowledge base:** {bot.knowledge.count()} chunks from {len(bot.knowledge.files())} files")
        st.button("New conversation", icon=":material/add:", on_click=open_session, args=(None,), width="stretch")
        return st.container()


def recent_conversations(bot: Bot) -> None:
    sessions = [s for s in bot.sessions.list(limit=15) if s["messages"]]
    if sessions:
        st.subheader("Recent conversations")
    for s in sessions:
        current = s["id"] == st.session_state.session_id
        st.button(s["title"] or "Untitled", key=f"open-{s['id']}", on_click=open_session, args=(s["id"],),
                  type="secondary" if current else "tertiary", help=f"Started {s['created_at']}")


def answer(bot: Bot, prompt: str, index: int) -> None:
    """Stream the answer into a placeholder as each sentence passes the grounding check, then show the
    reply, which becomes message `index` of the conversation and a logged candidate response for ranking."""
    with st.chat_message("user"):
        st.markdown(without_images(prompt))
    with st.chat_message("assistant"):
        placeholder = st.empty()
        streamed, reply = "", None
        try:
            for item in bot.stream(prompt, st.session_state.session_id):
                if isinstance(item, Reply):
                    reply = item
                else:
                    streamed += item
                    placeholder.markdown(streamed + " ▌")
        except BotkitError as exc:
            placeholder.error(str(exc), icon=":material/error:")
            return
        # The streamed pieces add up to the reply's text; a plugin's output arrives whole, as markdown.
        placeholder.markdown(without_images(reply.text))
        meta = reply.as_dict()
        show_details(meta)
        log_answer(bot, prompt, reply.text, meta)
        answer_feedback(bot, prompt, reply.text, meta, key=f"{reply.session_id}-{index}")
    if reply.session_id != st.session_state.session_id:
        open_session(reply.session_id)


def main() -> None:
    try:
        bot = load_bot()
    except BotkitError as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()
    if "session_id" not in st.session_state:
        wanted = st.query_params.get("session")
        st.session_state.session_id = wanted if wanted and bot.sessions.history(wanted) else None
    recent = sidebar(bot)

    st.title(f"Chat with {bot.brand.name}")
    if bot.knowledge.count() == 0:
        st.info("The knowledge base is empty, so I can't answer from your documents yet. Add them with "
                "`botkit ingest PATH` (a file or a folder), then reload this page.", icon=":material/info:")

    # The session store, not this page, is the record: re-render the conversation from it.
    history = bot.sessions.history(st.session_state.session_id) if st.session_state.session_id else []
    question = ""
    for index, message in enumerate(history):
        with st.chat_message(message.role):
            st.markdown(without_images(message.content))
            if message.role == "user":
                question = message.content
            else:
                show_details(message.meta)
                answer_feedback(bot, question, message.content, message.meta,
                                key=f"{st.session_state.session_id}-{index}")

    if prompt := st.chat_input(f"Ask {bot.brand.name} a question", submit_mode="disable"):
        answer(bot, prompt, len(history) + 1)
    with recent:  # filled last, so it already lists a conversation the answer above just started
        recent_conversations(bot)


main()
