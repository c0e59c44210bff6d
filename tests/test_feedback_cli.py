"""`botkit feedback ...` as a user runs it: typer's CliRunner in-process (fast), one real subprocess
for the one-line error, and candidate generation on the tiny random model."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from botkit.cli import app
from botkit.config import load_settings
from botkit.feedback.store import RankingStore
from botkit.prompting.brand import sample_brand_dir
from botkit.sessions import SessionStore

SAMPLE = sample_brand_dir() / "feedback" / "sample_pairs.jsonl"
runner = CliRunner()


def run(*args):
    result = runner.invoke(app, ["feedback", *map(str, args)])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result


def test_import_stats_export_as_a_user_runs_them(home, tmp_path):
    imported = json.loads(run("import", SAMPLE, "--json").stdout)
    assert imported["pairs"] == 75 and imported["annotators"] == ["maya", "priya", "theo"]

    stats = json.loads(run("stats", "--json").stdout)
    assert stats["counts"]["pairs"] == 60 and stats["counts"]["comparisons"] == 75
    assert stats["counts"]["annotators"] == 3
    agreement = stats["agreement"]
    assert (agreement["pairs_with_2plus"], agreement["agreeing"], agreement["share"]) == (15, 12, 0.8)
    assert 0 < agreement["krippendorff_alpha"] < 1 and len(agreement["cohen_kappa"]) == 3
    table = run("stats").stdout
    assert "No comparisons between two different model versions" in table
    assert "maya" in table and "12 of 15" in table and "kappa" in table

    out = tmp_path / "prefs.jsonl"
    report = json.loads(run("export", out, "--format", "trl", "--test-fraction", "0.2", "--seed", "3", "--json").stdout)
    assert report["train"] + report["test"] == 57 and report["test"] > 0
    assert (tmp_path / "prefs.test.jsonl").exists()
    text = run("export", out, "--plugin", "subject_lines", "--min-agreement", "1").stdout
    assert text.startswith("4 rows in")


def test_import_of_a_bad_file_names_the_lines(home, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "Q?", "chosen": "yes", "rejected": "no"}\n{oops\n')
    result = runner.invoke(app, ["feedback", "import", str(bad)])
    assert "line 2" in str(result.exception) and "nothing imported" in str(result.exception)
    kept = json.loads(run("import", bad, "--keep-good", "--annotator", "ops", "--json").stdout)
    assert kept["pairs"] == 1 and kept["bad_lines"] == [2]


def test_mistakes_are_one_line_errors_in_a_real_shell(tmp_path):
    env = {**os.environ, "BOTKIT_HOME": str(tmp_path / "home")}
    env.pop("BOTKIT_CONFIG", None)
    proc = subprocess.run([sys.executable, "-m", "botkit", "feedback", "export", str(tmp_path / "o.jsonl"),
                           "--ties", "include"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1 and "need a winner" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def second_tiny_dir(tiny_model_dir, tmp_path_factory):
    """Another 'model version': the tiny model with its weights nudged, saved under another name."""
    import torch
    from transformers import AutoModelForCausalLM

    path = tmp_path_factory.mktemp("versions") / "tiny-v2"
    shutil.copytree(tiny_model_dir, path)
    model = AutoModelForCausalLM.from_pretrained(path)
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    model.save_pretrained(path)
    return path


def test_generate_pairs_two_versions_from_a_prompt_file(home, tmp_path, tiny_model_dir, second_tiny_dir):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("\n".join(json.dumps(r) for r in [
        {"prompt": "How much is the Zephyr 3000?"},  # empty knowledge base: both say so, identical
        {"prompt": "The Zephyr 3000 kettle", "plugin": "ad_copy", "options": {"n": 1}},
    ]) + "\n")
    report = json.loads(run("generate", prompts, "--versions", f"{tiny_model_dir},{second_tiny_dir}", "--json").stdout)
    assert report["prompts"] == 2 and report["responses"] == 4
    # The random models' copy fails the copy checks, so both versions show the brief's own line: the same
    # ad twice is not worth a person's time, and not queued.
    assert report["pairs"] == 0 and report["identical"] + report["skipped"]["failed checks"] == 2
    assert report["versions"] == sorted([tiny_model_dir.name, "tiny-v2"])
    store = RankingStore.open(load_settings())
    store.add_annotator("maya")
    ids = [r["id"] for r in store.db.query("SELECT r.id FROM responses r JOIN prompts p ON p.id = r.prompt_id"
                                           " WHERE p.plugin = 'ad_copy'")]
    rows = [store.response(i) for i in ids]  # each version's response is logged with how it was made
    assert sorted(r["model_version"] for r in rows) == report["versions"]
    assert all(r["origin"] == "generate" and r["decoding"]["strategy"] == "greedy" for r in rows)
    assert all(r["examples"] for r in rows)  # the task's few-shot examples
    table = run("stats").stdout
    assert "responses: 4" in table and "pairs: 0" in table  # logged, and nothing queued for people


def test_generate_from_chat_needs_two_candidates_and_logged_turns(home, tiny_model_dir):
    result = runner.invoke(app, ["feedback", "generate", "--from-chat", "--versions", str(tiny_model_dir)])
    assert "no chat turns" in str(result.exception)
    store = RankingStore.open(load_settings())
    sessions = SessionStore(store.db)
    sid = sessions.create()
    for text in ("Do you ship to Canada?", "/help", "Do you ship to Canada?", "How much is the Zephyr Mini?"):
        sessions.append(sid, "user", text)
    result = runner.invoke(app, ["feedback", "generate", "--from-chat", "--versions", str(tiny_model_dir)])
    assert "two versions" in str(result.exception)
    report = json.loads(run("generate", "--from-chat", "--versions", tiny_model_dir, "--decodings", "greedy,sample",
                            "--seed", "1", "--json").stdout)
    assert report["prompts"] == 2 and report["identical"] == 2  # empty knowledge base: the same canned reply


def test_generate_refuses_an_unknown_plugin_before_loading_models(home, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "Spring sale", "plugin": "adcopy_typo"}\n')
    result = runner.invoke(app, ["feedback", "generate", str(prompts), "--versions", "no-such-model-dir,default"])
    assert "unknown plugin 'adcopy_typo'" in str(result.exception)


def test_fewshot_promote_adds_agreed_winners_once(home):
    store = RankingStore.open(load_settings())
    a = store.log_response("Do you ship to Canada?", "Yes, in 5 to 8 working days.", model="v1")
    b = store.log_response("Do you ship to Canada?", "We ship.", model="v2")
    pair = store.add_pair(a, b)
    for name in ("ana", "ben"):
        store.add_annotator(name)
        store.record_comparison(pair, name, "a" if a < b else "b")
    listed = json.loads(run("fewshot", "promote", "--dry-run", "--json").stdout)
    assert listed["added"] == 0 and [e["output"] for e in listed["examples"]] == ["Yes, in 5 to 8 working days."]
    assert json.loads(run("fewshot", "promote", "--min-annotators", "3", "--json").stdout)["added"] == 0
    assert json.loads(run("fewshot", "promote", "--json").stdout)["added"] == 1
    assert json.loads(run("fewshot", "promote", "--json").stdout)["added"] == 0  # already an example


def test_stats_shows_a_registered_versions_win_rate_against_the_active_model(home, tiny_model_dir):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from botkit.feedback.registry import ModelRegistry, active_label, version_label

    settings = load_settings()
    store = RankingStore.open(settings)
    adapter = home / "models" / "brand-dpo-1"
    get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                   LoraConfig(r=2, target_modules=["q_proj", "v_proj"])).save_pretrained(adapter)
    ModelRegistry(store.db, settings).register("brand-dpo-1", kind="policy", method="dpo", base=str(tiny_model_dir),
                                               adapter_path=adapter, parent=None, data={}, config={}, metrics={})
    # Answers carry the labels chat and `feedback generate` give them: the version's and the active model's.
    new, old = version_label("brand-dpo-1"), active_label(settings)
    store.add_annotator("maya")
    for n, verdict in enumerate(["new", "new", "new", "old", "tie"]):
        a = store.log_response(f"Question {n}?", f"The new version's answer {n}.", model=new)
        b = store.log_response(f"Question {n}?", f"The active model's answer {n}.", model=old)
        pair = store.add_pair(a, b)
        first = store.pair(pair)["a_id"]
        picked = {"new": a, "old": b}.get(verdict)
        store.record_comparison(pair, "maya", "tie" if picked is None else "a" if picked == first else "b")

    rows = {r["model"]: r for r in json.loads(run("stats", "--json").stdout)["win_rates"]}
    assert set(rows) == {new, old}
    assert (rows[new]["wins"], rows[new]["losses"], rows[new]["ties"], rows[new]["win_rate"]) == (3, 1, 1, 0.75)
    assert (rows[old]["wins"], rows[old]["losses"], rows[old]["win_rate"]) == (1, 3, 0.25)

    table = run("stats").stdout
    assert "Model versions" in table and "No comparisons between two different" not in table
    lines = [line for line in table.splitlines() if "brand-dpo-1" in line]
    assert len(lines) == 1 and "75%" in lines[0]  # the version's own row, its win rate beside its name
