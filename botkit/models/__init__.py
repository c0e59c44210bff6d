"""Model loading and the generation engine seam."""

from botkit.models.engine import Engine, Generation
from botkit.models.loading import load_engine
from botkit.models.transformers_engine import TransformersEngine

__all__ = ["Engine", "Generation", "TransformersEngine", "load_engine"]
