"""The one exception type a user sees: its message is a complete, actionable sentence."""


class BotkitError(Exception):
    """A mistake the user can fix (bad input, missing file, unknown model...).

    The CLI prints it as one line and exits with status 1; the Python API lets it propagate.
    """
