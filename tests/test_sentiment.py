"""The sentiment plugin: metrics against hand-computed values, the trainer (frozen and fine-tuned
encoder) against the majority baseline and chance on held-out texts, the prompted modes on the tiny
and the default model, the `botkit sentiment` commands a plugin adds to the CLI, and bad input."""

import functools
import json
from pathlib import Path

import pytest

from botkit import plugins
from botkit.errors import BotkitError

DATA = Path(__file__).parent.parent / "examples" / "sentiment"


@pytest.fixture(autouse=True)
def every_plugin(monkeypatch):
    """The built-in plugins, sentiment among them, whatever BOTKIT_PLUGINS the test run has."""
    monkeypatch.delenv("BOTKIT_PLUGINS", raising=False)
    plugins.plugin_manager.cache_clear()
    yield
    plugins.plugin_manager.cache_clear()


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, embedder):
    from botkit.default_plugins.sentiment_classifier import SentimentTrainConfig, read_examples, train_classifier

    out = tmp_path_factory.mktemp("sentiment-model")
    examples, _ = read_examples(DATA / "train.jsonl")
    return out, train_classifier(examples, out, embedder, SentimentTrainConfig(encoder="frozen"))


def test_metrics_match_hand_computed_values():
    from botkit.default_plugins.sentiment_classifier import classification_report

    gold = ["positive", "positive", "negative", "neutral", "neutral", "negative"]
    pred = ["positive", "negative", "negative", "neutral", "positive", "negative"]
    r = classification_report(gold, pred)
    assert r["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert r["labels"] == ["positive", "negative", "neutral"]
    assert r["per_class"]["positive"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert r["per_class"]["negative"] == pytest.approx({"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2})
    assert r["per_class"]["neutral"] == pytest.approx({"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2})
    assert r["macro"] == pytest.approx({"precision": 13 / 18, "recall": 2 / 3, "f1": (0.5 + 0.8 + 2 / 3) / 3})
    assert r["accuracy"] == pytest.approx(4 / 6) and r["n"] == 6
    never = classification_report(["positive", "neutral"], ["positive", "positive"])  # 0/0 is 0, not an error
    assert never["per_class"]["neutral"]["precision"] == 0.0 and never["per_class"]["negative"]["f1"] == 0.0


@pytest.mark.slow  # embeds hundreds of reviews with MiniLM
def test_trainer_beats_the_majority_baseline_on_the_test_split(trained, embedder):
    from botkit.default_plugins.sentiment_classifier import SentimentClassifier, classification_report

    out, _ = trained
    test = rows(DATA / "test.jsonl")
    gold = [r["label"] for r in test]
    majority = max(set(gold), key=gold.count)
    baseline = classification_report(gold, [majority] * len(gold))
    classifier = SentimentClassifier.load(out, embedder)
    probs = classifier.predict_proba([r["text"] for r in test])
    report = classification_report(gold, [classifier.labels[i] for i in probs.argmax(axis=1)])
    assert report["accuracy"] >= baseline["accuracy"] + 0.35
    assert report["macro"]["f1"] >= baseline["macro"]["f1"] + 0.5
    saved = json.loads((out / "metrics.json").read_text())
    assert not set(saved["train_lines"]) & set(saved["heldout_lines"])
    assert saved["heldout"]["n"] == len(saved["heldout_lines"])
    assert saved["embedding_model"] == "all-MiniLM-L6-v2" and saved["train_seconds"] > 0


@pytest.mark.slow  # embeds hundreds of reviews with MiniLM
def test_trained_mode_in_python_and_chat(trained, tiny_bot):
    out, _ = trained
    result = tiny_bot.run_task("sentiment", "Broke after two days and nobody answers my emails.", model=str(out)).output
    assert result["label"] == "negative" and sum(result["scores"].values()) == pytest.approx(1, abs=1e-3)
    reply = tiny_bot.respond(f"/sentiment model={out} Absolutely love it, works perfectly!")
    assert reply.plugin == "sentiment" and reply.text.startswith("**positive**")


@pytest.mark.parametrize("mode", ["zero-shot", "few-shot"])
def test_prompted_modes_always_give_a_label_on_the_tiny_model(tiny_bot, mode):
    for calibrate in (True, False):
        result = tiny_bot.run_task("sentiment", "The delivery was late again.", mode=mode, calibrate=calibrate).output
        assert result["label"] in {"positive", "negative", "neutral"}
        assert sum(result["scores"].values()) == pytest.approx(1, abs=1e-3)


def test_fake_engine_without_logits_reads_the_generated_word(task_runner):
    task_runner.engine.responses = ["Negative."]
    assert task_runner("sentiment", "meh", mode="zero-shot")["label"] == "negative"
    assert "positive" in task_runner.engine.calls[-1][0]["content"]  # the instructions name the labels


@pytest.mark.e2e
def test_default_model_few_shot_end_to_end(settings, default_engine, embedder):
    from botkit.dialogue import Bot

    bot = Bot(settings, engine=default_engine, embedder=embedder)
    result = bot.run_task("sentiment", "Terrible. It broke on day two and support never replied.", mode="few-shot")
    assert result.output["label"] == "negative"


def test_bad_input_is_one_clear_error(tmp_path, tiny_bot, embedder):
    from botkit.default_plugins.sentiment_classifier import SentimentTrainConfig, read_examples, train_classifier

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "great", "label": "positive"}\nnot json\n{"text": "ok", "label": "happy"}\n'
                   '{"text": "  ", "label": "neutral"}\n{"label": "negative"}\n')
    with pytest.raises(BotkitError) as exc:
        read_examples(bad)
    message = str(exc.value)
    assert "line 2: malformed" in message
    assert "line 3: label 'happy' is not one of positive, negative, neutral" in message
    assert "line 4: empty text" in message and "line 5: malformed" in message and "--skip-bad" in message
    kept, skipped = read_examples(bad, skip_bad=True)
    assert [r["line"] for r in kept] == [1] and skipped == 4
    labels = ["positive"] * 9 + ["negative"] * 2
    few = [{"line": i, "text": f"text {i}", "label": label} for i, label in enumerate(labels)]
    with pytest.raises(BotkitError, match="too few examples to train: 2 negative, 0 neutral; need at least 5 of each"):
        train_classifier(few, tmp_path / "model", embedder)
    with pytest.raises(BotkitError, match="encoder 'bigger' is not one of tuned, frozen"):
        train_classifier(few, tmp_path / "model", embedder, SentimentTrainConfig(encoder="bigger"))
    with pytest.raises(BotkitError, match="mode trained needs model=DIR"):
        tiny_bot.run_task("sentiment", "fine", mode="trained")
    with pytest.raises(BotkitError, match="not a sentiment classifier"):
        tiny_bot.run_task("sentiment", "fine", model=str(tmp_path))
    broken = tmp_path / "broken"
    (broken / "encoder").mkdir(parents=True)
    (broken / "classifier.json").write_text("{}")
    with pytest.raises(BotkitError, match="has no fine-tuned encoder weights"):
        tiny_bot.run_task("sentiment", "fine", model=str(broken))
    with pytest.raises(BotkitError, match="bad option mode"):
        tiny_bot.run_task("sentiment", "fine", mode="two-shot")
    with pytest.raises(BotkitError, match="the text is empty"):
        tiny_bot.run_task("sentiment", "   ")


@pytest.mark.slow  # trains and predicts through three CLI subprocesses
def test_cli_train_eval_predict_json(tmp_path, botkit_cli):
    botkit = functools.partial(botkit_cli, home=tmp_path)
    train = rows(DATA / "train.jsonl")
    small = [r for label in ("positive", "negative", "neutral") for r in [t for t in train if t["label"] == label][:20]]
    data = tmp_path / "small.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in small) + "{broken\n")
    model = tmp_path / "model"

    refused = botkit("sentiment", "train", str(data), "--out", str(model), check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().startswith("error:") and "line 61: malformed" in refused.stderr
    unknown = botkit("sentiment", "train", str(data), "--out", str(model), "--skip-bad", "--encoder", "big",
                     check=False)
    assert unknown.returncode == 1 and unknown.stderr.strip() == "error: --encoder must be tuned or frozen, not 'big'"

    done = botkit("sentiment", "train", str(data), "--out", str(model), "--skip-bad", "--encoder", "frozen", "--json")
    metrics = json.loads(done.stdout)
    assert metrics["heldout"]["n"] == 12 and metrics["train_seconds"] > 0 and "skipped 1 bad line" in done.stderr

    evaluated = botkit("sentiment", "eval", str(DATA / "test.jsonl"), "--model", str(model), "--json")
    report = json.loads(evaluated.stdout)
    assert set(report) == {"per_class", "macro", "accuracy", "confusion_matrix", "labels", "n"}
    assert report["n"] == 144 and report["accuracy"] > 0.6 and sum(map(sum, report["confusion_matrix"])) == 144

    texts = tmp_path / "texts.jsonl"
    texts.write_text('{"text": "Love it, thank you!"}\n{"text": ""}\n{"text": "It broke and support ignored me."}\n')
    predicted = botkit("sentiment", "predict", str(texts), "--model", str(model), "--skip-bad", "--json")
    assert [(r["line"], r["label"]) for r in json.loads(predicted.stdout)] == [(1, "positive"), (3, "negative")]


@pytest.mark.slow  # fine-tunes MiniLM, then predicts in a new process
def test_fine_tuned_encoder_beats_chance_on_unseen_tweets_and_its_dir_predicts_in_a_new_process(
        tmp_path, botkit_cli, embedder):
    from botkit.default_plugins.sentiment_classifier import SentimentClassifier, classification_report

    def per_label(path: Path, n: int) -> list[dict]:
        data = rows(path)
        return [r for label in ("positive", "negative", "neutral")
                for r in [t for t in data if t["label"] == label][:n]]

    train, test = per_label(DATA / "tweets_train.jsonl", 40), per_label(DATA / "tweets_test.jsonl", 30)
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in train))
    model = tmp_path / "model"
    done = botkit_cli("sentiment", "train", str(data), "--out", str(model), "--epochs", "2", "--json", home=tmp_path)
    metrics = json.loads(done.stdout)  # the default encoder is the fine-tuned one
    assert metrics["embedding_model"] == "all-MiniLM-L6-v2 (fine-tuned)" and metrics["cpu_seconds"] > 0
    assert (model / "encoder" / "model.safetensors").exists()

    classifier = SentimentClassifier.load(model, embedder)  # the DIR's own encoder, not the one passed
    probe = ["Flight delayed again, thanks for nothing", "The meeting is at 3pm in room 4"]
    assert classifier.embedder.name == "all-MiniLM-L6-v2 (fine-tuned)"
    assert (classifier.embedder.encode(probe) * embedder.encode(probe)).sum(axis=1).max() < 0.999  # tuned weights
    gold = [r["label"] for r in test]
    predicted = [classifier.labels[i] for i in classifier.predict_proba([r["text"] for r in test]).argmax(axis=1)]
    assert classification_report(gold, predicted)["macro"]["recall"] >= 0.6  # chance: 1/3; 90 unseen tweets

    texts = tmp_path / "texts.jsonl"
    texts.write_text("".join(json.dumps({"text": r["text"]}) + "\n" for r in test))
    elsewhere = botkit_cli("sentiment", "predict", str(texts), "--model", str(model), "--json", home=tmp_path,
                           env={"HF_HUB_OFFLINE": "1"})
    assert [r["label"] for r in json.loads(elsewhere.stdout)] == predicted
