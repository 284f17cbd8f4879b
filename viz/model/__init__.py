"""The model layer: the only package that imports torch and transformers."""

from viz.model.forward import analyze
from viz.model.loading import LoadedModel, ModelLoadError, load_model
from viz.model.qkv import attention_qkv
from viz.model.registry import BUNDLED, DEFAULT_MODEL, ModelSpec, resolve_model

__all__ = [
    "BUNDLED",
    "DEFAULT_MODEL",
    "LoadedModel",
    "ModelLoadError",
    "ModelSpec",
    "analyze",
    "attention_qkv",
    "load_model",
    "resolve_model",
]
