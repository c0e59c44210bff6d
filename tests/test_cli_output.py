"""What every command prints with (botkit.cli.output): a user's mistake is one `error:` line and
status 1, --option pairs and pydantic errors become values or one readable line, JSON is clean."""

from __future__ import annotations

import json
import sys
from datetime import date

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from botkit.cli.output import parse_option_pairs, print_json, print_table
from botkit.errors import BotkitError, validation_message


def run_main(monkeypatch, capsys, *args):
    from botkit.cli import main

    monkeypatch.setattr(sys, "argv", ["botkit", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    out = capsys.readouterr()
    return exit_.value.code, out.out, out.err


@pytest.mark.parametrize("args, message", [
    (("run", "subject_lines", "Spring sale", "-o", "n"), "error: --option expects key=value, got 'n'"),
    (("eval", "task", "no_such_plugin", "briefs.jsonl"), "error: unknown plugin 'no_such_plugin' (plugins: "),
    (("feedback", "generate", "--versions", "default"), "error: give a PROMPTS.jsonl file or --from-chat (not both)"),
])
def test_a_mistake_is_one_error_line_and_status_1(home, monkeypatch, capsys, args, message):
    code, out, err = run_main(monkeypatch, capsys, *args)
    assert code == 1 and out == ""
    assert err.startswith(message) and len(err.strip().splitlines()) == 1


def test_option_pairs_become_a_dict_of_strings():
    assert parse_option_pairs(["n=3", " audience = tea lovers ", "x=a=b", "empty="]) == {
        "n": "3", "audience": "tea lovers", "x": "a=b", "empty": ""}
    assert parse_option_pairs(None) == {}
    for bad in ("n", "=3", " =3"):
        with pytest.raises(BotkitError, match="--option expects key=value"):
            parse_option_pairs([bad])


class Decoding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    temperature: float = 1.0


def test_a_pydantic_error_becomes_one_line_naming_the_field():
    with pytest.raises(ValidationError) as bad_value:
        Decoding(temperature="hot")
    line = validation_message(bad_value.value, "decoding option")
    assert line.startswith("bad decoding option temperature: ") and "\n" not in line
    with pytest.raises(ValidationError) as unknown:
        Decoding(temprature=0.5)
    assert validation_message(unknown.value, "option", Decoding.model_fields) == \
        "unknown option 'temprature' (options: temperature)"


def test_json_output_keeps_non_ascii_and_dates(capsys):
    print_json({"answer": "Crème brûlée — 7 years", "on": date(2026, 1, 31)})
    out = capsys.readouterr().out
    assert "Crème brûlée" in out and json.loads(out) == {"answer": "Crème brûlée — 7 years", "on": "2026-01-31"}


def test_a_table_without_rows_says_so_instead(capsys):
    print_table(("model", "wins"), [], empty="No comparisons yet.")
    assert capsys.readouterr().out.strip() == "No comparisons yet."
    print_table(("model", "tags"), [("brand-v1", ["dpo", "lora"])])
    out = capsys.readouterr().out
    assert "brand-v1" in out and "dpo, lora" in out


def test_revoking_a_key_reports_json(home):
    from typer.testing import CliRunner

    from botkit.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["keys", "create", "--name", "desk", "--json"]).exit_code == 0
    revoked = runner.invoke(app, ["keys", "revoke", "desk", "--json"])
    assert revoked.exit_code == 0 and json.loads(revoked.stdout) == {"revoked": "desk"}
    assert json.loads(runner.invoke(app, ["keys", "list", "--json"]).stdout) == []
