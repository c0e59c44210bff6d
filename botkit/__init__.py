"""botkit: a plugin-based brand chatbot framework with grounded answers and a human-feedback loop."""

from botkit.config import Settings, load_settings
from botkit.decoding import DecodingOptions
from botkit.errors import BotkitError
from botkit.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["Bot", "BotkitError", "DecodingOptions", "Reply", "Settings", "hookimpl", "load_settings"]


def __getattr__(name):
    # Bot pulls in heavier imports; load it only when asked for.
    if name in {"Bot", "Reply"}:
        from botkit import dialogue

        return getattr(dialogue, name)
    raise AttributeError(name)
