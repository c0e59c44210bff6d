"""Preference data in TRL's format (`prompt`, `chosen`, `rejected`, as strings or chat message lists):
import into the ranking store, and export one row per judged pair with its provenance.

What is exported is what the model saw and wrote: the chat the engine received (system, few-shot,
sources, history, the user turn) as TRL's conversational `prompt`, and the model's own outputs as
`chosen`/`rejected` (the draft behind a quote; `completion="shown"` exports the shown texts instead);
the user's question stays in `provenance.question`, the split's key. Responses logged before the
engine's chat was kept export as before (the question as the prompt, the shown texts), and say so.

Export rules (README "Preference data"): flagged annotators' verdicts (annotator_quality.py) are left
out unless included; a pair's verdict is the majority of its remaining annotators; ties and both-bad
verdicts are skipped, because DPO and reward models need a winner; PII is redacted (redaction.py)
unless turned off; the train/test split is `heldout`'s, the one training uses, so one prompt never
lands on both sides and `train --from-store` holds out the same prompts.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from botkit.config import FeedbackSettings
from botkit.errors import BotkitError
from botkit.feedback.heldout import split_by_prompt
from botkit.jsonl import parse_jsonl, read_text

SKIP_REASONS = ("tie", "both-bad", "no-majority", "low-agreement", "too-few-annotators", "flagged-annotators",
                "identical-after-redaction", "identical-model-outputs")
COMPLETIONS = ("output", "shown")  # export the model's own outputs (the default) or the texts people were shown


def _completion(value, field: str) -> str:
    """A completion as text: a string, or a one-message assistant list (TRL's conversational format)."""
    if isinstance(value, str):
        return value
    if (isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict)
            and value[0].get("role") == "assistant" and isinstance(value[0].get("content"), str)):
        return value[0]["content"]
    raise ValueError(f"'{field}' must be a string or one assistant message")


def _prompt(value) -> tuple[str, list[dict] | None]:
    """The prompt's text (the last user turn of a chat) and the whole chat, when it is one."""
    if isinstance(value, str):
        return value, None
    if (isinstance(value, list) and value
            and all(isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
                    for m in value)):
        users = [m["content"] for m in value if m["role"] == "user"]
        if users:
            return users[-1], [{"role": m["role"], "content": m["content"]} for m in value]
    raise ValueError("'prompt' must be a string or a list of {role, content} messages with a user turn")


def parse_preference(row: dict) -> dict:
    """One TRL preference row checked and normalised; ValueError says what is wrong with it."""
    missing = [k for k in ("prompt", "chosen", "rejected") if k not in row]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    text, messages = _prompt(row["prompt"])
    chosen, rejected = _completion(row["chosen"], "chosen"), _completion(row["rejected"], "rejected")
    if not text.strip():
        raise ValueError("the prompt is empty")
    if chosen.strip() == rejected.strip():
        raise ValueError("chosen and rejected are identical")
    annotator = row.get("annotator")
    if annotator is not None and (not isinstance(annotator, str) or not annotator.strip()):
        raise ValueError("'annotator' must be a non-empty string")
    provenance = row.get("provenance") if isinstance(row.get("provenance"), dict) else {}
    engine_messages, question = None, provenance.get("question")
    if question is not None:  # an exported row: its prompt is the chat the engine saw for this question
        try:
            engine_messages, (text, messages) = messages, _prompt(question)
        except ValueError:
            raise ValueError("'provenance.question' must be a string or a list of {role, content} messages") from None
    return {"prompt": text, "messages": messages, "engine_messages": engine_messages, "question": question,
            "chosen": chosen, "rejected": rejected,
            "annotator": annotator, "plugin": row.get("plugin") or provenance.get("plugin"),
            "chosen_model": row.get("chosen_model") or provenance.get("chosen_model") or "import",
            "rejected_model": row.get("rejected_model") or provenance.get("rejected_model") or "import"}


def read_preferences(path: Path) -> tuple[list[tuple[int, dict]], list[tuple[int, str]]]:
    """(line number, parsed row) for good lines and (line number, problem) for bad ones."""
    good, bad = [], []
    for number, line in enumerate(read_text(path).split("\n"), 1):  # see botkit.jsonl.parse_jsonl
        try:
            rows = parse_jsonl(line, path)
        except BotkitError:
            bad.append((number, "not a JSON object"))
            continue
        for row in rows:
            try:
                good.append((number, parse_preference(row)))
            except ValueError as exc:
                bad.append((number, str(exc)))
    return good, bad


def import_trl(store, path: Path, *, annotator: str = "import", keep_good: bool = False) -> dict:
    """Import a TRL preference file: each line becomes a pair judged by its `annotator` (else
    `annotator`). A file with bad lines imports nothing unless `keep_good`; all or nothing per file."""
    good, bad = read_preferences(path)
    if not good and not bad:
        raise BotkitError(f"{path} holds no preference pairs (one JSON object a line: prompt, chosen, rejected)")
    if bad and not keep_good:
        shown = "; ".join(f"line {n}: {why}" for n, why in bad[:5])
        shown += f"; and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise BotkitError(f"{path}: {len(bad)} malformed line(s), nothing imported ({shown}); "
                          "fix them or pass --keep-good to import the rest")
    names = set()
    with store.write():
        for _, row in good:
            name = store.add_annotator(row["annotator"] or annotator)
            names.add(name)
            common = {"plugin": row["plugin"], "messages": row["messages"], "origin": "import",
                      "engine_messages": row["engine_messages"]}
            # An exported row's completions are what the model wrote for the chat it saw.
            outputs = {side: row[side] if row["engine_messages"] else None for side in ("chosen", "rejected")}
            chosen = store.log_response(row["prompt"], row["chosen"], model=row["chosen_model"],
                                        output=outputs["chosen"], **common)
            rejected = store.log_response(row["prompt"], row["rejected"], model=row["rejected_model"],
                                          output=outputs["rejected"], **common)
            pair_id = store.add_pair(chosen, rejected, origin="import")
            verdict = "a" if store.pair(pair_id)["a_id"] == chosen else "b"
            store.record_comparison(pair_id, name, verdict)
    return {"pairs": len(good), "skipped": len(bad), "bad_lines": [n for n, _ in bad],
            "annotators": sorted(names), "path": str(path)}


def _since(value: str | None) -> str | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise BotkitError(
            f"--since expects a date or time like 2026-01-31 or 2026-01-31T09:00, not '{value}'") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).isoformat(timespec="seconds")


def majority(verdicts: list[str]) -> tuple[str | None, float]:
    """The most common verdict (None when the top is shared) and the share of annotators who gave it."""
    counts = Counter(verdicts).most_common()
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return None, counts[0][1] / len(verdicts)
    return counts[0][0], counts[0][1] / len(verdicts)


def export_trl(store, out_path: Path, *, ties: str = "skip", plugin: str | None = None, since: str | None = None,
               min_agreement: float = 0.0, test_fraction: float = 0.0, seed: int = 0, min_annotators: int = 1,
               include_flagged: bool = False, redact: bool | None = None, completion: str = "output",
               settings: FeedbackSettings | None = None) -> dict:
    """Write one `prompt`/`chosen`/`rejected` row per judged pair, with provenance. See the module docstring.
    `settings` (botkit's `feedback` settings) set the annotator thresholds and, when `redact` is None,
    whether PII is redacted; `completion` exports the model's `output`s or the `shown` texts."""
    from botkit.feedback.annotator_quality import flagged_annotators
    from botkit.feedback.redaction import Redactor

    settings = settings or FeedbackSettings()
    if ties == "include":
        raise BotkitError("TRL preference rows need a winner, so ties and both-bad pairs cannot be included; "
                          "they are skipped and counted (--ties skip)")
    if ties != "skip":
        raise BotkitError(f"--ties must be 'skip' (got '{ties}')")
    if not 0 <= min_agreement <= 1:
        raise BotkitError("--min-agreement is a share between 0 and 1")
    if completion not in COMPLETIONS:
        raise BotkitError(f"--completion must be one of {', '.join(COMPLETIONS)} (got '{completion}')")
    if not 0 <= test_fraction < 1:
        raise BotkitError("--test-fraction must be at least 0 and below 1")
    if not out_path.name.strip():
        raise BotkitError(f"'{out_path}' is not a file name: name the file to write, e.g. pairs.jsonl")
    since = _since(since)
    # Quality is judged on everything an annotator did, not only the pairs this export selects.
    flagged = {} if include_flagged else flagged_annotators(store.comparisons(), settings)
    by_pair: dict[int, list[dict]] = {}
    for c in store.comparisons(plugin=plugin):
        if since is None or c["updated_at"] >= since:
            by_pair.setdefault(c["pair_id"], []).append(c)
    skipped = Counter()
    redact = settings.redact_pii if redact is None else redact
    redactor = Redactor(settings.phone_region, settings.pii_keep) if redact else None
    rows = []
    for pair_id, judged in by_pair.items():
        if not (judged := [c for c in judged if c["annotator"] not in flagged]):
            skipped["flagged-annotators"] += 1
            continue
        verdict, agreement = majority([c["verdict"] for c in judged])
        reason = ("too-few-annotators" if len(judged) < min_annotators else "no-majority" if verdict is None
                  else "low-agreement" if agreement < min_agreement else verdict if verdict in ("tie", "both-bad")
                  else None)
        if reason:
            skipped[reason] += 1
            continue
        first, winners = judged[0], [c for c in judged if c["verdict"] == verdict]
        win, lose = ("a", "b") if verdict == "a" else ("b", "a")
        question = json.loads(first["messages"]) if first["messages"] else first["prompt"]
        prompt, saw = _prompt_seen(first, win, lose, question)
        texts = {side: _completion_seen(first, side, completion) for side in (win, lose)}
        as_completion = (lambda t: [{"role": "assistant", "content": t}]) if isinstance(prompt, list) else (lambda t: t)
        clean = redactor.value if redactor else (lambda value: value)
        chosen, rejected = clean(as_completion(texts[win][0])), clean(as_completion(texts[lose][0]))
        if chosen == rejected:
            # The shown answers differed only in PII, or only in what the checks made of one draft.
            shown_same = clean(first[f"{win}_text"]) == clean(first[f"{lose}_text"])
            skipped["identical-after-redaction" if shown_same else "identical-model-outputs"] += 1
            continue
        question = clean(question)
        rows.append({
            "prompt": question if saw == "question" else clean(prompt),
            "chosen": chosen,
            "rejected": rejected,
            "provenance": {"pair_id": pair_id, "annotators": [c["annotator"] for c in winners],
                           "judged_at": max(c["updated_at"] for c in winners), "agreement": round(agreement, 4),
                           "judgements": len(judged), "chosen_model": first[f"{win}_model"],
                           "rejected_model": first[f"{lose}_model"], "plugin": first["plugin"],
                           "question": question, "prompt_from": saw,
                           "chosen_from": texts[win][1], "rejected_from": texts[lose][1]},
        })
    # Split the rows as written (redacted), exactly as training reading this file would.
    train, test = split_by_prompt(rows, test_fraction, seed)
    splits = {"train": train, "test": test}
    test_path = out_path.with_name(f"{out_path.stem}.test{out_path.suffix or '.jsonl'}") if test_fraction else None
    _write_jsonl(out_path, splits["train"])
    if test_path:
        _write_jsonl(test_path, splits["test"])
    return {"train": len(splits["train"]), "test": len(splits["test"]),
            "skipped": {r: skipped[r] for r in SKIP_REASONS}, "path": str(out_path),
            "test_path": str(test_path) if test_path else None,
            "flagged_annotators": flagged, "redacted": dict(redactor.counts) if redactor else None}


def _prompt_seen(judged: dict, win: str, lose: str, question) -> tuple[object, str]:
    """(the prompt to export, where it came from): "engine-chat", the chat the engine saw for the
    winner (else for the loser, e.g. beside a canned reply); "engine-chat-of-chosen" when the loser
    was asked in another chat (two versions fitted different sources or examples); "question" for
    responses logged before the engine's chat was kept (exported as before)."""
    chats = {side: json.loads(judged[f"{side}_engine_messages"]) if judged[f"{side}_engine_messages"] else None
             for side in (win, lose)}
    if chats[win] is not None:
        return chats[win], "engine-chat" if chats[lose] in (None, chats[win]) else "engine-chat-of-chosen"
    if chats[lose] is not None:
        return chats[lose], "engine-chat"
    return question, "question"


def _completion_seen(judged: dict, side: str, completion: str) -> tuple[str, str]:
    """(a response's text to export, which it is): "model-output" (shown as written),
    "model-output-not-shown" (people saw another text, e.g. a quote of the sources), "shown-text" (the
    model wrote none: a canned reply, or logged before outputs were kept) or
    "shown-text-not-model-output" (`completion="shown"` where the two differ)."""
    output, shown = judged[f"{side}_output"], judged[f"{side}_text"]
    if output is None or not output.strip():
        return shown, "shown-text"
    same = output.strip() == shown.strip()
    if completion == "output":
        return output, "model-output" if same else "model-output-not-shown"
    return shown, "shown-text" if same else "shown-text-not-model-output"


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        tmp.replace(path)  # a reader never sees half a file
    except OSError as exc:  # a folder, a name too long, no permission: the user's to fix
        raise BotkitError(f"cannot write {path}: {exc.strerror}") from None
