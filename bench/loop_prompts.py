"""The loop benchmark's prompts (bench/loop.py): every distinct chat question and copy brief of the
sample brand, and their split into training and held-out prompts."""

from __future__ import annotations

import json
import random
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BRAND = REPO / "examples" / "kettlebrook"
PRODUCTS = ("Zephyr 3000", "Zephyr Mini", "Heron Gooseneck Kettle", "Brookside 2-Slice Toaster",
            "Brookside 4-Slice Toaster", "Millrace Burr Grinder", "Millrace Blade Grinder")
# Questions a customer asks about any product; the sample brand's knowledge answers most of them.
QUESTIONS = ("How much does the {p} cost?", "What is the warranty on the {p}?", "How do I clean the {p}?",
             "What comes in the box with the {p}?", "Can the {p} be repaired?", "Is the {p} dishwasher safe?",
             "What colors does the {p} come in?", "How big is the {p}?", "Can I return the {p}?",
             "Where is the {p} made?", "Is the {p} good for a small kitchen?")
# Copy briefs: (plugin, brief); each plugin asked for one variant to keep sampling affordable.
BRIEFS = (("subject_lines", "An email about the {p} for our winter sale"),
          ("ad_copy", "A search ad for the {p}, built to last"),
          ("social_rewrite", "A post about the {p} as a gift for someone who loves mornings"))
COPY_OPTIONS = {"n": 1}


def sample_brand_prompts() -> list[dict]:
    """Every distinct prompt of the sample brand: its eval and feedback files, its knowledge's
    questions, and questions and copy briefs over each product (as `generate.read_prompts` rows)."""
    rows: list[dict] = []

    def lines(path: Path, key: str) -> list[str]:
        return [json.loads(line)[key] for line in path.read_text().splitlines() if line.strip()]

    texts = [*lines(BRAND / "eval/questions.jsonl", "question"),
             *lines(BRAND / "knowledge/product-questions.jsonl", "question"),
             *lines(BRAND / "feedback/demo_prompts.jsonl", "prompt"),
             *lines(BRAND / "feedback/heldout_prompts.jsonl", "prompt"),
             *(q.format(p=p) for q in QUESTIONS for p in PRODUCTS)]
    rows += [{"prompt": t, "plugin": None, "options": {}} for t in texts]
    briefs = [("subject_lines", t) for t in lines(BRAND / "eval/copy_briefs.jsonl", "text")]
    briefs += [(plugin, brief.format(p=p)) for plugin, brief in BRIEFS for p in PRODUCTS]
    rows += [{"prompt": t, "plugin": plugin, "options": dict(COPY_OPTIONS)} for plugin, t in briefs]
    return list({(r["prompt"].strip().lower(), r["plugin"]): r for r in rows}.values())


def split_prompts(prompts: list[dict], heldout: int, train: int | None, seed: int) -> tuple[list, list]:
    """(train, held-out) prompts, shuffled by `seed`, chat and copy mixed in proportion on both sides."""
    shuffled = prompts[:]
    random.Random(seed).shuffle(shuffled)
    held, rest = shuffled[:heldout], shuffled[heldout:]
    return (rest[:train] if train else rest), held
