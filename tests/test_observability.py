"""Observability of `botkit serve`: an access-log line per request with its request id (X-Request-ID in
and out), key name, model, tokens and latency, never a key; /metrics in Prometheus text format for
those `server.metrics` lets in; the log level from settings or `botkit serve --log-level`."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from botkit.config import load_settings

QUESTION = "How long is the warranty on the Zephyr 3000?"


@pytest.fixture(scope="module")
def served(tmp_path_factory, prepare_served_home):
    root = tmp_path_factory.mktemp("observed")
    keys = prepare_served_home(root / "home", root / "docs")
    return root / "home", keys


@pytest.fixture
def serve(served, tiny_engine, embedder):
    """`serve(**server_settings)` -> a TestClient over a fresh app; `.keys` maps names to keys."""
    home, keys = served
    clients = []

    def start(**server):
        from botkit.server.app import create_app

        settings = load_settings(home=home)
        settings = settings.model_copy(update={"server": settings.server.model_copy(update=server)})
        clients.append(TestClient(create_app(settings, engine=tiny_engine, embedder=embedder)).__enter__())
        clients[-1].keys = keys
        return clients[-1]

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def ask(http, key="support-desk", **headers):
    return http.post("/v1/chat/completions", headers={"Authorization": f"Bearer {http.keys[key]}", **headers},
                     json={"model": "botkit", "messages": [{"role": "user", "content": QUESTION}], "max_tokens": 8})


def test_each_request_logs_one_line_with_its_id_key_name_model_tokens_and_latency(serve, caplog):
    http = serve()
    with caplog.at_level(logging.INFO, logger="botkit.access"):
        answered = ask(http, **{"X-Request-ID": "desk-42"})
        fresh = http.get("/v1/models", headers={"Authorization": f"Bearer {http.keys['admin']}"})
        refused = http.get("/v1/models", headers={"Authorization": "Bearer bk_not-a-real-key-but-shaped-like-one"})
    assert answered.status_code == 200 and answered.headers["X-Request-ID"] == "desk-42"
    assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["X-Request-ID"])  # none given: a new one
    assert refused.status_code == 401
    lines = [r.getMessage() for r in caplog.records if r.name == "botkit.access"]
    assert len(lines) == 3
    usage = answered.json()["usage"]
    assert re.search(rf"request_id=desk-42 method=POST path=/v1/chat/completions status=200 key=support-desk "
                     rf"model=\S+ prompt_tokens={usage['prompt_tokens']} completion_tokens="
                     rf"{usage['completion_tokens']} seconds=\d+\.\d+", lines[0]), lines[0]
    assert f"request_id={fresh.headers['X-Request-ID']}" in lines[1] and "key=admin" in lines[1]
    assert "status=401 key=-" in lines[2]
    for key in (*http.keys.values(), "bk_not-a-real-key"):
        assert key not in caplog.text  # key names only, never keys


def test_a_forged_request_id_or_path_cannot_inject_log_lines(serve, caplog):
    http = serve()
    with caplog.at_level(logging.INFO, logger="botkit.access"):
        response = http.get("/v1/models%0afake=line", headers={"X-Request-ID": "x key=admin"})
    assert response.status_code == 404 and response.headers["X-Request-ID"] != "x key=admin"
    [line] = [r.getMessage() for r in caplog.records if r.name == "botkit.access"]
    assert "\n" not in line and "path=/v1/models\\nfake=line" in line


def test_metrics_count_requests_latency_tokens_and_the_queue_for_admins(serve):
    http = serve()
    ask(http)
    ask(http, key="feedback-only")  # 403: counted too
    scrape = http.get("/metrics", headers={"Authorization": f"Bearer {http.keys['admin']}"})
    assert scrape.status_code == 200 and scrape.headers["content-type"].startswith("text/plain")
    text = scrape.text
    assert 'botkit_requests_total{method="POST",route="/v1/chat/completions",status="200"} 1.0' in text
    assert 'botkit_requests_total{method="POST",route="/v1/chat/completions",status="403"} 1.0' in text
    assert 'botkit_request_seconds_count{route="/v1/chat/completions"} 2.0' in text
    completion = re.search(r'botkit_tokens_total\{kind="completion",model="[^"]+"\} (\d+\.\d+)', text)
    assert completion and float(completion.group(1)) >= 1
    assert re.search(r"^botkit_queue_depth 0\.0$", text, re.M)
    assert http.get("/metrics", headers={"Authorization": f"Bearer {http.keys['support-desk']}"}).status_code == 403
    assert http.get("/metrics").status_code == 401


def test_who_reads_metrics_is_a_setting(serve):
    assert serve(metrics="public").get("/metrics").status_code == 200
    hidden = serve(metrics="off").get("/metrics", headers={"Authorization": f"Bearer {serve().keys['admin']}"})
    assert hidden.status_code == 404


def test_anything_shaped_like_a_key_is_redacted_in_every_log_line():
    from botkit.server.observability import RedactKeys

    record = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, "bad header %s", ("Bearer bk_" + "A" * 43,),
                               None)
    assert RedactKeys().filter(record) and record.getMessage() == "bad header Bearer bk_[redacted]"


def test_a_wrong_log_level_is_one_error_line(home):
    from botkit.cli import app

    result = CliRunner().invoke(app, ["serve", "--log-level", "loud"])
    assert result.exit_code != 0 and "--log-level is one of debug, info, warning, error" in str(result.exception)


def test_botkit_serve_writes_the_access_log_at_its_log_level(tmp_path, prepare_served_home, botkit_server):
    keys = prepare_served_home(tmp_path / "home", tmp_path / "docs")
    quiet = botkit_server(tmp_path / "home", tmp_path / "quiet.log", "--log-level", "warning")
    httpx.get(quiet.url + "/v1/models", headers={"Authorization": f"Bearer {keys['admin']}"}, timeout=60)
    quiet.stop()
    assert "botkit.access" not in quiet.log.read_text()
    loud = botkit_server(tmp_path / "home", tmp_path / "serve.log", env={"BOTKIT_SERVER__LOG_LEVEL": "info"})
    response = httpx.post(loud.url + "/v1/chat/completions", headers={"Authorization": f"Bearer {keys['support-desk']}",
                          "X-Request-ID": "soak-1"}, timeout=120,
                          json={"messages": [{"role": "user", "content": QUESTION}], "max_tokens": 8})
    loud.stop()
    log = loud.log.read_text()
    assert response.status_code == 200
    assert re.search(r"INFO botkit\.access: request_id=soak-1 method=POST path=/v1/chat/completions status=200 "
                     r"key=support-desk model=\S+ prompt_tokens=[1-9]\d*", log), log[-2000:]
    assert not any(key in log for key in keys.values()) and "Traceback" not in log
