"""`botkit serve` live on localhost (a subprocess on a free port, the tiny random model), driven by the
official `openai` client and plain HTTP: completions (streaming and not), keys and scopes, feedback
into the ranking store, concurrent streams, disconnects, bad input, and schemathesis over the
OpenAPI document."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from botkit.config import load_settings
from botkit.database import open_database
from botkit.dialogue import Bot
from botkit.feedback.store import RankingStore
from botkit.prompting.brand import sample_brand_dir
from botkit.server.keys import KeyStore

openai = pytest.importorskip("openai", reason="the openai client is in the test extra")

QUESTION = "How long is the warranty on the Zephyr 3000?"
DOCS = ("warranty.md", "care-and-descaling.md", "shipping.md", "pricing-and-bundles.md")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """A `botkit serve` subprocess over `home`, killed on stop; `keys` maps key names to keys."""

    def __init__(self, home: Path, model_dir: Path, log: Path, *args: str, env: dict | None = None):
        self.home, self.port, self.log = home, free_port(), log
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "BOTKIT_HOME": str(home), "BOTKIT_MODEL": str(model_dir), **(env or {})}
        environment.pop("BOTKIT_CONFIG", None)
        with log.open("w") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "botkit", "serve", "--port", str(self.port), *args],
                                         env=environment, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"botkit serve exited with {self.proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        self.stop()
        pytest.fail(f"botkit serve did not come up:\n{log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def prepare_home(home: Path, embedder, docs_dir: Path) -> dict[str, str]:
    """Ingest four sample documents into `home` and create keys; returns {name: key}."""
    docs_dir.mkdir(parents=True, exist_ok=True)
    for name in DOCS:
        shutil.copy(sample_brand_dir() / "knowledge" / name, docs_dir)
    settings = load_settings(home=home)
    Bot(settings, embedder=embedder).knowledge.ingest(docs_dir)
    keys = KeyStore(open_database(settings.database_path))
    return {"support-desk": keys.create("support-desk", "chat,feedback"),
            "feedback-only": keys.create("feedback-only", "feedback"),
            "admin": keys.create("admin", "admin")}


@pytest.fixture(scope="module")
def live(tmp_path_factory, tiny_model_dir, embedder):
    root = tmp_path_factory.mktemp("serve")
    keys = prepare_home(root / "home", embedder, root / "docs")
    server = LiveServer(root / "home", tiny_model_dir, root / "serve.log",
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
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 3
    finish = [c for c in chunks if c.choices and c.choices[0].finish_reason == "stop"][0]
    assert finish.botkit["citations"][0]["source"].endswith("warranty.md")
    assert finish.id == finish.botkit["response_id"]
    assert chunks[-1].usage.total_tokens == whole.usage.total_tokens


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
    assert len(body["output"]) == 2 and body["id"].startswith("r_") and body["usage"]["completion_tokens"] > 0
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


def test_concurrent_streams_are_never_interleaved(live):
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
    assert [together[i] for i in range(len(questions))] == alone
    assert all(draft for draft, _ in alone)


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
