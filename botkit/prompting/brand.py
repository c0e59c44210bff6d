"""The brand profile: a YAML file (name, voice, audience, words to use/avoid, sample copy, contact,
don't-know line) that becomes the system prompt, and which profile a home answers with."""

from __future__ import annotations

import functools
import hashlib
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from botkit.errors import BotkitError, validation_message

# What a home without a brand profile answers as, when its documents are not the sample's: never the
# sample brand, whose don't-know line would send the user's customers to Kettlebrook.
GENERIC_BRAND = Path(__file__).with_name("generic_brand.yaml")
PROFILE_NAME = "brand.yaml"  # `botkit init` writes it into BOTKIT_HOME


def sample_brand_dir() -> Path:
    """The fictional sample brand shipped with botkit (examples/kettlebrook)."""
    return Path(str(resources.files("botkit.examples"))) / "kettlebrook"


class BrandProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    tagline: str = ""
    voice: list[str] = Field(default_factory=list)
    audience: str = ""
    words_to_use: list[str] = Field(default_factory=list)
    words_to_avoid: list[str] = Field(default_factory=list)
    sample_copy: list[str] = Field(default_factory=list)
    contact: str = ""  # where customers reach a person (an email address, a phone number, a page)
    dont_know: str = "I'm sorry, I don't know that. Please contact our support team."

    def system_prompt(self) -> str:
        # Short on purpose: a 135M model follows two clear sentences better than a page of rules.
        lines = [f"You are the customer assistant of {self.name}."]
        if self.voice:
            lines.append(f"Your tone is {', '.join(self.voice)}.")
        if self.audience:
            lines.append(f"You talk to {self.audience.rstrip('.')}.")
        if self.words_to_avoid:
            lines.append(f"Never use the words: {', '.join(self.words_to_avoid)}.")
        return " ".join(lines)


def load_brand(path: Path | None = None) -> BrandProfile:
    """Load a brand profile; a directory means its brand.yaml; None means the sample brand."""
    path = Path(path) if path else sample_brand_dir() / "brand.yaml"
    if path.is_dir():
        path = path / "brand.yaml"
    if not path.exists():
        raise BotkitError(f"brand profile {path} not found")
    try:
        data = yaml.safe_load(path.read_text())
        return BrandProfile.model_validate(data)
    except yaml.YAMLError as exc:
        raise BotkitError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    except ValidationError as exc:
        raise BotkitError(f"{path}: {validation_message(exc, 'field', BrandProfile.model_fields)}") from None


@functools.cache
def _sample_document_hashes() -> frozenset[str]:
    return frozenset(hashlib.sha256(p.read_bytes()).hexdigest()
                     for p in (sample_brand_dir() / "knowledge").iterdir() if p.is_file())


def knowledge_is_sample(db) -> bool:
    """Does the knowledge base hold the sample brand's documents and nothing else (copies count)?"""
    hashes = {row["sha256"] for row in db.query("select sha256 from knowledge_files")}
    return bool(hashes) and hashes <= _sample_document_hashes()


def chosen_brand(settings, db) -> Path:
    """The brand profile a home answers with: the configured `brand`, else BOTKIT_HOME/brand.yaml
    (`botkit init`), else the sample brand when the knowledge base is the sample's documents, else a
    generic assistant with a generic don't-know line."""
    if settings.brand:
        return settings.brand
    if (settings.home / PROFILE_NAME).exists():
        return settings.home / PROFILE_NAME
    return sample_brand_dir() / PROFILE_NAME if knowledge_is_sample(db) else GENERIC_BRAND


def new_brand(name: str, contact: str = "", voice: list[str] | None = None, dont_know: str = "") -> BrandProfile:
    """A profile from what `botkit init` asks; the don't-know line sends customers to `contact`."""
    if not name.strip():
        raise BotkitError("the brand needs a name")
    if not dont_know.strip():
        reach = f"contact us at {contact.strip()}" if contact.strip() else "contact our support team"
        dont_know = f"I'm sorry, I don't know that. Please {reach} and a person will help."
    return BrandProfile(name=name.strip(), contact=contact.strip(), dont_know=dont_know.strip(),
                        voice=[v.strip() for v in voice or [] if v.strip()])


def save_brand(profile: BrandProfile, path: Path, force: bool = False) -> Path:
    """Write `profile` as YAML (every field, so the rest are there to fill in); never over a profile
    unless `force`."""
    if path.exists() and not force:
        raise BotkitError(f"{path} already exists: pass --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Your brand profile: the system prompt and the don't-know line of every answer (botkit init).\n"
    path.write_text(header + yaml.safe_dump(profile.model_dump(), sort_keys=False, allow_unicode=True))
    return path
