"""The FastAPI application behind `botkit serve`: OpenAI-compatible chat completions, plugin tasks and
feedback into the ranking store, with API keys, rate limits, body limits, timeouts, an access log,
Prometheus metrics and JSON errors in OpenAI's shape (never a bare 500 for bad input)."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from botkit import api
from botkit.config import Settings
from botkit.database import open_database
from botkit.errors import BotkitError
from botkit.feedback.reply_log import record_feedback
from botkit.feedback.store import RankingStore
from botkit.plugins import describe_tasks, get_tasks
from botkit.replies import Draft, Reply
from botkit.server import schemas
from botkit.server.access import Access, KeyOriginsCORS
from botkit.server.generation import BotPool, ServerBusy, run_request
from botkit.server.http_errors import ApiError, BodyLimit, errors, install_error_handlers
from botkit.server.keys import KeyStore
from botkit.server.observability import AccessLog, Metrics, note_usage
from botkit.server.ratelimit import estimate_tokens

# One server-sent event: its data is a chat.completion.chunk as JSON, the last one "[DONE]".
SSE_EVENT = {"type": "object", "required": ["data"], "properties": {
    "data": {"type": "string", "description": "A chat.completion.chunk as JSON, or [DONE] at the end"},
    "event": {"type": "string"}, "id": {"type": "string"}}}


def create_app(settings: Settings, *, auth: bool = True, widget: bool = False, engine=None, embedder=None) -> FastAPI:
    """The API over `settings`' home. `auth=False` lets every request in (local development only);
    `widget=True` serves examples/support-widget at /widget/. `engine`/`embedder` are for tests."""
    limits = settings.server
    # Tests hand in their own engine: no following promotions, no background embedding beside them.
    pool = BotPool(settings, engine=engine, embedder=embedder, follow_promotions=engine is None, warm=engine is None)
    db = open_database(settings.database_path)
    db_lock = threading.Lock()  # one connection for keys and feedback, shared by the threadpool
    keys, store = KeyStore(db), RankingStore(db)
    access = Access(keys, db_lock, limits, auth=auth)
    require = access.require
    metrics = Metrics(lambda: pool.waiting)

    app = FastAPI(title="botkit", version="0.1.0", description=(
        "An OpenAI-compatible chat API over a botkit brand bot, plus plugin tasks and feedback. "
        "Send `Authorization: Bearer <key>` (keys come from `botkit keys create`). Every key has rate limits "
        "(requests and tokens a minute: 429 with Retry-After); every response carries an X-Request-ID."))
    app.state.pool, app.state.metrics = pool, metrics
    # Outermost last: the access log sees every response, 413s and CORS refusals included.
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    app.add_middleware(KeyOriginsCORS, access=access)
    app.add_middleware(AccessLog, metrics=metrics)
    install_error_handlers(app, limits.generation_timeout)

    # Endpoints.
    @app.get("/healthz", response_model=schemas.Health, tags=["server"])
    async def healthz():
        """Liveness: answers at once, even while a model is generating."""
        return schemas.Health(model=pool.active.engine.name, queued=pool.waiting, auth=auth)

    @app.get("/v1/models", response_model=schemas.ModelList, responses=errors(401, 429), tags=["chat"])
    def list_models(_: str = Depends(require(None))):
        """The models `model` can name: 'botkit' (the active model), the active model's names, the
        others loaded or downloaded here, and the trained chat versions (`botkit train ...`)."""
        from botkit.feedback.registry import version_rows
        from botkit.models.catalog import hub_cached

        versions = [v["name"] for v in version_rows("") if v["kind"] == "policy"]
        names = [*pool.active_names(), *pool.loaded(), *hub_cached(), *versions]
        return schemas.ModelList(data=[schemas.ModelCard(id=n) for n in dict.fromkeys(names)])

    @app.post("/v1/chat/completions", response_model=schemas.ChatCompletion, tags=["chat"],
              responses={200: {"content": {"text/event-stream": {"schema": SSE_EVENT}},
                               "description": "A chat completion, or with stream=true server-sent chunks"},
                         **errors(400, 401, 403, 404, 413, 429, 504)})
    async def chat_completions(body: schemas.ChatCompletionRequest, request: Request,
                               _: str = Depends(require("chat"))):
        """OpenAI's chat completions. The answer is grounded in the knowledge base and checked against
        it, sentence by sentence (streaming: each content chunk is a checked sentence); its citations
        are in `choices[0].message.citations` (streaming: `botkit.citations` of the last chunk). `id` is
        the response id that POST /v1/feedback names (streaming: `botkit.response_id` of the last chunk).
        `system` (and `developer`) messages are added after the brand's system prompt."""
        _refuse_unsupported(body)
        if len(body.messages) > limits.max_messages:
            raise ApiError(400, f"at most {limits.max_messages} messages a request (this one has "
                           f"{len(body.messages)}): continue a long chat with session_id",
                           param="messages", code="too_many_messages")
        decoding = _decoding(body, limits.max_tokens)
        messages = [m.model_dump() for m in body.messages]
        api.split_chat(messages)  # a chat that does not end with the user is a 400 before any work
        system = "\n\n".join(api.text_of(m["content"]) for m in messages if m["role"] in ("system", "developer"))
        access.charge(request, estimate_tokens([api.text_of(m["content"]) for m in messages],
                                               decoding.get("max_new_tokens", settings.decoding.max_new_tokens)))
        bot = await run_in_threadpool(pool.get, body.model)
        bot.settings.decoding.merged(**decoding)
        items = run_request(pool, lambda: api.stream_chat(bot, messages, body.session_id, system=system,
                                                          drafts=body.include_draft, **decoding),
                            limits.generation_timeout)
        first = await _unless_disconnected(request, _next(items))
        if body.stream:
            # sep: plain newlines, which every SSE reader splits on (the widget's too).
            return EventSourceResponse(_chunks(first, items, body, bot.engine.name, request), ping=10, sep="\n")
        reply = first
        while not isinstance(reply, Reply):
            reply = await _unless_disconnected(request, _next(items))
        await items.aclose()
        _note_reply(request, reply)
        return _completion(reply)

    @app.post("/v1/embeddings", response_model=schemas.EmbeddingList, tags=["chat"],
              responses=errors(400, 401, 403, 404, 413, 429, 504))
    async def embeddings(body: schemas.EmbeddingRequest, request: Request, _: str = Depends(require("chat"))):
        """OpenAI's embeddings, from the embedding model botkit retrieves with (all-MiniLM-L6-v2,
        384 dimensions; `model` may also be 'botkit'). Each input is at most 256 tokens."""
        if body.model not in schemas.EMBEDDING_MODELS:
            raise ApiError(404, f"the embedding model here is '{schemas.EMBEDDING_MODELS[0]}', not '{body.model}'",
                           param="model", code="model_not_found")
        texts = [body.input] if isinstance(body.input, str) else body.input
        if body.dimensions is not None and body.dimensions != EMBEDDING_DIMENSIONS:
            raise ApiError(400, f"dimensions must be {EMBEDDING_DIMENSIONS} for this model", param="dimensions")
        access.charge(request, estimate_tokens(texts))
        items = run_request(pool, lambda: iter([_embed(pool.embedder, texts)]), limits.generation_timeout)
        vectors, tokens = await _unless_disconnected(request, _next(items))
        await items.aclose()
        note_usage(request, schemas.EMBEDDING_MODELS[0], tokens)
        data = [schemas.Embedding(index=i, embedding=_encoded(v, body.encoding_format)) for i, v in enumerate(vectors)]
        return schemas.EmbeddingList(data=data, model=schemas.EMBEDDING_MODELS[0],
                                     usage=schemas.EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens))

    @app.get("/v1/plugins", response_model=schemas.PluginList, responses=errors(401, 429), tags=["tasks"])
    def list_plugins(_: str = Depends(require(None))):
        """The tasks POST /v1/tasks/{plugin} runs, with their options."""
        return schemas.PluginList(data=describe_tasks())

    @app.post("/v1/tasks/{plugin}", response_model=schemas.TaskResponse, tags=["tasks"],
              responses=errors(400, 401, 403, 404, 413, 429, 504))
    async def run_task(plugin: Annotated[str, PathParam(examples=["subject_lines"])], body: schemas.TaskRequest,
                       request: Request, _: str = Depends(require("tasks"))):
        """Run a plugin's task on `text` with `options`; the output is logged with a response id."""
        tasks = get_tasks()
        if plugin not in tasks:
            raise ApiError(404, f"unknown plugin '{plugin}' (plugins: {', '.join(sorted(tasks)) or 'none'})",
                           param="plugin", code="plugin_not_found")
        tasks[plugin].parse_options(body.options)  # bad options: 400 before queueing
        access.charge(request, estimate_tokens([body.text], settings.decoding.max_new_tokens))
        bot = await run_in_threadpool(pool.get, body.model)
        items = run_request(pool, lambda: iter([bot.run_task(plugin, body.text, **body.options)]),
                            limits.generation_timeout)
        result = await _unless_disconnected(request, _next(items))
        await items.aclose()
        usage = {"prompt_tokens": 0, "completion_tokens": 0, **result.usage}
        note_usage(request, result.model, usage["prompt_tokens"], usage["completion_tokens"])
        return schemas.TaskResponse(
            id=result.id, plugin=plugin, model=result.model, output=result.output, text=result.text,
            citations=result.citations,
            usage=schemas.Usage(**usage, total_tokens=usage["prompt_tokens"] + usage["completion_tokens"]))

    @app.post("/v1/feedback", response_model=schemas.FeedbackResponse, tags=["feedback"],
              responses=errors(400, 401, 403, 404, 413, 429))
    def feedback(body: schemas.FeedbackRequest, annotator: str = Depends(require("feedback"))):
        """Thumbs on a response (`response_id`, `rating` 1/-1 or up/down, `reason`), or a preference
        between two responses to the same prompt (`response_id` as a, `other_id` as b, `verdict`
        a | b | tie | both-bad). The annotator is the API key's name."""
        with db_lock:
            for field in ("response_id", "other_id"):
                rid = getattr(body, field)
                if rid is not None:
                    try:
                        store.response(rid)
                    except BotkitError:
                        raise ApiError(404, f"unknown response '{rid}'", param=field,
                                       code="response_not_found") from None
            result = record_feedback(store, body.response_id, body.rating, other_id=body.other_id,
                                         verdict=body.verdict, reason=body.reason, annotator=annotator,
                                         seconds=body.seconds)
        return schemas.FeedbackResponse(**result)

    if limits.metrics != "off":
        reader = [] if limits.metrics == "public" else [Depends(require("admin"))]

        @app.get("/metrics", include_in_schema=False, dependencies=reader)
        def prometheus_metrics():
            """Prometheus text format: requests, latency, tokens and queue depth (server.metrics says who reads)."""
            return Response(metrics.render(), media_type="text/plain; version=1.0.0; charset=utf-8")

    if widget:
        from botkit.server.widget import mount_widget

        mount_widget(app, keys, db_lock)
    return app


EMBEDDING_DIMENSIONS = 384
EMBEDDING_MAX_TOKENS = 256  # what all-MiniLM-L6-v2 reads; longer inputs would be cut silently


def _refuse_unsupported(body: schemas.ChatCompletionRequest) -> None:
    """OpenAI fields botkit cannot honour are a 400, never silently ignored."""
    def refuse(param: str, why: str):
        raise ApiError(400, f"{param} is not supported here: {why}", param=param, code="unsupported_parameter")

    if body.tools or body.functions or any(c not in (None, "none") for c in (body.tool_choice, body.function_call)):
        refuse("tools", "botkit answers from its knowledge base and calls no tools")
    if any(m.role == "tool" for m in body.messages):
        refuse("messages", "tool messages (botkit calls no tools)")
    if body.response_format is not None and body.response_format.get("type") != "text":
        refuse("response_format", "answers are checked text with citations (use POST /v1/tasks for structured output)")
    if body.logprobs or body.top_logprobs is not None:
        refuse("logprobs", "the checked answer is not the model's raw output, so it has no token log-probabilities")
    if body.n != 1:
        refuse("n", "one answer per request (send the request again for another)")


def _embed(embedder, texts: list[str]) -> tuple[list, int]:
    counts = [len(embedder.tokenizer(t, add_special_tokens=True)["input_ids"]) for t in texts]
    for i, n in enumerate(counts):
        if n > EMBEDDING_MAX_TOKENS:
            raise BotkitError(f"input[{i}] is {n} tokens; the embedding model reads at most {EMBEDDING_MAX_TOKENS}")
    return embedder.encode(texts), sum(counts)


def _encoded(vector, encoding_format: str):
    """A vector as a list of floats, or base64 of its float32 bytes (what the openai client asks for)."""
    if encoding_format == "base64":
        return base64.b64encode(vector.astype("<f4").tobytes()).decode()
    return vector.tolist()


def _decoding(body: schemas.ChatCompletionRequest, max_tokens: int) -> dict:
    """OpenAI sampling fields as botkit decoding options (unset fields keep the configured ones)."""
    options = {}
    tokens = body.max_completion_tokens or body.max_tokens
    if tokens is not None:
        if tokens > max_tokens:
            raise ApiError(400, f"max_tokens is at most {max_tokens} on this server", param="max_tokens")
        options["max_new_tokens"] = tokens
    if body.temperature is not None:
        options.update(strategy="sample", temperature=body.temperature) if body.temperature > 0 else \
            options.update(strategy="greedy")
    if body.top_p is not None:
        options["top_p"] = body.top_p
    if body.seed is not None:
        options["seed"] = body.seed
    stops = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    if len(stops) > 4:
        raise ApiError(400, "at most 4 stop sequences", param="stop")
    if any(s.strip() for s in stops):
        options["stop"] = [s for s in stops if s.strip()]
    return options


async def _next(items: AsyncIterator):
    try:
        return await items.__anext__()
    except StopAsyncIteration:
        raise ApiError(500, "the bot gave no answer", type="server_error") from None


async def _unless_disconnected(request: Request, awaitable):
    """Await `awaitable`, cancelling it (and so the generation) if the client hangs up meanwhile."""
    work = asyncio.ensure_future(awaitable)

    async def hang_up():
        while (await request.receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(hang_up())
    try:
        await asyncio.wait({work, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
    if not work.done():
        work.cancel()
        raise ApiError(499, "the client closed the request")
    return work.result()


def _note_reply(request: Request, reply: Reply) -> None:
    note_usage(request, reply.model, reply.usage.get("prompt_tokens", 0), reply.usage.get("completion_tokens", 0))


def _usage(reply: Reply) -> schemas.Usage:
    prompt, completion = reply.usage.get("prompt_tokens", 0), reply.usage.get("completion_tokens", 0)
    return schemas.Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


def _info(reply: Reply) -> schemas.BotkitInfo:
    return schemas.BotkitInfo(response_id=reply.id, grounding=reply.grounding, plugin=reply.plugin,
                              route=reply.route, session_id=reply.session_id)


def _completion(reply: Reply) -> schemas.ChatCompletion:
    message = schemas.AssistantMessage(content=reply.text, citations=reply.citations)
    return schemas.ChatCompletion(id=reply.id, created=int(time.time()), model=reply.model,
                                  choices=[schemas.Choice(message=message, finish_reason=reply.finish_reason)],
                                  usage=_usage(reply), botkit=_info(reply))


async def _chunks(first, items: AsyncIterator, body: schemas.ChatCompletionRequest, model: str,
                  request: Request) -> AsyncIterator[dict]:
    """Chat completion chunks as server-sent events. Content deltas carry only checked text, as each
    sentence passes, so what an OpenAI client concatenates is exactly the final answer; the model's
    unchecked draft goes in `botkit.draft` on request."""
    created, cid = int(time.time()), f"chatcmpl-{uuid.uuid4().hex[:24]}"

    def chunk(delta=None, finish=None, **extra) -> dict:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
        return {"data": json.dumps({"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                                    "choices": choices, **extra}, ensure_ascii=False)}

    item, started = first, False
    try:
        while not isinstance(item, Reply):
            if isinstance(item, Draft):
                yield chunk({}, botkit={"draft": item.text})
            else:
                if not started:
                    yield chunk({"role": "assistant", "content": ""})
                    started = True
                yield chunk({"content": item})
            item = await _next(items)
    except (asyncio.TimeoutError, BotkitError, ApiError, ServerBusy) as exc:
        # The status line is sent: report the failure the way OpenAI streams do, then stop.
        message = "no answer within the time limit" if isinstance(exc, asyncio.TimeoutError) else str(exc)
        yield {"data": json.dumps({"error": {"message": message, "type": "server_error", "param": None, "code": None}})}
        return
    finally:
        await items.aclose()
    reply = item
    _note_reply(request, reply)
    if not started:  # a canned reply or a plugin's output: one piece
        yield chunk({"role": "assistant", "content": ""})
        yield chunk({"content": reply.text})
    info = _info(reply).model_dump() | {"citations": [asdict(c) for c in reply.citations]}
    yield chunk({}, reply.finish_reason, botkit=info)
    if body.stream_options and body.stream_options.include_usage:
        yield chunk(usage=_usage(reply).model_dump())
    yield {"data": "[DONE]"}
