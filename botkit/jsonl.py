"""Reading JSONL files the way users need: every malformed line named by its number, or nothing."""

from __future__ import annotations

import json
from pathlib import Path

from botkit.errors import BotkitError


def parse_jsonl(text: str, source: Path | str, required: tuple[str, ...] = ()) -> list[dict]:
    """The objects in `text`, one per non-blank line; raises BotkitError naming the bad lines."""
    rows, bad = [], []
    # split("\n"), not splitlines(): JSON strings may hold U+2028, U+0085... raw, and those end no JSONL line.
    for number, line in enumerate(text.split("\n"), 1):
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


def read_text(path: Path) -> str:
    """A UTF-8 text file's contents; a missing file, a folder or another encoding is a BotkitError
    naming the file (and the line of the first byte that is not UTF-8)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BotkitError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BotkitError(f"{path} is a folder: give a file") from None
    except OSError as exc:
        raise BotkitError(f"{path}: cannot read it ({exc.strerror})") from None
    try:
        return data.decode("utf-8-sig")  # a byte-order mark (Excel, Notepad) is not part of the first line
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise BotkitError(f"{path} is not UTF-8 text (byte {exc.start} on line {line}): save it as UTF-8") from None


def read_jsonl(path: Path, required: tuple[str, ...] = ()) -> list[dict]:
    return parse_jsonl(read_text(path), path, required)
