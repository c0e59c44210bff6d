"""The one exception type a user sees: its message is a complete, actionable sentence; and the one
way a pydantic validation error becomes such a sentence."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError


class BotkitError(Exception):
    """A mistake the user can fix (bad input, missing file, unknown model...).

    The CLI prints it as one line and exits with status 1; the Python API lets it propagate.
    """


def validation_message(exc: ValidationError, what: str, allowed: Iterable[str] = (), of: str = "") -> str:
    """The first problem of a pydantic error as one line: `unknown {what} 'x' [for OF] ({what}s: ...)` for
    a field the model forbids, else `bad {what} x [for OF]: why`."""
    first = exc.errors()[0]
    where = ".".join(map(str, first["loc"])) or "value"
    owner = f" for {of}" if of else ""
    if first["type"] == "extra_forbidden":
        names = ", ".join(allowed)
        return f"unknown {what} '{where}'{owner}" + (f" ({what}s: {names})" if names else "")
    return f"bad {what} {where}{owner}: {first['msg']}"
