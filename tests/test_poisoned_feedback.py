"""Poisoned feedback: an annotator who clicks at random (low gold-pair accuracy, low agreement with the
others) is flagged, shown on the Data page and left out of exports and training from the store by
default; a reward model trained on the filtered data is as good as one trained on clean data, while
one trained on the unfiltered data is not better."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from botkit.cli import app
from botkit.config import FeedbackSettings
from botkit.feedback.annotator_quality import annotator_quality, flagged_annotators
from botkit.feedback.store import RankingStore

MAIN = Path(__file__).parents[1] / "apps" / "main.py"
HONEST = ("maya", "theo", "priya")
CLICKER = "rand"

# A preference that takes reading both the brief and the answer: the right answer is polite and about
# the product asked for; the wrong one shouts, or is polite about another product, or about nothing.
PRODUCTS = ["kettle", "toaster", "coffee grinder", "gift card", "descaler", "travel mug", "teapot", "milk frother",
            "espresso cup", "tea strainer", "cake tin", "bread bin", "oven glove", "salad bowl", "water filter"]
ASKS = ["Write a line about our {p}.", "Describe the {p} for a newsletter.", "Tell a customer about the {p}.",
        "Give me ad copy for the {p}.", "Say something nice about the {p}.", "A product blurb for the {p}, please."]
POLITE = ["Thank you for choosing our {p}; we hope it brightens your mornings.",
          "We would be delighted to help you find the right {p} for your kitchen.",
          "Our {p} is made with care, and we are happy to answer any question.",
          "Please enjoy the {p}, and let us know how we can make it even better.",
          "The {p} is built to last, and our team stands behind every one."]
SHOUTING = ["BUY THE {P} NOW!!! BEST DEAL EVER!!!", "THE {P} IS AMAZING, DON'T MISS OUT!!!",
            "HURRY!!! {P} SALE ENDS TODAY!!!"]
FILLER = ["We are open Monday to Friday, nine to five.", "Thank you for your message; we will reply soon.",
          "Our team is always happy to hear from you."]


def preference(rng: random.Random, i: int) -> dict:
    """One true preference: prompt, chosen, rejected."""
    product, other = rng.sample(PRODUCTS, 2)
    kind = rng.choice(("shouting", "other product", "other product", "other product", "filler"))
    rejected = {"shouting": lambda: rng.choice(SHOUTING).format(P=product.upper()),
                "other product": lambda: rng.choice(POLITE).format(p=other),
                "filler": lambda: rng.choice(FILLER)}[kind]()
    return {"prompt": rng.choice(ASKS).format(p=product) + f" (brief {i})",
            "chosen": rng.choice(POLITE).format(p=product), "rejected": rejected}


def plant(store: RankingStore, pairs: int, *, clicker_share: float, clicker: str = CLICKER, seed: int = 0,
          honest_noise: float = 0.05) -> None:
    """Judge `pairs` true preferences in the store as a team would: most pairs by one annotator, a
    third by two, one in ten a gold pair that everyone judges. `clicker` makes `clicker_share` of
    the verdicts, at random; the honest annotators err `honest_noise` of the time."""
    rng, truths = random.Random(seed + 1), random.Random(seed)  # the same preferences whoever judges them
    for name in (*HONEST, clicker):
        store.add_annotator(name)
    counts = {name: 0 for name in (*HONEST, clicker)}

    def judge(pair_id: int, truth: str, name: str) -> None:
        if name == CLICKER:
            verdict = rng.choice(("a", "b"))
        else:
            verdict = truth if rng.random() >= honest_noise else {"a": "b", "b": "a"}[truth]
        store.record_comparison(pair_id, name, verdict)
        counts[name] += 1

    def next_judge(exclude=()) -> str:
        total = sum(counts.values()) or 1
        if clicker not in exclude and counts[clicker] / total < clicker_share:
            return clicker
        return min((n for n in HONEST if n not in exclude), key=counts.get)

    for i in range(pairs):
        row = preference(truths, i)
        chosen = store.log_response(row["prompt"], row["chosen"], model="v1")
        rejected = store.log_response(row["prompt"], row["rejected"], model="v2")
        gold = i % 10 == 0
        pair_id = store.add_pair(chosen, rejected, gold="a" if gold else None)
        truth = "a" if store.pair(pair_id)["a_id"] == chosen else "b"
        if gold:
            judges = [*HONEST, clicker]
        else:
            judges = [next_judge()]
            if i % 3 == 1:
                judges.append(next_judge(exclude=judges))
        for name in judges:
            judge(pair_id, truth, name)


def test_a_random_clicker_is_flagged_by_gold_and_by_agreement():
    rng = random.Random(1)
    truth = [rng.choice("ab") for _ in range(40)]
    gold = {i: t for i, t in enumerate(truth) if i < 8}

    def judgements(name: str, accuracy: float) -> list[dict]:
        return [{"pair_id": i, "annotator": name, "gold": gold.get(i),
                 "verdict": t if rng.random() < accuracy else {"a": "b", "b": "a"}[t]} for i, t in enumerate(truth)]

    comparisons = judgements("maya", 0.95) + judgements("theo", 0.9) + judgements("rand", 0.5)
    rows = {r["annotator"]: r for r in annotator_quality(comparisons)}
    assert [n for n, r in rows.items() if r["flagged"]] == ["rand"]
    assert rows["rand"]["gold_accuracy"] < 0.7 and rows["rand"]["agreement"] < 0.6
    assert rows["maya"]["agreement"] > 0.8 and rows["maya"]["shared"] == 40  # against theo only, once rand is out
    assert any("gold pairs" in why for why in rows["rand"]["reasons"])
    # Without gold pairs, agreement alone finds the clicker; the honest two are not blamed for disagreeing with it.
    plain = [dict(c, gold=None) for c in comparisons]
    assert list(flagged_annotators(plain)) == ["rand"]
    assert "agreed with the others on" in flagged_annotators(plain)["rand"][0]
    # Too little evidence flags nobody; stricter settings flag more.
    assert flagged_annotators([c for c in plain if c["pair_id"] < 6]) == {}
    assert set(flagged_annotators(plain, FeedbackSettings(min_agreement=0.99))) >= {"rand"}


def test_flagged_annotators_are_left_out_of_export_and_training_unless_included(settings, tmp_path):
    from botkit.feedback.training.data import preferences_from

    store = RankingStore.open(settings)
    plant(store, 200, clicker_share=0.3)
    quality = {r["annotator"]: r for r in annotator_quality(store.comparisons())}
    clicked = sum(c["annotator"] == CLICKER for c in store.comparisons()) / len(store.comparisons())
    assert 0.28 <= clicked <= 0.32 and [n for n, r in quality.items() if r["flagged"]] == [CLICKER]

    runner = CliRunner()
    out = tmp_path / "prefs.jsonl"
    report = json.loads(runner.invoke(app, ["feedback", "export", str(out), "--json"]).stdout)
    assert list(report["flagged_annotators"]) == [CLICKER] and report["skipped"]["flagged-annotators"] > 20
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert not any(CLICKER in r["provenance"]["annotators"] for r in rows)
    shown = runner.invoke(app, ["feedback", "export", str(out)])
    assert f"left out {CLICKER}'s verdicts" in shown.output
    everything = json.loads(runner.invoke(app, ["feedback", "export", str(out), "--include-flagged", "--json"]).stdout)
    assert everything["train"] > report["train"] and everything["flagged_annotators"] == {}

    filtered, _ = preferences_from(None, settings)
    unfiltered, _ = preferences_from(None, settings, include_flagged=True)
    assert len(filtered) == report["train"] and len(unfiltered) == everything["train"]
    stats = json.loads(runner.invoke(app, ["feedback", "stats", "--json"]).stdout)
    assert [a["annotator"] for a in stats["annotators"] if a["flagged"]] == [CLICKER]
    result = runner.invoke(app, ["train", "rm", "--data", str(out), "--include-flagged", "--out", "x"])
    assert "--include-flagged applies to --from-store" in str(result.exception)


def test_the_data_page_flags_the_random_clicker(settings):
    plant(RankingStore.open(settings), 200, clicker_share=0.3)
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.session_state["annotator"] = "maya"
    at.switch_page("data.py").run()
    assert not at.exception, at.exception
    (warning,) = at.warning
    assert "Flagged annotators" in warning.value and f"**{CLICKER}**" in warning.value
    assert "maya" not in warning.value
    stats = at.dataframe[0].value.set_index("annotator")
    assert bool(stats.loc[CLICKER, "flagged"]) and not stats.loc[list(HONEST), "flagged"].any()
    assert [c.label for c in at.checkbox] == ["Include flagged annotators",
                                              "Redact e-mail addresses, phone and card numbers"]


@pytest.mark.slow  # three reward models trained on MiniLM: a few minutes on 2 shared cores
def test_a_reward_model_on_filtered_data_is_not_degraded_by_a_random_clicker(tmp_path, settings, capsys):
    """The same 200 preferences judged by a clean team and by a team where a random clicker makes 30%
    of the verdicts; reward models trained from the store (as `train rm --from-store`) are scored on
    120 fresh preferences. Filtered: about as good as clean; unfiltered (--include-flagged): worse."""
    from botkit.database import open_database
    from botkit.feedback.training.config import load_config
    from botkit.feedback.training.data import preferences_from_store
    from botkit.feedback.training.reward import RewardRunConfig, RewardScorer, train_reward_model

    def judged(clicker: str):
        team = settings.model_copy(update={"home": tmp_path / clicker})
        plant(RankingStore(open_database(team.database_path)), 200, clicker_share=0.3, clicker=clicker)
        return team

    clean, poisoned = judged("sam"), judged(CLICKER)  # sam judges as honestly as the others
    data = {"clean": preferences_from_store(clean), "filtered": preferences_from_store(poisoned),
            "unfiltered": preferences_from_store(poisoned, include_flagged=True)}
    rng = random.Random(99)
    fresh = [preference(rng, 10_000 + i) for i in range(120)]
    accuracy = {}
    for name, rows in data.items():
        config = load_config(RewardRunConfig, max_length=64, max_prompt_length=32, num_train_epochs=1,
                             per_device_train_batch_size=16, learning_rate=2e-3, test_fraction=0.05)
        train_reward_model(config, rows, f"rm-{name}", source=name, settings=settings)
        accuracy[name] = RewardScorer.load(f"rm-{name}", settings).pairwise(fresh)["accuracy"]
    with capsys.disabled():
        print("\nheld-out pairwise accuracy on 120 fresh pairs: "
              + ", ".join(f"{k} {accuracy[k]:.3f} ({len(data[k])} pairs)" for k in data))
    # Measured here (two runs): clean 1.000 / 0.975 (191 pairs), filtered 0.967 (135), unfiltered 0.767 (185).
    # Filtering costs the clicker's pairs (fewer to learn from), not accuracy worth the name; keeping them
    # costs a lot.
    assert len(data["unfiltered"]) > len(data["filtered"])
    assert accuracy["filtered"] >= accuracy["clean"] - 0.05  # 6 of 120 fresh pairs
    assert accuracy["unfiltered"] < accuracy["filtered"]
