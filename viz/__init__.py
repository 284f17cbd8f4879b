"""Attention-visualization core: model layer, analysis type, pure computations and figure builders."""

__version__ = "0.1.0"
