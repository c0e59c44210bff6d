"""Reading JSONL files the way users need: every malformed line named by its number, or nothing."""

from __future__ import annotations

import json
from pathlib import Path

from botkit.errors import BotkitError


def parse_jsonl(text: str, source: Path | str, required: tuple[str, ...] = ()) -> list[dict]:
    """The objects in `text`, one per non-blank line; raises BotkitError naming the bad lines."""
    rows, bad = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            bad.append(number)
            continue
        if not isinstance(row, dict) or any(k not in row for k in required):
            bad.append(number)
            continue
        rows.append(row)
    if bad:
        needs = f" (each line must be a JSON object with {', '.join(required)})" if required else ""
        shown = ", ".join(map(str, bad[:10])) + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
        raise BotkitError(f"{source}: malformed JSON on line(s) {shown}{needs}")
    return rows


def read_jsonl(path: Path, required: tuple[str, ...] = ()) -> list[dict]:
    if not path.exists():
        raise BotkitError(f"{path}: no such file")
    return parse_jsonl(path.read_text(encoding="utf-8"), path, required)
