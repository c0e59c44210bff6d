"""The brand-voice model: the sample brand's copy archive parses and passes every copy check, `botkit
train sft` on it trains on the chat the copy plugin sends (and registers a version with its data hash
and held-out copy pass rate), and the copy plugins write with that version while chat does not."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from botkit.dialogue import Bot
from botkit.feedback.training.config import load_config
from botkit.feedback.training.copy_archive import (
    KINDS,
    archive_rows,
    copy_failures,
    examples_from,
    read_copy_archive,
)
from botkit.feedback.training.sft import SFTRunConfig, train_sft
from botkit.tasks.brand_voice import BRAND_VOICE

ARCHIVE = Path(__file__).parent.parent / "examples" / "kettlebrook" / "copy_archive.jsonl"


def a_slice(items: list[dict], per_kind: int = 3) -> list[dict]:
    """The first `per_kind` items of each kind: every task and field, a few briefs each."""
    seen: Counter = Counter()
    out = []
    for item in items:
        if seen[item["kind"]] < per_kind:
            seen[item["kind"]] += 1
            out.append(item)
    return out


def test_the_archive_parses_and_every_item_passes_the_copy_checks(settings, tiny_engine, embedder, sample_knowledge):
    items = read_copy_archive(ARCHIVE)
    assert len(items) >= 400 and set(Counter(i["kind"] for i in items)) == set(KINDS)
    assert len({i["brief"] for i in items}) >= 100  # varied briefs, not one brief rewritten 400 times
    bot = Bot(settings, engine=tiny_engine, embedder=embedder)
    bot.knowledge.ingest(sample_knowledge)  # the figures and names copy may state come from it
    rows = archive_rows(items, bot)
    failures = copy_failures(bot, rows, [r["completion"] for r in rows])
    failing = [(r["completion"], f) for r, f in zip(rows, failures) if set(f) - {"off the brief"}]
    assert not failing, failing[:5]
    # The off-the-brief check also turns down a few of the brand's own wry lines that name nothing of
    # their brief ("We still fix it"): measured 20 of 494; the price of dropping the model's drifting ones.
    assert sum("off the brief" in f for f in failures) <= 0.05 * len(rows)
    # The checks really check: a line with a banned word, an invented price or a cut-off end fails.
    assert copy_failures(bot, rows[:3], ["A cheap kettle, built to last", "The Zephyr 3000, now $15, for years",
                                          "The Zephyr 3000 is built to last for"]) != [[], [], []]


def test_an_archive_row_is_the_chat_the_copy_plugin_sends(settings, tiny_model_dir, tiny_engine, embedder):
    bot = Bot(settings.model_copy(update={"model": str(tiny_model_dir)}), engine=tiny_engine, embedder=embedder)
    item = next(i for i in read_copy_archive(ARCHIVE) if i["kind"] == "subject_line")
    row = archive_rows([item], bot)[0]
    served = bot.run_task("subject_lines", item["brief"], n=1)
    assert served.engine_messages == row["prompt"] and row["completion"] == item["subject"]


def test_sft_on_the_archive_registers_a_brand_voice_version_the_copy_plugins_use(
        settings, tiny_model_dir, tiny_engine, embedder, tmp_path):
    archive = tmp_path / "archive.jsonl"
    archive.write_text("".join(json.dumps(item) + "\n" for item in a_slice(read_copy_archive(ARCHIVE))))
    rows, source = examples_from(archive, settings)  # what `botkit train sft --data archive.jsonl` trains on
    assert "copy archive" in source and {r["task"] for r in rows} == set(KINDS.values())
    config = load_config(SFTRunConfig, model=str(tiny_model_dir), max_steps=2, max_prompt_length=320,
                         max_length=400, test_fraction=0.3)
    version = train_sft(config, rows, BRAND_VOICE, source=source, settings=settings)
    assert len(version["data"]["sha256"]) == 64 and version["data"]["train"] + version["data"]["heldout"] == len(rows)
    metrics = version["metrics"]
    assert 0 <= metrics["heldout_copy_pass_rate"] <= 1 and metrics["heldout_copy_rows"] >= 1

    on_tiny = settings.model_copy(update={"model": str(tiny_model_dir)})
    bot = Bot(on_tiny, engine=tiny_engine, embedder=embedder)
    brief = "The Zephyr Mini travel kettle, $59"
    assert bot.run_task("subject_lines", brief, n=1).model.endswith(f"+{BRAND_VOICE}")
    assert bot.run_task("ad_copy", brief, n=1).model.endswith(f"+{BRAND_VOICE}")
    assert bot.engine is tiny_engine  # chat keeps the chat model
    chat_only = Bot(on_tiny.model_copy(update={"copy_model": "chat"}), engine=tiny_engine, embedder=embedder)
    assert chat_only.run_task("subject_lines", brief, n=1).model == tiny_engine.name
    # A brand-voice version on another base than the chat model's is not used for its copy.
    on_default = Bot(settings, engine=tiny_engine, embedder=embedder)
    assert on_default.run_task("subject_lines", brief, n=1).model == tiny_engine.name


@pytest.mark.parametrize("line", ['{"kind": "ad", "task": "subject_lines", "brief": "x", "subject": "y"}',
                                  '{"kind": "ad", "task": "ad_copy", "brief": "x"}'])
def test_a_bad_archive_line_is_one_error_naming_it(tmp_path, line):
    from botkit.errors import BotkitError

    path = tmp_path / "archive.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(BotkitError, match="line"):
        read_copy_archive(path)


def test_copy_from_the_default_model_comes_with_what_its_lines_are_worth(settings, tiny_model_dir):
    from types import SimpleNamespace

    from botkit.tasks import Checked
    from botkit.tasks.brand_voice import SMALL_MODEL_CAUTION, copy_caution
    from botkit.tasks.copy_checks import with_note

    assert copy_caution(SimpleNamespace(settings=settings)) == SMALL_MODEL_CAUTION  # the default model
    on_tiny = settings.model_copy(update={"model": str(tiny_model_dir)})
    assert copy_caution(SimpleNamespace(settings=on_tiny)) == ""  # any other model: no caution
    shown = Checked(["a line"], asked=1, caution=SMALL_MODEL_CAUTION)
    assert shown.like([{"subject": "a line"}]).caution == SMALL_MODEL_CAUTION  # rows made from it keep it
    assert with_note("1. a line", shown).endswith(f"_{SMALL_MODEL_CAUTION[:1].upper()}{SMALL_MODEL_CAUTION[1:]}._")
    assert with_note("", Checked([], asked=1)).startswith("_None of the 1")  # nothing shown: only why
