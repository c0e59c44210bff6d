"""Model loading and the generation engine seam."""

from botkit.models.engine import Engine, Generation, TransformersEngine
from botkit.models.loading import load_engine

__all__ = ["Engine", "Generation", "TransformersEngine", "load_engine"]
