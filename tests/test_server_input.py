"""Bad input on every HTTP endpoint (every path of the OpenAPI document, plus /metrics and the widget's
config): empty, malformed, huge (10 MB), binary, non-UTF-8 and wrongly typed bodies get a 4xx with a
JSON error, never a 500, and nothing already stored is lost. In-process, the tiny model, an admin key
(so what is refused is the input, not the key)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from botkit.config import load_settings
from botkit.database import open_database

BODIES = {
    "empty": b"",
    "malformed JSON": b'{"messages": [{"role": "user", "content": "hi"',
    "huge (10 MB)": b'{"text": "' + b"kettle " * 1_500_000 + b'"}',
    "binary": bytes(range(256)) * 64,
    "non-UTF-8": b'{"text": "caf\xe9", "input": "caf\xe9", "response_id": "r_\xff\xfe",'
                 b' "messages": [{"role": "user", "content": "caf\xe9"}]}',
    "wrong types": b'{"messages": "hi", "text": 5, "input": {"a": 1}, "response_id": 7, "rating": "5",'
                   b' "options": [], "model": 3, "max_tokens": "many", "stream": "yes"}',
    "not an object": b"[1, 2, 3]",
    "JSON null": b"null",
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
}
TABLES = ("prompts", "responses", "pairs", "comparisons", "ratings", "annotators", "api_keys", "sessions", "messages")


@pytest.fixture(scope="module")
def served(tmp_path_factory, prepare_served_home, tiny_engine, embedder):
    """An app over a home with documents, keys, and one answer with a thumbs-up already stored."""
    from botkit.server.app import create_app

    root = tmp_path_factory.mktemp("input")
    keys = prepare_served_home(root / "home", root / "docs")
    settings = load_settings(home=root / "home")
    with TestClient(create_app(settings, widget=True, engine=tiny_engine, embedder=embedder)) as http:
        http.headers["Authorization"] = f"Bearer {keys['admin']}"
        answer = http.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "Warranty?"}],
                                                          "max_tokens": 8})
        assert answer.status_code == 200, answer.text
        assert http.post("/v1/feedback", json={"response_id": answer.json()["id"], "rating": 1}).status_code == 200
        http.db = open_database(settings.database_path)
        yield http


def operations(http) -> list[tuple[str, str]]:
    """(method, path) of every operation the server documents, and the undocumented ones it serves."""
    found = [(method.upper(), path.replace("{plugin}", "subject_lines"))
             for path, item in http.app.openapi()["paths"].items() for method in item]
    return [*found, ("GET", "/metrics"), ("GET", "/widget/config")]


def counts(db) -> dict[str, int]:
    return {table: db[table].count for table in TABLES}


def test_every_documented_operation_is_covered(served):
    assert {p for _, p in operations(served)} >= {"/v1/chat/completions", "/v1/embeddings", "/v1/tasks/subject_lines",
                                                  "/v1/feedback", "/v1/models", "/v1/plugins", "/healthz"}


@pytest.mark.parametrize("kind", list(BODIES))
@pytest.mark.parametrize("content_type", ["application/json", "application/octet-stream"])
def test_bad_bodies_get_a_json_4xx_never_a_500_and_lose_nothing(served, kind, content_type):
    before = counts(served.db)
    problems = []
    for method, path in operations(served):
        response = served.request(method, path, content=BODIES[kind], headers={"Content-Type": content_type})
        try:
            message = response.json()["error"]["message"] if response.status_code >= 400 else None
        except ValueError:
            message = None
        if method == "GET" and response.status_code == 200:
            continue  # a GET reads no body: ignoring it is right
        if not 400 <= response.status_code < 500 or not message:
            problems.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
        if kind == "huge (10 MB)" and response.status_code != 413:
            problems.append(f"{method} {path}: {response.status_code} for 10 MB, not 413")
    assert not problems, "\n".join(problems)
    assert counts(served.db) == before
    assert served.db.execute("SELECT value FROM ratings").fetchall() == [(1,)]


@pytest.mark.parametrize("query", ["", "?key=%ff%fe", "?x=" + "a" * 10_000])
def test_bad_paths_and_queries_get_json_errors(served, query):
    for path in ("/v1/tasks/%ff%fe", "/v1/tasks/" + "x" * 5000, "/v1/nope", "/v1/chat/completions/extra"):
        response = served.post(path + query, json={"text": "x"})
        assert 400 <= response.status_code < 500 and response.json()["error"]["message"], (path, response.text)


@pytest.mark.parametrize("messages", [
    [{"role": "user", "content": [{"type": "text"}]}],
    [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://evil.example/x.png"}}]}],
    [{"role": "user", "content": None}],
    [{"role": "user", "content": ""}],
    [{"role": "robot", "content": "hi"}],
    [{"role": "user"}],
])
def test_odd_chat_messages_are_a_400(served, messages):
    response = served.post("/v1/chat/completions", json={"messages": messages, "max_tokens": 8})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"]
