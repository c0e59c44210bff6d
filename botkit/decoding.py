"""Decoding options, selectable per call and per config; one pydantic model so typos are errors."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DecodingOptions(BaseModel):
    """How to pick tokens. `strategy` chooses greedy, beam search or sampling."""

    model_config = ConfigDict(extra="forbid")

    strategy: Literal["greedy", "beam", "sample"] = "greedy"
    max_new_tokens: int = Field(96, ge=1, le=8192)
    num_beams: int = Field(4, ge=1, le=32, description="Beams for strategy=beam.")
    temperature: float = Field(0.7, gt=0, le=5)
    top_k: int = Field(50, ge=0, description="0 disables top-k filtering.")
    top_p: float = Field(0.95, gt=0, le=1, description="Nucleus sampling mass.")
    repetition_penalty: float = Field(1.1, ge=1, le=3)
    stop: list[str] = Field(default_factory=list, description="Generation ends at the first of these strings.")
    seed: int | None = Field(None, description="Makes sampling reproducible.")

    def merged(self, **changes) -> DecodingOptions:
        """A copy with `changes` applied and validated (unknown names raise)."""
        return DecodingOptions.model_validate({**self.model_dump(), **changes})

    def generate_kwargs(self) -> dict:
        """The transformers `generate()` arguments these options stand for."""
        kwargs = {"max_new_tokens": self.max_new_tokens, "repetition_penalty": self.repetition_penalty}
        if self.strategy == "sample":
            kwargs.update(do_sample=True, temperature=self.temperature, top_k=self.top_k, top_p=self.top_p)
        else:
            kwargs.update(do_sample=False, num_beams=self.num_beams if self.strategy == "beam" else 1)
        if self.stop:
            kwargs["stop_strings"] = list(self.stop)
        return kwargs
