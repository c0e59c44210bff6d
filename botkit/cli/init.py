"""`botkit init`: your own brand profile (name, voice, contact, don't-know line) in BOTKIT_HOME, asked
interactively or taken from flags, so answers speak for your brand from the first minute."""

from __future__ import annotations

from typing import Optional

import typer

from botkit.cli.output import JSON, console, print_json, warn
from botkit.errors import BotkitError

DEFAULT_VOICE = "friendly, clear, concise"


def init(
    name: Optional[str] = typer.Option(None, help="Your brand's name, as customers know it."),
    voice: Optional[str] = typer.Option(None, help=f"Tone words, comma-separated (default: {DEFAULT_VOICE})."),
    contact: Optional[str] = typer.Option(None, help="Where customers reach a person: an email, a phone, a page."),
    dont_know: Optional[str] = typer.Option(
        None, "--dont-know", help="What the bot says when the documents do not answer (default: from --contact)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Ask nothing: take the flags and the defaults."),
    force: bool = typer.Option(False, "--force", help="Replace an existing profile."),
    json_out: bool = JSON,
):
    """Create your brand profile in BOTKIT_HOME: without one, answers come from a generic assistant."""
    from botkit.config import load_settings
    from botkit.prompting.brand import PROFILE_NAME, new_brand, save_brand

    settings = load_settings()
    path = settings.home / PROFILE_NAME
    if path.exists() and not force:  # before any question: nobody should answer four prompts for nothing
        raise BotkitError(f"{path} already exists: pass --force to replace it")
    if yes and not name:
        raise BotkitError("--yes needs --name")
    if not yes:  # questions on stderr: stdout is the result (--json)
        name = name or typer.prompt("Brand name", err=True)
        voice = voice or typer.prompt("Voice (tone words, comma-separated)", default=DEFAULT_VOICE, err=True)
        contact = contact if contact is not None else typer.prompt(
            "Where customers reach a person (email, phone or page)", default="", show_default=False, err=True)
        suggested = new_brand(name, contact).dont_know
        dont_know = dont_know or typer.prompt("What to say when the documents do not answer", default=suggested,
                                               err=True)
    profile = new_brand(name, contact or "", (voice or DEFAULT_VOICE).split(","), dont_know or "")
    save_brand(profile, path, force=force)
    if json_out:
        print_json({"path": str(path), "profile": profile.model_dump()})
        return
    console.print(f"Wrote {path}: answers now speak as {profile.name}. Edit it to add a tagline, your audience, "
                  "words to use and avoid, and sample copy.", highlight=False, markup=False)
    if settings.brand:
        warn(f"the configured brand ({settings.brand}) still wins over it: remove `brand` from your config to use it")
