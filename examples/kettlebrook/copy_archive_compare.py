"""Base vs brand-voice adapters side by side on the copy archive's held-out briefs: each model writes one
greedy candidate per held-out row with the copy plugin's own prompt, and the share passing every copy
check is reported; the candidates are also written shuffled, without model names, for a blind judge.

    python examples/kettlebrook/copy_archive_compare.py default brand-voice brand-voice-pt --out /tmp/compare

holds out the briefs training held out (the same split, `--test-fraction` and `--seed` as the run's; a
trained version's own held-out rows are checked to match) and writes OUT/report.json, OUT/blind.jsonl
(id, brief, field, text: judge these), OUT/key.json (id -> model) and OUT/outputs.jsonl.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path


def main() -> None:
    from botkit.config import load_settings
    from botkit.dialogue import Bot
    from botkit.feedback.registry import ModelRegistry
    from botkit.feedback.training.copy_archive import archive_rows, copy_pass_rate, read_copy_archive
    from botkit.feedback.training.data import split
    from botkit.jsonl import read_jsonl
    from botkit.models.loading import load_engine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="'default' and trained version names")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--engine", default="transformers", help="transformers (any adapter) or auto")
    parser.add_argument("--archive", type=Path, default=Path(__file__).parent / "copy_archive.jsonl")
    parser.add_argument("--test-fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    settings = load_settings()
    bot = Bot(settings)
    _, heldout = split(archive_rows(read_copy_archive(args.archive), bot), args.test_fraction, args.seed)
    registry = ModelRegistry.open(settings)
    for model in filter(registry.get, args.models):
        trained_on = read_jsonl(Path(registry.version(model)["adapter_path"]) / "heldout.jsonl")
        if [r["prompt"] for r in trained_on] != [r["prompt"] for r in heldout]:
            raise SystemExit(f"{model} held out other briefs: pass its --test-fraction and --seed")
    report, blind = {"heldout_rows": len(heldout), "models": {}}, []
    for model in args.models:
        started = time.perf_counter()
        engine = load_engine(model, settings.cache_dir, engine=args.engine, settings=settings)
        result = copy_pass_rate(engine, bot, heldout)
        failed = {}
        for row in result["outputs"]:
            for name in row["failed"]:
                failed[name] = failed.get(name, 0) + 1
        report["models"][model] = {"pass_rate": result["rate"], "failed": failed,
                                   "seconds": round(time.perf_counter() - started, 1)}
        blind += [{"model": model, **row} for row in result["outputs"]]
    random.Random(0).shuffle(blind)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "blind.jsonl").write_text("".join(
        json.dumps({"id": i, "brief": r["brief"], "field": r["field"], "text": r["text"]}, ensure_ascii=False) + "\n"
        for i, r in enumerate(blind)))
    (args.out / "key.json").write_text(json.dumps({i: r["model"] for i, r in enumerate(blind)}))
    (args.out / "outputs.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in blind))
    (args.out / "report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
