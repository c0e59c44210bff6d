"""The brand profile: a YAML file (name, voice, audience, words to use/avoid, sample copy) that
becomes the system prompt."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from botkit.errors import BotkitError, validation_message


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
