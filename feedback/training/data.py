"""Training data for every method: read (TRL-format files or the ranking store), check, split into
train and held-out deterministically, fingerprint, and cut long prompts from the left.

The split is `feedback.heldout`'s, the one `feedback export --test-fraction` uses: questions are
ordered by a seeded hash and the lowest share is held out, keyed by the user's question (an export's
`provenance.question`) rather than the whole chat the engine saw, so one question never lands on both
sides, the exported test file and `--from-store` hold out the same prompts, and even a small file gets one.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from botkit.errors import BotkitError
from botkit.feedback import heldout
from botkit.jsonl import read_jsonl


def read_preference_file(path: Path) -> list[dict]:
    """TRL preference rows (`prompt`, `chosen`, `rejected`; strings or message lists), checked.

    Returns rows whose prompt is a string or a message list and whose chosen/rejected are strings;
    an exported row keeps its `question` (provenance), the split's key.
    """
    from botkit.feedback.trl_format import read_preferences

    good, bad = read_preferences(Path(path))
    empty = [(n, f"empty {side}") for n, row in good for side in ("chosen", "rejected") if not row[side].strip()]
    bad = sorted(bad + empty)
    if bad:
        shown = "; ".join(f"line {n}: {why}" for n, why in bad[:5])
        shown += f"; and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise BotkitError(f"{path}: {len(bad)} unusable line(s) ({shown}); fix or remove them")
    return [{"prompt": row["engine_messages"] or row["messages"] or row["prompt"], "chosen": row["chosen"],
             "rejected": row["rejected"], **({"question": row["question"]} if row["question"] else {})}
            for _, row in good]


def preferences_from_store(settings, *, include_flagged: bool = False) -> list[dict]:
    """The store's judged pairs, through its TRL export with the same rules (majority verdicts, ties
    skipped, flagged annotators left out unless `include_flagged`, PII redacted per settings)."""
    from botkit.feedback.store import RankingStore
    from botkit.feedback.trl_format import export_trl

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pairs.jsonl"
        export_trl(RankingStore.open(settings), out, include_flagged=include_flagged, settings=settings.feedback)
        if not out.read_text().strip():
            return []
        return read_preference_file(out)


def read_sft_file(path: Path) -> list[dict]:
    """SFT rows in a TRL format: `text`, `prompt` + `completion` (or `response`), or `messages`."""
    rows = read_jsonl(Path(path))
    out, bad = [], []
    for number, row in enumerate(rows, 1):
        if isinstance(row.get("text"), str) and row["text"].strip():
            out.append({"text": row["text"]})
        elif "prompt" in row and isinstance(row.get("completion", row.get("response")), str):
            completion = row.get("completion", row.get("response"))
            if not completion.strip() or not row["prompt"]:
                bad.append(number)
            else:
                out.append({"prompt": row["prompt"], "completion": completion, **_question(_provenance(row))})
        elif isinstance(row.get("messages"), list) and row["messages"]:
            out.append({"messages": row["messages"]})
        else:
            bad.append(number)
    if bad:
        raise BotkitError(f"{path}: line(s) {', '.join(map(str, bad[:10]))} need a non-empty 'text', "
                          "'prompt' + 'completion' (or 'response'), or 'messages'")
    return out


def read_prompt_file(path: Path) -> list[dict]:
    """Prompts for online RL: rows with a `prompt` (string or messages); preference files work too."""
    rows = read_jsonl(Path(path), ("prompt",))
    empty = [n for n, r in enumerate(rows, 1)
             if not r["prompt"] or (isinstance(r["prompt"], str) and not r["prompt"].strip())]
    if empty:
        raise BotkitError(f"{path}: empty prompt on line(s) {', '.join(map(str, empty[:10]))}")
    unique = {json.dumps(r["prompt"], sort_keys=True): {"prompt": r["prompt"], **_question(_provenance(r))}
              for r in rows}
    return list(unique.values())


def preferences_from(path: Path | None, settings, *, include_flagged: bool = False) -> tuple[list[dict], str]:
    """(rows, source) for the reward model and DPO: a preference file, or the store's judged pairs
    when `path` is None."""
    if path:
        return read_preference_file(path), str(path)
    return preferences_from_store(settings, include_flagged=include_flagged), "the ranking store"


def examples_from(path: Path | None, settings, *, include_flagged: bool = False) -> tuple[list[dict], str]:
    """(rows, source) for SFT: a file of examples, or the store's winning answers (the voice to imitate)."""
    if path:
        return read_sft_file(path), str(path)
    pairs = preferences_from_store(settings, include_flagged=include_flagged)
    return [{"prompt": p["prompt"], "completion": p["chosen"], **_question(p)} for p in pairs], "the ranking store"


def prompts_from(path: Path | None, settings, *, include_flagged: bool = False) -> tuple[list[dict], str]:
    """(rows, source) for online RL: a prompt file, or each prompt of the store's judged pairs once."""
    if path:
        return read_prompt_file(path), str(path)
    pairs = preferences_from_store(settings, include_flagged=include_flagged)
    unique = {json.dumps(p["prompt"], sort_keys=True): {"prompt": p["prompt"], **_question(p)} for p in pairs}
    return list(unique.values()), "the ranking store"


def _question(row: dict) -> dict:
    """A row's `question` (the split's key), when it has one."""
    return {"question": row["question"]} if row.get("question") else {}


def _provenance(row: dict) -> dict:
    return row["provenance"] if isinstance(row.get("provenance"), dict) else {}


def require(rows: list, minimum: int, what: str, source: str) -> None:
    if len(rows) < minimum:
        raise BotkitError(f"{source} has {len(rows)} {what}; training needs at least {minimum} "
                          f"(some are held out for evaluation): rank or import more")


def prompt_key(row: dict) -> str:
    """The split's key of a preference, SFT or prompt row: its question, else its prompt (SFT rows may
    have only `messages` or `text`)."""
    return heldout.row_key(row)


def split(rows: list[dict], test_fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """(train, held-out) by `feedback.heldout`, the split `feedback export --test-fraction` makes; at
    least one prompt on each side."""
    if len({prompt_key(r) for r in rows}) < 2:
        raise BotkitError("all examples share one prompt: a held-out split needs at least 2 different prompts")
    return heldout.split_by_prompt(rows, test_fraction, seed, key=prompt_key)


def snapshot(train: list[dict], heldout: list[dict], source: str) -> dict:
    """What the run was trained on: a sha256 over the canonical rows, the counts and where they came from."""
    digest = hashlib.sha256()
    for name, rows in (("train", train), ("heldout", heldout)):
        for row in rows:
            digest.update(f"{name}\x00{json.dumps(row, sort_keys=True, ensure_ascii=False)}\n".encode())
    return {"sha256": digest.hexdigest(), "train": len(train), "heldout": len(heldout), "source": source}


def as_chat(prompt) -> list[dict]:
    """A prompt as a message list, so policy training sees the same chat template as botkit's chat."""
    return [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt


def prompt_as_text(prompt) -> str:
    """A prompt for an encoder without a chat template: the turns' texts, newest last."""
    return prompt if isinstance(prompt, str) else "\n".join(m["content"] for m in prompt)


def truncate_prompt_left(prompt, tokenizer, max_tokens: int):
    """`prompt` (text or messages) cut from the left to at most `max_tokens` tokens: the oldest turns
    go first, then the start of the earliest kept turn. The system message, if any, is kept."""
    if isinstance(prompt, str):
        ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        return prompt if len(ids) <= max_tokens else tokenizer.decode(ids[-max_tokens:])

    def length(messages) -> int:
        ids = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True, return_dict=True)
        return len(ids["input_ids"])

    messages = [dict(m) for m in prompt]
    system = [m for m in messages[:1] if m["role"] == "system"]
    turns = messages[len(system):]
    while len(turns) > 1 and length(system + turns) > max_tokens:
        turns = turns[1:]
    over = length(system + turns) - max_tokens
    if over > 0:
        ids = tokenizer(turns[0]["content"], add_special_tokens=False)["input_ids"]
        turns[0]["content"] = tokenizer.decode(ids[min(len(ids), over):])
    return system + turns
