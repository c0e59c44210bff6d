"""The `botkit` command as a user runs it (subprocesses), on the real default model."""

import json
import re

import pytest

from botkit.prompting.brand import sample_brand_dir

SAMPLE_KNOWLEDGE = sample_brand_dir() / "knowledge"


pytestmark = pytest.mark.e2e
FACT = re.compile(r"seven[- ]years?|7[- ]years?", re.I)


@pytest.fixture(scope="module")
def brand_home(tmp_path_factory, botkit_cli):
    home = tmp_path_factory.mktemp("home")
    out = botkit_cli("ingest", str(SAMPLE_KNOWLEDGE), "--json", home=home)
    report = json.loads(out.stdout)
    assert len(report["added"]) >= 22 and not report["errors"]
    return home


def test_ask_json_answers_with_the_fact_and_cites_its_document(brand_home, botkit_cli):
    asked = botkit_cli("ask", "How long is the warranty on the Zephyr 3000 kettle?", "--json", home=brand_home)
    out = json.loads(asked.stdout)
    assert FACT.search(out["answer"])
    assert out["model"] == "SmolLM2-135M-Instruct"
    assert set(out["usage"]) >= {"prompt_tokens", "completion_tokens"} and out["usage"]["prompt_tokens"] > 0
    cited = out["citations"][0]
    assert cited["source"].startswith(str(SAMPLE_KNOWLEDGE)) and FACT.search(cited["text"])
    assert {"source", "text", "chunk_id"} <= set(cited)


def test_question_outside_the_knowledge_base_gets_dont_know(brand_home, botkit_cli):
    out = json.loads(botkit_cli("ask", "Who won the Super Bowl last year?", "--json", home=brand_home).stdout)
    assert out["grounding"] == "dont-know" and out["citations"] == []
    assert "help@kettlebrook.com" in out["answer"]


def test_reingest_skips_unchanged_files(brand_home, botkit_cli):
    report = json.loads(botkit_cli("ingest", str(SAMPLE_KNOWLEDGE), "--json", home=brand_home).stdout)
    assert not report["added"] and not report["updated"] and len(report["unchanged"]) >= 22


def test_terminal_chat_streams_keeps_context_and_has_commands(brand_home, botkit_cli):
    script = "/help\nHow much does the Zephyr 3000 cost?\n/sources\n/reset\n/bogus\n"
    proc = botkit_cli("chat", home=brand_home, input=script)
    out = proc.stdout
    assert "unknown command /bogus" in proc.stderr and "Traceback" not in proc.stderr
    assert "/reset" in out and "/sources" in out  # the help text
    assert "$129" in out and "zephyr-3000.md" in out  # answer and its citation
    assert "New conversation" in out
    assert "/subject_lines or /subject" in out  # plugin commands are listed by /help


def test_models_list_json_shows_the_active_default(brand_home, botkit_cli):
    rows = json.loads(botkit_cli("models", "list", "--json", home=brand_home).stdout)
    active = [r for r in rows if r["active"] and r["kind"] == "chat"]
    assert active and active[0]["name"] == "SmolLM2-135M-Instruct"
    assert any(r["name"] == "all-MiniLM-L6-v2" for r in rows)


def test_models_use_switches_and_validates(tmp_path, tiny_model_dir, botkit_cli):
    out = botkit_cli("models", "use", str(tiny_model_dir), home=tmp_path)
    assert "Now using" in out.stdout
    rows = json.loads(botkit_cli("models", "list", "--json", home=tmp_path).stdout)
    assert any(r["active"] and r["location"] == str(tiny_model_dir) for r in rows)
    bad = botkit_cli("models", "use", "./no/such/model", home=tmp_path, check=False)
    assert bad.returncode == 1 and "unknown model" in bad.stderr and "Traceback" not in bad.stderr
    back = json.loads(botkit_cli("models", "use", "default", "--json", home=tmp_path).stdout)
    assert back["model"] == "default" and back["adapter"] is None and "Now using default" in back["message"]


@pytest.mark.parametrize("args, message", [
    (("ingest", "/no/such/folder"), "no such file or folder"),
    (("ask", "   "), "message is empty"),
    (("ask", "warranty?", "--temperature", "-1"), "bad decoding option temperature"),
])
def test_user_mistakes_are_one_line_errors(tmp_path, args, message, botkit_cli):
    proc = botkit_cli(*args, home=tmp_path, check=False)
    assert proc.returncode == 1 and message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_bad_config_is_a_one_line_error(tmp_path, botkit_cli):
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "config.yaml").write_text("modle: default\n")
    proc = botkit_cli("ask", "hi", home=tmp_path, check=False)
    assert proc.returncode == 1 and "unknown setting 'modle'" in proc.stderr and "Traceback" not in proc.stderr


def test_empty_knowledge_base_answer(tmp_path, botkit_cli):
    out = json.loads(botkit_cli("ask", "What is the warranty?", "--json", home=tmp_path).stdout)
    assert out["grounding"] == "empty-knowledge-base" and "botkit ingest" in out["answer"]


def test_help_explains_every_command(tmp_path, botkit_cli):
    out = botkit_cli("--help", home=tmp_path).stdout
    for command in ("ask", "chat", "ingest", "models", "app", "eval"):
        assert command in out
