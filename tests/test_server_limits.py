"""Nobody let in: per-key rate limits (requests and tokens a minute, 429 + Retry-After), caps on
messages and max_tokens, public widget keys bound to their origins and limited per visitor, and CORS
off unless configured. In-process server on the tiny model over a home with four documents."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from botkit.config import load_settings
from botkit.database import open_database
from botkit.server.keys import KeyStore

SHOP = "https://shop.example"


@pytest.fixture(scope="module")
def served(tmp_path_factory, prepare_served_home):
    root = tmp_path_factory.mktemp("limits")
    prepare_served_home(root / "home", root / "docs")
    return root / "home"


@pytest.fixture
def serve(served, tiny_engine, embedder):
    """`serve(widget=False, **server_settings)` -> (TestClient, KeyStore) over a fresh app (fresh counters)."""
    clients = []

    def start(widget: bool = False, **server):
        from botkit.server.app import create_app

        settings = load_settings(home=served)
        settings = settings.model_copy(update={"server": settings.server.model_copy(update=server)})
        clients.append(TestClient(create_app(settings, widget=widget, engine=tiny_engine, embedder=embedder)))
        return clients[-1].__enter__(), KeyStore(open_database(settings.database_path))

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def bearer(key: str, **headers) -> dict:
    return {"Authorization": f"Bearer {key}", **headers}


def chat(text="How long is the warranty on the Zephyr 3000?", **extra) -> dict:
    return {"model": "botkit", "messages": [{"role": "user", "content": text}], "max_tokens": 8, **extra}


def unique(name: str) -> str:
    import uuid

    return f"{name}-{uuid.uuid4().hex[:6]}"


def test_a_key_past_its_requests_a_minute_gets_429_with_retry_after_and_others_go_on(serve):
    http, keys = serve()
    slow_key, other = keys.create(unique("tight"), "chat", requests_per_minute=3), keys.create(unique("roomy"), "chat")
    assert [http.get("/v1/models", headers=bearer(slow_key)).status_code for _ in range(3)] == [200] * 3
    refused = http.get("/v1/models", headers=bearer(slow_key))
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "3 requests a minute" in refused.json()["error"]["message"]
    assert http.get("/v1/models", headers=bearer(other)).status_code == 200  # a limit is per key


def test_the_server_default_limits_keys_without_their_own(serve):
    http, keys = serve(requests_per_minute=2)
    key = keys.create(unique("plain"), "chat")
    assert [http.get("/v1/plugins", headers=bearer(key)).status_code for _ in range(3)] == [200, 200, 429]


def test_tokens_a_minute_count_what_a_request_may_use(serve):
    http, keys = serve()
    key = keys.create(unique("embedder"), "chat", tokens_per_minute=100)
    text = "kettle " * 40  # 280 characters: about 70 tokens
    first = http.post("/v1/embeddings", headers=bearer(key), json={"input": text})
    assert first.status_code == 200, first.text
    second = http.post("/v1/embeddings", headers=bearer(key), json={"input": text})
    assert second.status_code == 429 and "100 tokens a minute" in second.json()["error"]["message"]
    assert int(second.headers["Retry-After"]) >= 1
    # A request that could never fit in the minute is the client's mistake: 400, not "retry later".
    costly = keys.create(unique("small"), "chat", tokens_per_minute=50)
    too_big = http.post("/v1/chat/completions", headers=bearer(costly), json=chat(max_tokens=500))
    assert too_big.status_code == 400 and too_big.json()["error"]["code"] == "too_many_tokens"
    assert "lower max_tokens" in too_big.json()["error"]["message"]


def test_messages_and_max_tokens_are_capped_with_a_clear_400(serve):
    http, keys = serve(max_messages=4, max_tokens=64)
    key = keys.create(unique("desk"), "chat")
    turns = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}] * 2
    many = http.post("/v1/chat/completions", headers=bearer(key),
                     json={"messages": [*turns, {"role": "user", "content": "and?"}]})
    assert many.status_code == 400 and many.json()["error"]["code"] == "too_many_messages"
    assert "at most 4 messages" in many.json()["error"]["message"]
    big = http.post("/v1/chat/completions", headers=bearer(key), json=chat(max_tokens=65))
    assert big.status_code == 400 and "max_tokens is at most 64" in big.json()["error"]["message"]


def test_a_widget_key_chats_only_from_its_origins(serve):
    http, keys = serve()
    key = keys.create(unique("site"), "widget", origins=[SHOP])
    no_origin = http.post("/v1/chat/completions", headers=bearer(key), json=chat())
    assert no_origin.status_code == 403 and no_origin.json()["error"]["code"] == "origin_not_allowed"
    elsewhere = http.post("/v1/chat/completions", headers=bearer(key, Origin="https://evil.example"), json=chat())
    assert elsewhere.status_code == 403 and SHOP in elsewhere.json()["error"]["message"]
    answered = http.post("/v1/chat/completions", headers=bearer(key, Origin=SHOP), json=chat())
    assert answered.status_code == 200, answered.text
    assert answered.headers["Access-Control-Allow-Origin"] == SHOP
    # Public means chat only: no tasks, no feedback into the ranking store, no embeddings of other texts.
    for path, body in (("/v1/tasks/subject_lines", {"text": "Spring sale"}),
                       ("/v1/feedback", {"response_id": answered.json()["id"], "rating": 1})):
        refused = http.post(path, headers=bearer(key, Origin=SHOP), json=body)
        assert refused.status_code == 403 and "chat only" in refused.json()["error"]["message"]


def test_browsers_get_cors_only_for_configured_and_widget_origins(serve):
    http, keys = serve(cors_origins=["https://desk.example"])
    admin = keys.create(unique("ops"), "admin")
    keys.create(unique("site"), "widget", origins=[SHOP])

    def preflight(origin):
        return http.options("/v1/chat/completions", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})

    assert preflight(SHOP).headers["Access-Control-Allow-Origin"] == SHOP
    assert preflight("https://desk.example").status_code == 200
    assert preflight("https://evil.example").status_code == 400
    plain = http.get("/v1/models", headers=bearer(admin, Origin="https://evil.example"))
    assert plain.status_code == 200 and "Access-Control-Allow-Origin" not in plain.headers


def test_cors_is_off_by_default(serve):
    http, keys = serve()
    admin = keys.create(unique("ops"), "admin")
    response = http.get("/v1/models", headers=bearer(admin, Origin="https://desk.example"))
    assert "Access-Control-Allow-Origin" not in response.headers


def test_each_widget_visitor_gets_a_share_of_the_key(serve):
    http, keys = serve(widget_requests_per_minute=2)
    key = keys.create(unique("site"), "widget", origins=[SHOP])
    statuses = [http.get("/v1/models", headers=bearer(key, Origin=SHOP)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_the_widget_page_gets_its_public_key_from_widget_config_not_its_url(serve):
    http, keys = serve(widget=True)
    page = "https://help.example"
    missing = http.get("/widget/config", headers={"Origin": page})
    assert missing.status_code == 404 and f"--scope widget --origin {page}" in missing.json()["error"]["message"]
    key = keys.create(unique("help"), "widget", origins=[page])
    config = http.get("/widget/config", headers={"Origin": page}).json()
    assert config["key"] == key and config["feedback"] is False
    assert http.get("/widget/config", headers={"Origin": "https://evil.example"}).status_code == 404
    script = http.get("/widget/widget.js").text
    assert 'params.get("key")' not in script and "/widget/config" in script
