import json
from pathlib import Path

import pytest

from botkit.database import open_database
from botkit.errors import BotkitError
from botkit.feedback.store import RankingStore
from botkit.feedback.trl_format import export_trl
from botkit.prompting.brand import sample_brand_dir

SAMPLE = sample_brand_dir() / "feedback" / "sample_pairs.jsonl"


@pytest.fixture
def store(tmp_path):
    return RankingStore(open_database(tmp_path / "b.db"))


def write(path: Path, rows) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def triples(rows):
    return {(json.dumps(r["prompt"]), json.dumps(r["chosen"]), json.dumps(r["rejected"])) for r in rows}


def test_sample_file_round_trips(store, tmp_path):
    source = read(SAMPLE)
    report = store.import_trl(SAMPLE)
    assert report["pairs"] == len(source) and report["skipped"] == 0
    assert report["annotators"] == ["maya", "priya", "theo"]
    assert store.db["pairs"].count == 60 and store.db["comparisons"].count == len(source)
    again = store.import_trl(SAMPLE)  # importing twice duplicates nothing
    assert again["pairs"] == len(source) and store.db["comparisons"].count == len(source)

    out = export_trl(store, tmp_path / "prefs.jsonl", redact=False)
    rows = read(tmp_path / "prefs.jsonl")
    # the three pairs whose two annotators disagree have no majority and are left out
    assert out["train"] == len(rows) == 57 and out["skipped"]["no-majority"] == 3
    assert triples(rows) <= triples(source) and out["redacted"] is None
    # By default the brand's phone numbers and e-mail address in the answers are redacted like a customer's.
    assert store.export_trl(tmp_path / "redacted.jsonl")["redacted"] == {"phone": 2, "email": 1}
    assert "1-800-555-0147" not in (tmp_path / "redacted.jsonl").read_text()
    plugins = {r["provenance"]["plugin"] for r in rows}
    assert plugins == {None, "ad_copy", "subject_lines", "social_rewrite"}
    first = rows[0]["provenance"]
    assert set(first) >= {"annotators", "judged_at", "chosen_model", "rejected_model", "plugin", "agreement"}


def test_conversational_rows_keep_their_shape(store, tmp_path):
    row = {"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Kettle price?"}],
           "chosen": [{"role": "assistant", "content": "The Zephyr 3000 costs $129."}],
           "rejected": [{"role": "assistant", "content": "It is FREE!!!"}], "annotator": "maya"}
    store.import_trl(write(tmp_path / "in.jsonl", [row]))
    assert store.next_pair("maya") is None and store.progress("maya")["done"] == 1
    store.export_trl(tmp_path / "out.jsonl")
    (out,) = read(tmp_path / "out.jsonl")
    assert (out["prompt"], out["chosen"], out["rejected"]) == (row["prompt"], row["chosen"], row["rejected"])


def test_malformed_lines_are_named_and_nothing_is_imported(store, tmp_path):
    good = {"prompt": "Q1?", "chosen": "yes", "rejected": "no"}
    path = write(tmp_path / "in.jsonl", [
        good,
        "{not json",
        {**good, "prompt": "Q2?"},
        {"prompt": "Q3?", "chosen": "yes"},
        {"prompt": "Q4?", "chosen": "same", "rejected": "same"},
        "",
        {**good, "prompt": "Q5?", "chosen": [{"role": "user", "content": "x"}]},
    ])
    with pytest.raises(BotkitError) as caught:
        store.import_trl(path)
    message = str(caught.value)
    for expected in ("line 2: not a JSON object", "line 4: missing rejected",
                     "line 5: chosen and rejected are identical", "line 7: 'chosen' must be", "--keep-good"):
        assert expected in message
    assert store.db["responses"].count == 0 and store.annotators() == []
    report = store.import_trl(path, keep_good=True, annotator="ops")
    assert (report["pairs"], report["skipped"], report["bad_lines"]) == (2, 4, [2, 4, 5, 7])
    assert store.annotators() == ["ops"]


def _judge(store, prompt, verdicts, plugin=None, extra=""):
    a = store.log_response(prompt, f"answer one{extra}", model="v1", plugin=plugin)
    b = store.log_response(prompt, f"answer two{extra}", model="v2", plugin=plugin)
    pair_id = store.add_pair(a, b)
    one = "a" if store.pair(pair_id)["a_id"] == a else "b"  # pairs store their answers in id order
    for name, verdict in verdicts.items():
        verdict = {"one": one, "two": "b" if one == "a" else "a"}.get(verdict, verdict)
        store.record_comparison(pair_id, store.add_annotator(name), verdict)
    return pair_id


def test_ties_and_both_bad_are_skipped_and_counted(store, tmp_path):
    _judge(store, "tie?", {"maya": "tie"})
    _judge(store, "both bad?", {"maya": "both-bad", "theo": "both-bad"})
    _judge(store, "clear?", {"maya": "one"})
    report = store.export_trl(tmp_path / "out.jsonl")
    assert report["train"] == 1 and report["skipped"]["tie"] == 1 and report["skipped"]["both-bad"] == 1
    with pytest.raises(BotkitError, match="need a winner"):
        store.export_trl(tmp_path / "out.jsonl", ties="include")


def test_minimum_agreement_keeps_the_majority_verdict(store, tmp_path):
    _judge(store, "split?", {"maya": "two", "theo": "two", "priya": "one"})  # 2 of 3 agree
    _judge(store, "alone?", {"maya": "one"})
    loose = store.export_trl(tmp_path / "loose.jsonl", min_agreement=0.6)
    (split, _) = sorted(read(tmp_path / "loose.jsonl"), key=lambda r: r["prompt"], reverse=True)
    assert loose["train"] == 2 and split["chosen"] == "answer two"
    assert split["provenance"]["annotators"] == ["maya", "theo"]
    assert split["provenance"]["agreement"] == pytest.approx(2 / 3, abs=1e-3)
    strict = store.export_trl(tmp_path / "strict.jsonl", min_agreement=0.75, min_annotators=2)
    assert strict["train"] == 0
    assert strict["skipped"]["low-agreement"] == 1 and strict["skipped"]["too-few-annotators"] == 1


def test_filters_by_plugin_and_date(store, tmp_path):
    _judge(store, "Zephyr ad", {"maya": "one"}, plugin="ad_copy")
    _judge(store, "Kettle price?", {"maya": "one"})
    assert store.export_trl(tmp_path / "o.jsonl", plugin="ad_copy")["train"] == 1
    assert read(tmp_path / "o.jsonl")[0]["prompt"] == "Zephyr ad"
    assert store.export_trl(tmp_path / "o.jsonl", since="2000-01-01")["train"] == 2
    assert store.export_trl(tmp_path / "o.jsonl", since="2999-01-01")["train"] == 0
    with pytest.raises(BotkitError, match="--since"):
        store.export_trl(tmp_path / "o.jsonl", since="last tuesday")


def test_split_is_deterministic_and_never_leaks_a_prompt(store, tmp_path):
    for n in range(40):
        for k in range(2):  # two pairs per prompt: both must land on the same side
            _judge(store, f"question {n}?", {"maya": "one"}, extra=f" {k}")
    first = store.export_trl(tmp_path / "a.jsonl", test_fraction=0.25, seed=7)
    store.export_trl(tmp_path / "b.jsonl", test_fraction=0.25, seed=7)
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()
    assert (tmp_path / "a.test.jsonl").read_text() == (tmp_path / "b.test.jsonl").read_text()
    train, test = read(tmp_path / "a.jsonl"), read(tmp_path / "a.test.jsonl")
    assert first["train"] + first["test"] == 80 and 6 <= first["test"] <= 36 and first["test"] % 2 == 0
    assert not {r["prompt"] for r in train} & {r["prompt"] for r in test}
    store.export_trl(tmp_path / "c.jsonl", test_fraction=0.25, seed=8)
    assert {r["prompt"] for r in read(tmp_path / "c.test.jsonl")} != {r["prompt"] for r in test}
