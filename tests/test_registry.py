"""The model registry: versions resolvable wherever a model spec is accepted, promotion gated by
human judgements from the ranking store, rollback through the promotion history, base mismatches."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from botkit.config import load_settings
from botkit.errors import BotkitError
from botkit.feedback.registry import ModelRegistry, version_label
from botkit.feedback.store import RankingStore
from botkit.models.catalog import list_models
from botkit.models.loading import load_engine


def make_adapter(base_dir, target, *, base_name=None):
    """A real LoRA adapter for the tiny model, saved like a training run saves one."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base_dir), LoraConfig(r=2, task_type="CAUSAL_LM"))
    model.save_pretrained(target)
    config = json.loads((target / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = base_name or str(base_dir)
    (target / "adapter_config.json").write_text(json.dumps(config))
    return target


def register(registry, name, base, adapter, kind="policy"):
    return registry.register(name, kind=kind, method="dpo", base=str(base), adapter_path=adapter, parent=None,
                             data={"sha256": "0" * 64, "train": 8, "heldout": 2, "source": "test"},
                             config={"beta": 0.1}, metrics={"heldout_reward_accuracy": 0.75})


@pytest.fixture
def registry(settings, tiny_model_dir):
    registry = ModelRegistry.open(settings)
    for name in ("brand-v1", "brand-v2"):
        register(registry, name, tiny_model_dir, make_adapter(tiny_model_dir, settings.home / "models" / name))
    return registry


def judge(store, winner: str, loser: str, n: int, prompt="Write about the kettle") -> None:
    store.add_annotator("ana")
    for i in range(n):
        a = store.log_response(f"{prompt} {i}", f"{winner} answer {i}", model=winner)
        b = store.log_response(f"{prompt} {i}", f"{loser} answer {i}", model=loser)
        pair = store.add_pair(a, b)
        store.record_comparison(pair, "ana", "a" if store.pair(pair)["a_id"] == a else "b")


def test_a_version_name_loads_its_base_and_adapter(registry, tiny_model_dir):
    engine = load_engine("brand-v1")
    assert engine.name == version_label("brand-v1") == f"{tiny_model_dir.name}+brand-v1"
    assert type(engine.model).__name__.startswith("Peft")
    rows = {r["name"]: r for r in list_models()}
    assert rows["brand-v2"]["kind"] == "policy" and rows["brand-v2"]["metrics"]["heldout_reward_accuracy"] == 0.75


def test_promote_and_rollback_walk_the_history(registry):
    with pytest.raises(BotkitError, match="0 human judgement"):
        registry.promote("brand-v1")
    first = registry.promote("brand-v1", force=True)
    assert first["forced"] and load_settings().model == "brand-v1"
    registry.promote("brand-v2", force=True)
    assert load_settings().model == "brand-v2"
    assert registry.rollback()["active"] == "brand-v1" and load_settings().model == "brand-v1"
    assert registry.rollback()["active"] == "default" and load_settings().model == "default"
    with pytest.raises(BotkitError, match="nothing to roll back"):
        registry.rollback()
    assert [p["version"] for p in registry.promotions()] == ["brand-v2", "brand-v1"]


def test_gate_reads_human_judgements_against_the_active_model(registry, settings):
    store = RankingStore(registry.db)
    candidate = version_label("brand-v1")
    judge(store, candidate, "SmolLM2-135M-Instruct", 3)
    judge(store, "SmolLM2-135M-Instruct", candidate, 1, prompt="Describe the toaster")
    gate = registry.gate("brand-v1", min_win_rate=0.6, min_judgements=4)
    assert gate["passed"] and gate["judgements"] == 4 and gate["win_rate"] == 0.75
    with pytest.raises(BotkitError, match="won 75% of 4 judgements.*needs 80%"):
        registry.promote("brand-v1", min_win_rate=0.8, min_judgements=4)
    assert not registry.promote("brand-v1", min_win_rate=0.6, min_judgements=4)["forced"]


def test_reward_versions_and_mismatched_bases_are_refused(registry, settings, tiny_model_dir, tmp_path):
    register(registry, "brand-rm", tiny_model_dir, make_adapter(tiny_model_dir, settings.home / "models" / "brand-rm"),
             kind="reward")
    # A reward version is promoted to rank best-of-N, not to answer chat; without held-out pairs it has
    # nothing to show it beats brand similarity on, so brand similarity keeps ranking.
    promoted = registry.promote("brand-rm", force=True)
    assert promoted["kind"] == "reward" and not promoted["ranks_best_of_n"]
    assert load_settings().reward_model == "brand-rm" and load_settings().model != "brand-rm"
    with pytest.raises(BotkitError, match="reward model, not a chat model"):
        load_engine("brand-rm")
    other = tmp_path / "other-base"
    other.mkdir()
    (other / "config.json").write_text("{}")
    register(registry, "brand-odd", other, make_adapter(tiny_model_dir, settings.home / "models" / "brand-odd"))
    with pytest.raises(BotkitError, match="was trained on .*, not on .*other-base"):
        load_engine("brand-odd")


def test_cli_promote_force_warns_and_rollback_reports(registry):
    from botkit.cli import app

    runner = CliRunner()
    blocked = runner.invoke(app, ["models", "promote", "brand-v2"])
    assert blocked.exit_code != 0 and "promotion blocked" in str(blocked.exception)
    forced = runner.invoke(app, ["models", "promote", "brand-v2", "--force"])
    assert forced.exit_code == 0 and "warning: promoted despite the gate" in forced.output
    back = runner.invoke(app, ["models", "rollback", "--json"])
    assert json.loads(back.stdout)["rolled_back"] == "brand-v2"
