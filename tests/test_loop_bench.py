"""bench/loop.py end to end on the tiny random model: pairs generated, ranked by a plugin's judge
(found through `register_annotators`), a reward model and DPO trained, the trained version judged
against the base on held-out prompts, one JSON object with the figures."""

import importlib.util
import json
from pathlib import Path

import pytest

from botkit.hookspecs import hookimpl
from botkit.plugins import plugin_manager

LOOP = Path(__file__).resolve().parents[1] / "bench" / "loop.py"


class Shorter:
    """A team's judge: the shorter text wins (the tiny model's words fail every built-in check)."""

    name = "shorter"

    def __init__(self):
        self.judged = 0

    def judge(self, prompt, a, b, context):
        self.judged += 1
        return "tie" if len(a) == len(b) else "a" if len(a) < len(b) else "b"


class JudgePlugin:
    def __init__(self, judge):
        self.judge = judge

    @hookimpl
    def register_annotators(self, register):
        register(self.judge)


@pytest.fixture
def loop():
    spec = importlib.util.spec_from_file_location("loop_bench", LOOP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


QUESTIONS = ["How long is the warranty?", "What does shipping cost?", "Is there free shipping?",
             "How much is the Zephyr 3000?", "Does the warranty cover the base?", "Do you ship abroad?",
             "Is there a bundle price?", "How do I make a warranty claim?", "How fast is shipping?",
             "What does the Zephyr Mini cost?", "Can I return a kettle?"]


@pytest.mark.slow
def test_the_loop_benchmark_ranks_trains_and_judges_held_out_prompts(loop, home, tiny_model_dir, docs, capsys,
                                                                      monkeypatch):
    # Three documents and eleven questions keep the run short; the recipe is the benchmark's own.
    (docs.parent / "brand").mkdir()
    docs.rename(docs.parent / "brand" / "knowledge")
    monkeypatch.setattr(loop, "BRAND", docs.parent / "brand")
    monkeypatch.setattr(loop, "sample_brand_prompts",
                        lambda: [{"prompt": q, "plugin": None, "options": {}} for q in QUESTIONS])
    judge = Shorter()
    pm = plugin_manager()
    pm.register(JudgePlugin(judge), "team-judge")
    try:
        code = loop.main(["--model", str(tiny_model_dir), "--engine", "transformers", "--annotator", "shorter",
                          "--heldout", "3", "--train-prompts", "8", "--samples", "5", "--rm-epochs", "1",
                          "--sft-steps", "1", "--dpo-steps", "1", "--home", str(home), "--json"])
    finally:
        pm.unregister(name="team-judge")
    out = capsys.readouterr()
    assert code == 0, out.err[-2000:]
    report = json.loads(out.out)
    assert report["annotator"] == "shorter" and report["heldout_prompts"] == 3
    # The plugin's judge ranked every generated pair and then every held-out prompt.
    assert judge.judged == report["pairs"] + 3
    assert sum(sum(v.values()) for v in report["verdicts"].values()) == report["pairs"] >= 8
    assert 0 <= report["win_rate_low"] <= report["win_rate"] <= report["win_rate_high"] <= 1
    assert report["wins"] + report["losses"] + report["ties"] + report["both_bad"] == 3
    assert 0 <= report["rm_accuracy"] <= 1 and report["dpo_steps"] == 1
    # Best-of-n distillation ran first: SFT on the judge's preferred answers, then DPO from that adapter.
    assert report["sft_steps"] == 1 and report["sft_examples"] >= 4
    assert report["minutes"] > 0 and set(report["minutes_by_stage"]) >= {"train reward model", "train DPO"}


@pytest.mark.parametrize("heldout", ["0", "100000"])
def test_a_held_out_set_the_prompts_cannot_fill_is_one_error_line(loop, home, capsys, heldout):
    code = loop.main(["--heldout", heldout, "--home", str(home), "--json"])
    out = capsys.readouterr()
    assert code == 1 and out.err.startswith("error: --heldout must be between 1 and ") and not out.out
