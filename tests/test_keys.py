"""API keys: shown once, stored hashed, scoped, revocable; the `botkit keys` commands."""

from __future__ import annotations

import hashlib
import json

import pytest
from typer.testing import CliRunner

from botkit.cli import app
from botkit.database import open_database
from botkit.errors import BotkitError
from botkit.server.keys import KeyStore


@pytest.fixture
def keys(settings):
    return KeyStore(open_database(settings.database_path))


def test_a_key_is_stored_only_as_its_hash_and_verifies_with_its_scopes(keys):
    key = keys.create("support-desk", "feedback,chat")
    stored = keys.db.execute("SELECT sha256, prefix, scopes FROM api_keys").fetchone()
    assert stored[0] == hashlib.sha256(key.encode()).hexdigest() and key not in json.dumps(stored)
    assert key.startswith(stored[1])
    found = keys.verify(key)
    assert found.name == "support-desk" and found.scopes == ["chat", "feedback"]
    assert found.allows("chat") and not found.allows("tasks")
    assert keys.verify(key + "x") is None and keys.verify("") is None
    assert keys.list()[0]["last_used_at"]


def test_admin_allows_everything_and_bad_scopes_or_names_are_errors(keys):
    assert keys.verify(keys.create("ops", "admin")).allows("tasks")
    with pytest.raises(BotkitError, match="unknown scope 'write'"):
        keys.create("x", "chat,write")
    with pytest.raises(BotkitError, match="needs a name"):
        keys.create(" ", "chat")
    with pytest.raises(BotkitError, match="a live key named 'ops' exists"):
        keys.create("ops", "chat")


def test_revoked_keys_stop_verifying_and_the_name_can_be_reissued(keys):
    old = keys.create("widget", "chat")
    keys.revoke("widget")
    assert keys.verify(old) is None and not keys.any_live()
    new = keys.create("widget", "chat,feedback")
    assert keys.verify(new).scopes == ["chat", "feedback"]
    assert [k["name"] for k in keys.list(include_revoked=True)] == ["widget", "widget"]
    with pytest.raises(BotkitError, match="no live key named 'nobody'"):
        keys.revoke("nobody")


def test_keys_commands(home):
    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "--name", "desk", "--scope", "chat,feedback", "--json"])
    assert created.exit_code == 0, created.output
    key = json.loads(created.stdout)["key"]
    listed = json.loads(runner.invoke(app, ["keys", "list", "--json"]).stdout)
    assert [(k["name"], k["scopes"]) for k in listed] == [("desk", ["chat", "feedback"])]
    assert key not in runner.invoke(app, ["keys", "list"]).stdout
    assert runner.invoke(app, ["keys", "revoke", "desk"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["keys", "list", "--json"]).stdout) == []


def test_serve_refuses_to_start_without_a_key(home):
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code != 0
    assert "no API keys yet" in str(result.exception)


def test_a_widget_key_is_public_chat_only_and_bound_to_its_origins(keys):
    key = keys.create("site", "widget", origins=["https://Shop.example/", "http://localhost:8080"])
    found = keys.verify(key)
    assert found.origins == ["https://shop.example", "http://localhost:8080"]
    assert found.allows("chat") and not found.allows("feedback") and not found.allows("widget")
    assert keys.widget_keys() == [{"name": "site", "key": key, "origins": found.origins}]
    assert [k.get("key") for k in keys.list()] == [key]  # public: listed in full
    secret = keys.create("desk", "chat,feedback", requests_per_minute=30, tokens_per_minute=5000)
    assert "key" not in keys.list()[1] and secret not in json.dumps(keys.list())
    assert (keys.verify(secret).requests_per_minute, keys.verify(secret).tokens_per_minute) == (30, 5000)
    with pytest.raises(BotkitError, match="needs the origins"):
        keys.create("bare", "widget")
    with pytest.raises(BotkitError, match="widget scope alone"):
        keys.create("mixed", "widget,feedback", origins=["https://shop.example"])
    with pytest.raises(BotkitError, match="--origin is for widget keys"):
        keys.create("leaky", "chat", origins=["https://shop.example"])
    with pytest.raises(BotkitError, match="not a web origin"):
        keys.create("pathy", "widget", origins=["https://shop.example/help"])
    with pytest.raises(BotkitError, match="--rpm must be at least 1"):
        keys.create("zero", "chat", requests_per_minute=0)


def test_keys_create_takes_origins_and_limits(home):
    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "--name", "site", "--scope", "widget", "--origin",
                                  "https://shop.example", "--rpm", "100", "--json"])
    assert created.exit_code == 0, created.output
    key = json.loads(created.stdout)["key"]
    [listed] = json.loads(runner.invoke(app, ["keys", "list", "--json"]).stdout)
    assert (listed["origins"], listed["requests_per_minute"], listed["key"]) == (["https://shop.example"], 100, key)
    assert "origins https://shop.example; 100 requests/min" in runner.invoke(app, ["keys", "list"]).stdout
    refused = runner.invoke(app, ["keys", "create", "--name", "x", "--scope", "widget"])
    assert refused.exit_code != 0 and "needs the origins" in str(refused.exception)
