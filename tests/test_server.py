"""`botkit serve` live on localhost (a subprocess on a free port, the tiny random model), driven by the
official `openai` client and plain HTTP: completions (streaming and not), keys and scopes, feedback
into the ranking store, concurrent streams, disconnects, bad input, and schemathesis over the
OpenAPI document."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from botkit.config import load_settings
from botkit.database import open_database
from botkit.feedback.store import RankingStore
from botkit.server.keys import KeyStore

openai = pytest.importorskip("openai", reason="the openai client is in the test extra")

QUESTION = "How long is the warranty on the Zephyr 3000?"


@pytest.fixture(scope="module")
def live(tmp_path_factory, prepare_served_home, botkit_server):
    """`botkit serve` on the tiny model over a home with four documents; `keys` maps key names to keys."""
    root = tmp_path_factory.mktemp("serve")
    keys = prepare_served_home(root / "home", root / "docs")
    server = botkit_server(root / "home", root / "serve.log",
                           env={"BOTKIT_SERVER__MAX_TOKENS": "1024", "BOTKIT_SERVER__GENERATION_TIMEOUT": "60"})
    server.keys = keys
    try:
        yield server
    finally:
        server.stop()
    assert "Traceback" not in server.log.read_text(), server.log.read_text()[-3000:]


def client(live, key="support-desk"):
    return openai.OpenAI(base_url=live.url + "/v1", api_key=live.keys[key] if key else "none", max_retries=0)


def store_of(live) -> RankingStore:
    return RankingStore(open_database(load_settings(home=live.home).database_path))


def test_openai_client_gets_a_cited_answer_with_a_response_id(live):
    completion = client(live).chat.completions.create(
        model="botkit", messages=[{"role": "user", "content": QUESTION}], max_tokens=24)
    message = completion.choices[0].message
    assert "seven years" in message.content
    assert message.citations[0]["source"].endswith("warranty.md")  # botkit's extra field
    assert completion.id.startswith("r_") and completion.botkit["response_id"] == completion.id
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    assert store_of(live).response(completion.id)["text"] == message.content


def test_streaming_gives_the_same_answer_chunk_by_chunk(live):
    api = client(live)
    whole = api.chat.completions.create(model="botkit", messages=[{"role": "user", "content": QUESTION}], max_tokens=24)
    chunks = list(api.chat.completions.create(model="botkit", messages=[{"role": "user", "content": QUESTION}],
                                              max_tokens=24, stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert len({c.id for c in chunks}) == 1  # one completion id on every chunk, as OpenAI streams have
    finish = [c for c in chunks if c.choices and c.choices[0].finish_reason == "stop"][0]
    assert finish.botkit["citations"][0]["source"].endswith("warranty.md")
    assert store_of(live).response(finish.botkit["response_id"])["text"] == text  # what feedback names
    assert chunks[-1].usage.total_tokens == whole.usage.total_tokens


def test_openai_client_gets_embeddings(live):
    result = client(live).embeddings.create(model="all-MiniLM-L6-v2", input=["How long is the warranty?", "Descaling"])
    assert [len(d.embedding) for d in result.data] == [384, 384] and result.usage.prompt_tokens > 0


def test_models_lists_botkit_and_unknown_models_are_404(live):
    api = client(live)
    assert "botkit" in [m.id for m in api.models.list()]
    with pytest.raises(openai.NotFoundError) as caught:
        api.chat.completions.create(model="no-such/model", messages=[{"role": "user", "content": QUESTION}])
    assert caught.value.body["code"] == "model_not_found"


def test_keys_and_scopes(live):
    ask = {"model": "botkit", "messages": [{"role": "user", "content": QUESTION}], "max_tokens": 8}
    with pytest.raises(openai.AuthenticationError):
        client(live, key=None).chat.completions.create(**ask)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client(live, key="feedback-only").chat.completions.create(**ask)
    assert "lacks the 'chat' scope" in caught.value.body["message"]
    missing = httpx.post(live.url + "/v1/chat/completions", json=ask)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_api_key"
    # Revoked keys stop working at once.
    settings = load_settings(home=live.home)
    keys = KeyStore(open_database(settings.database_path))
    temporary = keys.create("temporary", "chat")
    assert client(live, None).with_options(api_key=temporary).models.list()
    keys.revoke("temporary")
    with pytest.raises(openai.AuthenticationError):
        client(live, None).with_options(api_key=temporary).models.list()


def test_feedback_by_response_id_lands_in_the_store(live):
    completion = client(live).chat.completions.create(
        model="botkit", messages=[{"role": "user", "content": "Do you ship to Canada?"}], max_tokens=16)
    auth = {"Authorization": f"Bearer {live.keys['support-desk']}"}
    thumbs = httpx.post(live.url + "/v1/feedback", headers=auth,
                        json={"response_id": completion.id, "rating": "down", "reason": "did not answer"})
    assert thumbs.status_code == 200, thumbs.text
    store = store_of(live)
    rows = list(store.db.query("SELECT * FROM ratings WHERE response_id = ?", [completion.id]))
    assert [(r["annotator"], r["value"], r["reason"]) for r in rows] == [("support-desk", -1, "did not answer")]

    # A preference between two answers to one prompt: a pair plus a comparison by the key's name.
    a = store.log_response("Write a tagline", "Kettles that last.", model="v1", origin="generate")
    b = store.log_response("Write a tagline", "Boil better.", model="v2", origin="generate")
    preference = httpx.post(live.url + "/v1/feedback", headers=auth,
                            json={"response_id": a, "other_id": b, "verdict": "a", "reason": "warmer"})
    assert preference.status_code == 200, preference.text
    judged = store.comparisons(annotator="support-desk")
    assert len(judged) == 1 and judged[0]["reason"] == "warmer"
    winner = judged[0]["a_text"] if judged[0]["verdict"] == "a" else judged[0]["b_text"]
    assert winner == "Kettles that last."

    unknown = httpx.post(live.url + "/v1/feedback", headers=auth,
                         json={"response_id": "r_0000000000000000", "rating": 1})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "response_not_found"
    no_scope = httpx.post(live.url + "/v1/feedback", json={"response_id": a, "rating": 1},
                          headers={"Authorization": f"Bearer {live.keys['admin'][:-2]}xx"})
    assert no_scope.status_code == 401


def test_tasks_and_plugins(live):
    auth = {"Authorization": f"Bearer {live.keys['admin']}"}
    plugins = httpx.get(live.url + "/v1/plugins", headers=auth).json()["data"]
    assert "subject_lines" in [p["name"] for p in plugins]
    result = httpx.post(live.url + "/v1/tasks/subject_lines", headers=auth, timeout=120,
                        json={"text": "Spring sale on kettles", "options": {"n": 2}})
    assert result.status_code == 200, result.text
    body = result.json()
    assert len(body["output"]) == 2 or "passed the checks" in body["text"]
    assert body["id"].startswith("r_") and body["usage"]["completion_tokens"] > 0
    assert store_of(live).response(body["id"])["plugin"] == "subject_lines"
    assert httpx.post(live.url + "/v1/tasks/nope", headers=auth, json={"text": "x"}).status_code == 404
    bad = httpx.post(live.url + "/v1/tasks/subject_lines", headers=auth, json={"text": "x", "options": {"colour": 1}})
    assert bad.status_code == 400 and "unknown option 'colour'" in bad.json()["error"]["message"]
    chat_key = {"Authorization": f"Bearer {live.keys['support-desk']}"}
    assert httpx.post(live.url + "/v1/tasks/subject_lines", headers=chat_key, json={"text": "x"}).status_code == 403


@pytest.mark.parametrize("body, status", [
    (b"{not json", 400),
    (b'{"messages": []}', 400),
    (b'{"messages": [{"role": "assistant", "content": "hi"}]}', 400),
    (b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 999999}', 400),
    (b'{"messages": [{"role": "user", "content": "\\ud800"}]}', 400),
    (b'{"messages": [{"role": "user", "content": "   "}]}', 400),
    (b'{"messages": [{"role": "user", "content": "' + b"kettle " * 150_000 + b'"}]}', 413),
])
def test_bad_input_gets_a_json_error_never_a_500(live, body, status):
    response = httpx.post(live.url + "/v1/chat/completions", content=body, timeout=30,
                          headers={"Authorization": f"Bearer {live.keys['support-desk']}",
                                   "Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]


def stream_draft_and_answer(live, question: str, max_tokens: int = 48) -> tuple[str, str]:
    """(the model's streamed draft, the streamed answer) of one request."""
    draft, answer = "", ""
    with httpx.stream("POST", live.url + "/v1/chat/completions", timeout=120,
                      headers={"Authorization": f"Bearer {live.keys['support-desk']}"},
                      json={"model": "botkit", "messages": [{"role": "user", "content": question}],
                            "max_tokens": max_tokens, "stream": True, "include_draft": True}) as response:
        for line in response.iter_lines():
            if line.startswith("data: {"):
                chunk = json.loads(line[6:])
                draft += chunk.get("botkit", {}).get("draft", "")
                answer += "".join(c["delta"].get("content", "") for c in chunk["choices"])
    return draft, answer


def test_concurrent_streams_each_get_their_own_answer(live):
    questions = [QUESTION, "How do I descale my kettle?", "How much is standard shipping?",
                 "What is the price of the Morning Set?"]
    alone = [stream_draft_and_answer(live, q) for q in questions]
    together: dict[int, tuple[str, str]] = {}
    threads = [threading.Thread(target=lambda i=i: together.__setitem__(i, stream_draft_and_answer(live, questions[i])))
               for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    # Batched together or alone, each request gets the answer to its own question.
    assert [together[i][1] for i in range(len(questions))] == [answer for _, answer in alone]
    assert all(draft for draft, _ in alone) and all(draft for draft, _ in together.values())


def test_a_client_that_hangs_up_frees_the_model(live):
    auth = {"Authorization": f"Bearer {live.keys['support-desk']}"}
    long = {"model": "botkit", "messages": [{"role": "user", "content": QUESTION}], "max_tokens": 1000,
            "stream": True, "include_draft": True}
    started = time.monotonic()
    stream_draft_and_answer(live, QUESTION, max_tokens=1000)
    full = time.monotonic() - started
    with httpx.stream("POST", live.url + "/v1/chat/completions", json=long, headers=auth, timeout=60) as response:
        for line in response.iter_lines():
            if '"draft"' in line:
                break  # hang up after the first drafted token
    hung_up = time.monotonic()
    # The next request does not wait for the abandoned one's remaining tokens.
    quick = client(live).chat.completions.create(model="botkit", messages=[{"role": "user", "content": QUESTION}],
                                                 max_tokens=4)
    assert quick.choices[0].message.content
    assert time.monotonic() - hung_up < max(full * 0.6, 0.5), f"full generation took {full:.1f}s"
    assert httpx.get(live.url + "/healthz").json()["queued"] == 0


def test_healthz_answers_while_a_model_generates(live):
    worker = threading.Thread(target=stream_draft_and_answer, args=(live, QUESTION, 600))
    worker.start()
    time.sleep(0.3)
    started = time.monotonic()
    health = httpx.get(live.url + "/healthz", timeout=5)
    assert health.status_code == 200 and time.monotonic() - started < 1.0
    worker.join(timeout=120)


def test_langchain_chat_model_over_http(live):
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    from botkit.langchain import BotkitChatModel

    model = BotkitChatModel(base_url=live.url, api_key=live.keys["support-desk"], max_tokens=16)
    message = model.invoke(QUESTION)
    assert "seven years" in message.content
    assert message.response_metadata["response_id"].startswith("r_")
    assert message.response_metadata["citations"][0]["source"].endswith("warranty.md")
    prompt = ChatPromptTemplate.from_messages([("human", "How long is the warranty on the {product}?")])
    chain = prompt | model | StrOutputParser()
    assert "".join(chain.stream({"product": "Zephyr 3000"})) == message.content
    with pytest.raises(Exception, match="401"):
        BotkitChatModel(base_url=live.url, api_key="bk_wrong").invoke(QUESTION)


def test_schemathesis_finds_no_server_errors(live, tmp_path):
    """Fuzz every operation of the OpenAPI document (a small run: 30 examples per operation)."""
    schemathesis = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if schemathesis is None:
        pytest.skip("schemathesis is in the test extra")
    report = tmp_path / "report.json"
    run = subprocess.run(
        [schemathesis, "run", live.url + "/openapi.json", "--checks",
         "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
         "negative_data_rejection,ignored_auth",
         "--max-examples", "30", "--seed", "1", "--workers", "1", "--no-shrink", "--request-timeout", "90",
         "--header", f"Authorization: Bearer {live.keys['admin']}", "--suppress-health-check", "all",
         "--report", "json", "--report-json-path", str(report)],
        capture_output=True, text=True, timeout=1200)
    summary = run.stdout[-4000:]
    print(summary)
    assert run.returncode == 0, summary


def test_a_slow_generation_is_a_504_and_no_auth_mode_lets_requests_in(settings, tiny_engine, embedder):
    from fastapi.testclient import TestClient

    from botkit.server.app import create_app

    slow = settings.model_copy(update={"server": settings.server.model_copy(update={"generation_timeout": 0.001})})
    with TestClient(create_app(slow, auth=False, engine=tiny_engine, embedder=embedder)) as http:
        response = http.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]})
        assert response.status_code == 504 and response.json()["error"]["code"] == "timeout"
        assert http.get("/v1/models").status_code == 200  # no key needed with auth off
        assert http.get("/healthz").json()["auth"] is False
        deadline = time.monotonic() + 30
        while http.get("/healthz").json()["queued"] and time.monotonic() < deadline:
            time.sleep(0.1)  # the abandoned request's worker stops at its next step
        assert http.get("/healthz").json()["queued"] == 0


def test_a_promotion_reaches_the_server_without_a_restart(home, tiny_model_dir, embedder):
    from botkit.config import save_setting
    from botkit.server.generation import BotPool

    save_setting("model", str(tiny_model_dir))
    pool = BotPool(load_settings(), embedder=embedder, follow_promotions=True)
    first = pool.get("botkit")
    assert pool.get("botkit") is first  # nothing changed: the same bot
    save_setting("model", f"{tiny_model_dir}/")  # what `botkit models promote` does: rewrite the config
    second = pool.get("botkit")
    assert second is not first and second.settings.model == f"{tiny_model_dir}/"
    assert second.respond("Hello?").text  # the new active bot answers


# --- Serving mechanics on a scripted engine, in-process: batching, the queue bound, streaming, conventions.

GOOD = "The Zephyr 3000 electric kettle is covered for seven years."
MORE = "It is covered for seven years from the date of purchase."


class ScriptedEngine:
    """Writes `draft` for every chat, one word every `delay` seconds (a batch of chats takes as long
    as one); `chats` holds what it was given and `batches` the size of each call."""

    name, context_window = "scripted", 4096

    def __init__(self, draft: str = GOOD, delay: float = 0.0):
        self.draft, self.delay = draft, delay
        self.chats: list[list[dict]] = []
        self.batches: list[int] = []

    def count_tokens(self, messages):
        return sum(len(m["content"].split()) + 4 for m in messages)

    def stream(self, messages, options):
        from botkit.models.engine import Generation

        self.chats.append(messages)
        self.batches.append(1)
        words = self.draft.split(" ")
        for i, word in enumerate(words):
            time.sleep(self.delay)
            yield word + (" " if i < len(words) - 1 else "")
        yield Generation(self.draft, self.count_tokens(messages), len(words))

    def generate_batch(self, chats, options):
        from botkit.models.engine import Generation

        self.chats += chats
        self.batches.append(len(chats))
        time.sleep(self.delay * len(self.draft.split(" ")))
        # Each chat's own question, so an answer given to the wrong request would show.
        return [Generation(self.draft, self.count_tokens(c), len(self.draft.split())) for c in chats]


@pytest.fixture(scope="module")
def served_home(tmp_path_factory, prepare_served_home):
    root = tmp_path_factory.mktemp("served")
    prepare_served_home(root / "home", root / "docs")
    return root / "home"


def app_on(home, engine, embedder, **server):
    from botkit.server.app import create_app

    settings = load_settings(home=home)
    settings = settings.model_copy(update={"server": settings.server.model_copy(update=server)})
    return create_app(settings, auth=False, engine=engine, embedder=embedder)


class InProcessServer:
    """uvicorn on a free port in a thread, so responses really stream (TestClient buffers them)."""

    def __init__(self, app):
        import uvicorn

        # Port 0: the system picks a free port; read it back once uvicorn is listening.
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def serve(served_home, embedder):
    servers = []

    def start(engine, **server):
        servers.append(InProcessServer(app_on(served_home, engine, embedder, **server)))
        return servers[-1]

    yield start
    for s in servers:
        s.stop()


def ask_body(question=QUESTION, **extra):
    return {"model": "botkit", "messages": [{"role": "user", "content": question}], **extra}


class HeldEngine(ScriptedEngine):
    """Writes its draft but holds its last word until `sent` is set (the client has a first sentence), or
    60 s; `held_until_sent`: whether the client's first sentence came while the model was still writing."""

    def __init__(self, draft: str):
        super().__init__(draft)
        self.sent, self.held_until_sent = threading.Event(), None

    def stream(self, messages, options):
        last = len(self.draft.split(" ")) - 1
        for i, piece in enumerate(super().stream(messages, options)):
            if i == last:
                self.held_until_sent = self.sent.wait(timeout=60)
            yield piece


def test_checked_sentences_stream_as_they_pass_before_the_answer_is_done(served_home, embedder):
    from botkit.server.app import create_app

    engine = HeldEngine(f"{GOOD} {MORE}")
    settings = load_settings(home=served_home).model_copy(update={"answer_sentences": 2})
    server = InProcessServer(create_app(settings, auth=False, engine=engine, embedder=embedder))
    try:
        arrivals = []
        with httpx.stream("POST", server.url + "/v1/chat/completions", json=ask_body(stream=True), timeout=90) as r:
            for line in r.iter_lines():
                if line.startswith("data: {"):
                    chunk = json.loads(line[6:])
                    for choice in chunk["choices"]:
                        arrivals.append((choice["delta"].get("content"), choice["finish_reason"]))
                        if choice["delta"].get("content"):
                            engine.sent.set()
    finally:
        server.stop()
    assert [c for c, _ in arrivals if c] == [GOOD, f" {MORE}", " [1]"]
    # The first sentence reached the client while the model still had the second's last word to write.
    assert engine.held_until_sent is True
    assert arrivals[-1][1] == "stop"


def test_requests_past_the_queue_bound_get_429_with_retry_after(serve):
    server = serve(ScriptedEngine(delay=0.3), max_queue=2)
    results: list[httpx.Response] = []
    threads = [threading.Thread(target=lambda: results.append(
        httpx.post(server.url + "/v1/chat/completions", json=ask_body(), timeout=60))) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 200, 429, 429, 429]
    busy = [r for r in results if r.status_code == 429]
    assert all(int(r.headers["Retry-After"]) >= 1 and r.json()["error"]["code"] == "server_busy" for r in busy)
    # The bound is on requests in progress, not a ban: once they finished, the next one is served.
    assert httpx.post(server.url + "/v1/chat/completions", json=ask_body(), timeout=60).status_code == 200


def test_admission_refuses_past_the_bound_and_what_would_time_out():
    from botkit.server.generation import Admission, ServerBusy

    bounded = Admission(limit=2, timeout=100)
    bounded.enter(), bounded.enter()
    with pytest.raises(ServerBusy):
        bounded.enter()
    paced = Admission(limit=16, timeout=10)
    for _ in range(4):
        paced.enter()
    paced.leave(8.0)  # four in for 8 s: 0.5 answered a second
    paced.enter()  # 4 ahead of it: ~8 s, within the time limit
    with pytest.raises(ServerBusy) as refused:
        paced.enter()  # ~10 s: it would time out, so it is refused now
    assert refused.value.retry_after == 2


def test_concurrent_requests_share_batched_calls_and_each_gets_its_own_answer(serve):
    engine = ScriptedEngine(delay=0.3)  # 3 s an answer: the others are planned and waiting meanwhile
    server = serve(engine)
    questions = [QUESTION, "How do I descale my kettle?", "How much is standard shipping?",
                 "What is the price of the Morning Set?", "Do you ship to Canada?"]

    def answer(q):
        r = httpx.post(server.url + "/v1/chat/completions", json=ask_body(q), timeout=120)
        assert r.status_code == 200, r.text
        return r.json()["choices"][0]["message"]["content"]

    alone = [answer(q) for q in questions]
    together: dict[int, str] = {}
    threads = [threading.Thread(target=lambda i=i: together.__setitem__(i, answer(questions[i])))
               for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [together[i] for i in range(len(questions))] == alone
    assert max(engine.batches) > 1  # some of the concurrent requests were generated in one call
    # Each chat in a batch was its own question's prompt.
    asked = [c[-1]["content"] for c in engine.chats[len(questions):]]
    assert sorted(q for q in questions if any(q in a for a in asked)) == sorted(questions)


def test_a_system_message_is_added_after_the_brand_prompt(served_home, embedder):
    from fastapi.testclient import TestClient

    from botkit.prompting.brand import load_brand

    engine = ScriptedEngine()
    with TestClient(app_on(served_home, engine, embedder)) as http:
        body = {"messages": [{"role": "system", "content": "Answer in one short sentence."},
                             {"role": "developer", "content": "Be warm."}, {"role": "user", "content": QUESTION}]}
        assert http.post("/v1/chat/completions", json=body).status_code == 200
    brand = load_brand(load_settings(home=served_home).brand).system_prompt()
    assert engine.chats[-1][0] == {"role": "system", "content": f"{brand}\n\nAnswer in one short sentence.\n\nBe warm."}


@pytest.mark.parametrize("extra, param", [
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, "tools"),
    ({"tool_choice": {"type": "function", "function": {"name": "f"}}}, "tools"),
    ({"functions": [{"name": "f"}]}, "tools"),
    ({"response_format": {"type": "json_object"}}, "response_format"),
    ({"logprobs": True}, "logprobs"),
    ({"top_logprobs": 2}, "logprobs"),
    ({"n": 2}, "n"),
    ({"messages": [{"role": "user", "content": QUESTION}, {"role": "tool", "content": "42"},
                   {"role": "user", "content": QUESTION}]}, "messages"),
])
def test_unsupported_openai_fields_are_a_400_not_ignored(served_home, embedder, extra, param):
    from fastapi.testclient import TestClient

    engine = ScriptedEngine()
    with TestClient(app_on(served_home, engine, embedder)) as http:
        response = http.post("/v1/chat/completions", json={**ask_body(), **extra})
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["param"] == param and error["code"] == "unsupported_parameter"
        assert engine.chats == []  # refused before any work
        fine = http.post("/v1/chat/completions", json=ask_body(response_format={"type": "text"}, tool_choice="none"))
        assert fine.status_code == 200


def test_embeddings_in_openai_shape(served_home, embedder):
    import base64

    import numpy as np
    from fastapi.testclient import TestClient

    texts = ["How long is the warranty?", "Descaling the kettle"]
    with TestClient(app_on(served_home, ScriptedEngine(), embedder)) as http:
        body = http.post("/v1/embeddings", json={"model": "all-MiniLM-L6-v2", "input": texts}).json()
        packed = http.post("/v1/embeddings", json={"input": texts[0], "encoding_format": "base64"}).json()
        unknown = http.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"})
        long = http.post("/v1/embeddings", json={"input": "kettle " * 400})
        empty = http.post("/v1/embeddings", json={"input": ["fine", " "]})
    assert body["object"] == "list" and body["model"] == "all-MiniLM-L6-v2" and body["usage"]["prompt_tokens"] > 0
    vectors = np.array([d["embedding"] for d in body["data"]])
    assert vectors.shape == (2, 384) and [d["index"] for d in body["data"]] == [0, 1]
    assert np.allclose(vectors, embedder.encode(texts), atol=1e-5)
    unpacked = np.frombuffer(base64.b64decode(packed["data"][0]["embedding"]), dtype="<f4")
    assert np.allclose(unpacked, vectors[0], atol=1e-5)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "model_not_found"
    assert long.status_code == 400 and "at most 256" in long.json()["error"]["message"]
    assert empty.status_code == 400
