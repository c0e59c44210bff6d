"""botkit inside LangChain chains: `BotkitChatModel`, a langchain-core chat model answering through a
local `Bot` or a `botkit serve` over HTTP (its OpenAI-compatible API), and `BotkitRetriever`, the
knowledge base as a retriever of Documents with their sources.

The chat model returns botkit's checked, cited answer (not the raw draft): citations and the
response id (for feedback) are in the message's `response_metadata`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, convert_to_openai_messages
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, model_validator

from botkit.api import stream_chat
from botkit.errors import BotkitError


class BotkitChatModel(BaseChatModel):
    """Answers with botkit: `BotkitChatModel(bot=Bot.from_config())` in process, or
    `BotkitChatModel(base_url="http://localhost:8000", api_key="bk_...")` against `botkit serve`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    bot: Any = Field(None, description="A local botkit.Bot (exclusive with base_url).")
    base_url: str | None = Field(None, description="A `botkit serve` URL, e.g. http://localhost:8000.")
    api_key: str | None = Field(None, description="A key from `botkit keys create` (scope chat).")
    model: str = Field("botkit", description="Model version: 'botkit' is the server's active model.")
    session_id: str | None = Field(None, description="Continue this stored conversation.")
    max_tokens: int | None = None
    timeout: float = 300.0

    @model_validator(mode="after")
    def _one_backend(self):
        if (self.bot is None) == (self.base_url is None):
            raise ValueError("give either bot= (a local botkit.Bot) or base_url= (a botkit serve URL)")
        return self

    @property
    def _llm_type(self) -> str:
        return "botkit"

    @property
    def _identifying_params(self) -> dict:
        return {"model": self.model, "base_url": self.base_url}

    def _chat(self, messages: list[BaseMessage]) -> list[dict]:
        return [{"role": m["role"], "content": m.get("content") or ""} for m in convert_to_openai_messages(messages)]

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        if self.bot is not None:
            reply = self._local_reply(messages, stop, **kwargs)
            meta = _reply_metadata(reply)
            message = AIMessage(reply.text, response_metadata=meta, usage_metadata=_usage_metadata(reply.usage))
        else:
            data = self._post(messages, stop, stream=False, **kwargs).json()
            choice = data["choices"][0]["message"]
            meta = {**data["botkit"], "citations": choice.get("citations", []), "model": data["model"],
                    "response_id": data["id"]}
            message = AIMessage(choice["content"], response_metadata=meta,
                                usage_metadata=_usage_metadata(data["usage"]))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        if self.bot is not None:
            # Locally the checked answer is only known at the end; stream it as one chunk.
            reply = self._local_reply(messages, stop, **kwargs)
            yield ChatGenerationChunk(message=AIMessageChunk(
                reply.text, response_metadata=_reply_metadata(reply), usage_metadata=_usage_metadata(reply.usage)))
            return
        with self._post(messages, stop, stream=True, **kwargs) as response:
            for line in response.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                data = json.loads(line[len("data: "):])
                if "error" in data:
                    raise BotkitError(f"botkit serve: {data['error']['message']}")
                delta = data["choices"][0]["delta"] if data["choices"] else {}
                meta = {**data["botkit"], "model": data["model"]} if "botkit" in data else {}
                if delta.get("content") or meta:
                    message = AIMessageChunk(delta.get("content") or "", response_metadata=meta)
                    chunk = ChatGenerationChunk(message=message)
                    if run_manager and chunk.text:
                        run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                    yield chunk

    def _local_reply(self, messages, stop, **kwargs):
        decoding = dict(kwargs)
        if stop:
            decoding["stop"] = list(stop)
        if self.max_tokens:
            decoding["max_new_tokens"] = self.max_tokens
        *_, reply = stream_chat(self.bot, self._chat(messages), self.session_id, **decoding)
        return reply

    def _post(self, messages, stop, *, stream: bool, **kwargs):
        import httpx  # deferred: only the HTTP backend needs it

        body = {"model": self.model, "messages": self._chat(messages), "stream": stream, **kwargs}
        if stop:
            body["stop"] = list(stop)
        if self.max_tokens:
            body["max_tokens"] = self.max_tokens
        if self.session_id:
            body["session_id"] = self.session_id
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        url = self.base_url.rstrip("/") + "/v1/chat/completions"
        if stream:
            return _checked_stream(httpx.stream("POST", url, json=body, headers=headers, timeout=self.timeout))
        response = httpx.post(url, json=body, headers=headers, timeout=self.timeout)
        _raise_for_error(response)
        return response


class _checked_stream:
    """httpx.stream's context manager, raising BotkitError for an HTTP error before any chunk."""

    def __init__(self, manager):
        self.manager = manager

    def __enter__(self):
        response = self.manager.__enter__()
        if response.status_code >= 400:
            response.read()
            self.manager.__exit__(None, None, None)
            _raise_for_error(response)
        return response

    def __exit__(self, *exc):
        return self.manager.__exit__(*exc)


def _raise_for_error(response) -> None:
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        raise BotkitError(f"botkit serve answered {response.status_code}: {message}")


def _reply_metadata(reply) -> dict:
    return {"response_id": reply.id, "model": reply.model, "grounding": reply.grounding, "plugin": reply.plugin,
            "session_id": reply.session_id, "citations": [asdict(c) for c in reply.citations]}


def _usage_metadata(usage: dict) -> dict:
    prompt, completion = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
    return {"input_tokens": prompt, "output_tokens": completion, "total_tokens": prompt + completion}


class BotkitRetriever(BaseRetriever):
    """The knowledge base as a LangChain retriever: chunks as Documents, metadata `source`, `title`,
    `chunk_id` and `score` (cosine similarity)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    bot: Any = Field(description="A botkit.Bot whose knowledge base to search.")
    k: int = Field(4, ge=1, le=50)
    min_relevance: float | None = Field(None, description="Similarity floor; the bot's min_relevance when unset.")

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        floor = self.bot.settings.min_relevance if self.min_relevance is None else self.min_relevance
        return [Document(c.text, id=c.id, metadata={"source": c.source, "title": c.title, "chunk_id": c.id,
                                                    "score": c.score})
                for c in self.bot.knowledge.search(query, self.k, floor)]
