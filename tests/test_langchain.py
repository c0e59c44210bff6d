"""botkit in LangChain: the chat model over a local Bot and the knowledge base as a retriever
(over HTTP: tests/test_server.py)."""

from __future__ import annotations

import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from botkit.langchain import BotkitChatModel, BotkitRetriever


def test_chat_model_answers_with_citations_and_a_response_id(bot):
    model = BotkitChatModel(bot=bot, max_tokens=16)
    message = model.invoke("How long is the warranty on the Zephyr 3000 kettle?")
    assert "seven years" in message.content
    meta = message.response_metadata
    assert meta["response_id"].startswith("r_") and meta["citations"][0]["source"].endswith("warranty.md")
    assert message.usage_metadata["input_tokens"] > 0
    bot.record_feedback(meta["response_id"], 1)


def test_chat_model_in_a_chain(bot):
    prompt = ChatPromptTemplate.from_messages([("human", "How long is the warranty on the {product}?")])
    chain = prompt | BotkitChatModel(bot=bot, max_tokens=16) | StrOutputParser()
    assert "seven years" in chain.invoke({"product": "Zephyr 3000 kettle"})
    assert "seven years" in "".join(chain.stream({"product": "Zephyr 3000 kettle"}))


def test_chat_model_needs_exactly_one_backend(bot):
    with pytest.raises(ValueError, match="either bot="):
        BotkitChatModel()
    with pytest.raises(ValueError, match="either bot="):
        BotkitChatModel(bot=bot, base_url="http://localhost:8000")


def test_retriever_returns_documents_with_their_sources(bot):
    docs = BotkitRetriever(bot=bot, k=3).invoke("How long is the kettle warranty?")
    assert 1 <= len(docs) <= 3
    assert docs[0].metadata["source"].endswith("warranty.md") and "seven years" in docs[0].page_content
    assert {"title", "chunk_id", "score"} <= set(docs[0].metadata)
    assert BotkitRetriever(bot=bot, min_relevance=0.99).invoke("warranty") == []
