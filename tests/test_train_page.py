"""The Train page, run headless with Streamlit's AppTest: a finished tiny run's progress, loss curve
and metrics; promote blocked by the gate, forced, rolled back; a run started from the page trains in
its own process and appears as a version."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from botkit.config import load_settings
from botkit.feedback.registry import ModelRegistry
from botkit.feedback.training.config import load_config
from botkit.feedback.training.dpo import DPORunConfig, train_dpo

MAIN = Path(__file__).parents[1] / "apps" / "main.py"
pytestmark = pytest.mark.slow  # every test here trains (a few DPO steps, or a reward model in a subprocess)


@pytest.fixture
def finished(settings, tiny_model_dir, polite_vs_shouting):
    """A tiny DPO version trained for 3 steps, logged every step."""
    config = load_config(DPORunConfig, model=str(tiny_model_dir), max_steps=3, learning_rate=1e-2,
                         max_length=96, max_prompt_length=48)
    return train_dpo(config, polite_vs_shouting(12), "tiny-dpo", source="test")


def page() -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.session_state["annotator"] = "ana"
    at.switch_page("train.py").run()
    assert not at.exception, at.exception
    return at


def texts(elements) -> str:
    return " | ".join(e.value for e in elements)


def test_a_finished_run_shows_progress_loss_curve_metrics_and_its_version(finished):
    at = page()
    assert [s.value for s in at.selectbox if s.label == "Run"] == ["tiny-dpo"]
    (bar,) = at.get("progress")
    assert bar.value == 100 and "step 3 of 3" in bar.proto.text
    assert len(at.get("vega_lite_chart")) == 1  # the loss curve
    metrics = at.dataframe[0].value
    assert "heldout_reward_accuracy" in metrics["metric"].tolist()
    versions = at.dataframe[1].value
    assert versions["name"].tolist() == ["tiny-dpo"] and versions["kind"].tolist() == ["policy"]
    assert "0 human judgement" in texts(at.caption)


def test_promote_is_blocked_by_the_gate_then_forced_then_rolled_back(finished):
    at = page()
    promote = next(b for b in at.button if b.label == "Promote")
    promote.click().run()
    assert "promotion blocked" in texts(at.error) and load_settings().model == "default"

    next(c for c in at.checkbox if c.label == "Override the gate").check().run()
    next(b for b in at.button if b.label == "Promote").click().run()
    assert "tiny-dpo is now the active model" in texts(at.success) and load_settings().model == "tiny-dpo"
    assert "Active chat model: **tiny-dpo**" in texts(at.caption)

    next(b for b in at.button if b.label == "Roll back").click().run()
    assert "rolled back tiny-dpo" in texts(at.success) and load_settings().model == "default"


def test_a_run_started_on_the_page_trains_in_its_own_process(settings, polite_vs_shouting):
    at = page()
    at.text_input[0].input("bad/name")
    at.button[0].click().run()  # the form's submit button
    assert "not a usable version name" in texts(at.error)

    at = page()
    at.selectbox[0].select("rm")
    at.radio[0].set_value("An uploaded TRL file (JSONL)")
    pairs = "".join(json.dumps(r) + "\n" for r in polite_vs_shouting(16))
    at.file_uploader[0].set_value(("pairs.jsonl", pairs.encode(), "application/jsonl"))
    at.text_input[0].input("page-rm")
    at.number_input[0].set_value(2)
    at.button[0].click().run()
    assert not at.exception and "Started rm run page-rm" in texts(at.success), texts(at.error)

    registry = ModelRegistry.open(settings)
    deadline = time.monotonic() + 240
    while registry.get("page-rm") is None and time.monotonic() < deadline:
        run = registry.run("page-rm")
        assert run is None or run["status"] in ("running", "finished"), run
        time.sleep(2)
    version = registry.version("page-rm")
    assert version["kind"] == "reward" and version["metrics"]["steps"] == 2
    assert version["data"]["source"].endswith("page-rm-pairs.jsonl")
    at = page()
    assert "page-rm" in at.dataframe[-1].value["name"].tolist()
