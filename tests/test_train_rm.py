"""`botkit train rm` on the packaged MiniLM learns a separable preference (polite copy over SHOUTING
copy) to high held-out accuracy; the registered version scores new answers the same way, through
`score_pairs` (what `botkit eval rm` reports) and the command line."""

from __future__ import annotations

import json
import subprocess
import sys

from botkit.feedback.training.config import load_config
from botkit.feedback.training.reward import RewardRunConfig, RewardScorer, score_pairs, train_reward_model


def test_reward_model_learns_polite_over_shouting(settings, tmp_path, weight_watch, polite_vs_shouting, write_jsonl):
    config = load_config(RewardRunConfig, max_length=64, max_prompt_length=32, num_train_epochs=2,
                         per_device_train_batch_size=8, learning_rate=2e-3, test_fraction=0.3)
    version = train_reward_model(config, polite_vs_shouting(40), "brand-rm", source="pairs.jsonl",
                                 callbacks=[weight_watch])
    assert weight_watch.changed("lora_B") and weight_watch.changed("classifier")
    metrics = version["metrics"]
    assert metrics["heldout_pairs"] == 12 and metrics["heldout_accuracy"] >= 0.9, metrics
    assert version["kind"] == "reward" and version["base"] == "minilm"

    scorer = RewardScorer.load("brand-rm", settings)
    polite, shouting = scorer.score(["Write about the teapot."] * 2,
                                    ["We hope our teapot makes your afternoons calmer.", "TEAPOT!!! BUY NOW!!!"])
    assert polite > shouting

    fresh = polite_vs_shouting(10, seed=7)
    report = score_pairs("brand-rm", fresh, settings)
    assert report["version"] == "brand-rm" and report["n"] == 10 and report["accuracy"] >= 0.9
    write_jsonl(tmp_path / "fresh.jsonl", fresh)
    done = subprocess.run([sys.executable, "-m", "botkit", "eval", "rm", "brand-rm", "--data",
                           str(tmp_path / "fresh.jsonl"), "--json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["accuracy"] == report["accuracy"]
