"""`botkit init` as a user runs it: a brand profile in BOTKIT_HOME from flags or from answers typed at
its questions, never over an existing one without --force, and the bot then answers as that brand."""

from __future__ import annotations

import json

import yaml

from botkit.testing import FakeEngine


def test_flags_write_a_profile_the_bot_answers_with(home, botkit_cli, settings, embedder, tmp_path):
    botkit_cli("init", "--name", "Wheelhouse", "--contact", "hello@wheelhouse.test", "--yes", home=home)
    profile = yaml.safe_load((home / "brand.yaml").read_text())
    assert profile["name"] == "Wheelhouse" and "hello@wheelhouse.test" in profile["dont_know"]

    from botkit.dialogue import Bot

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "prices.md").write_text("# Prices\n\nA city bike costs £22 a day.\n")
    Bot(settings, engine=FakeEngine(), embedder=embedder).knowledge.ingest(docs)
    bot = Bot(settings, engine=FakeEngine(), embedder=embedder)
    assert "Wheelhouse" in bot.brand.system_prompt()
    assert "hello@wheelhouse.test" in bot.respond("Who won the Super Bowl last year?").text


def test_an_existing_profile_is_kept_unless_forced(home, botkit_cli):
    botkit_cli("init", "--name", "First", "--yes", home=home)
    again = botkit_cli("init", "--name", "Second", "--yes", home=home, check=False)
    assert again.returncode == 1 and again.stderr.strip().startswith("error:") and "--force" in again.stderr
    assert "Traceback" not in again.stderr and yaml.safe_load((home / "brand.yaml").read_text())["name"] == "First"
    botkit_cli("init", "--name", "Second", "--yes", "--force", home=home)
    assert yaml.safe_load((home / "brand.yaml").read_text())["name"] == "Second"


def test_questions_asked_when_no_flags(home, botkit_cli):
    # Name, voice (default kept), contact, don't-know line (the suggested one, built from the contact).
    out = botkit_cli("init", "--json", home=home, input="Acme Tools\n\nhelp@acme.test\n\n")
    profile = json.loads(out.stdout)["profile"]  # the questions went to stderr: stdout is the JSON alone
    assert profile["name"] == "Acme Tools" and profile["voice"] == ["friendly", "clear", "concise"]
    assert profile["contact"] == "help@acme.test" and "help@acme.test" in profile["dont_know"]
    assert "Brand name" in out.stderr


def test_yes_without_a_name_is_one_error_line(home, botkit_cli):
    out = botkit_cli("init", "--yes", home=home, check=False)
    assert out.returncode == 1 and out.stderr.strip() == "error: --yes needs --name"
    assert not (home / "brand.yaml").exists()
