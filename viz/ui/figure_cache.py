"""Figures shared by every session: built once per key, kept read-only in a bytes-bounded cache.

A figure that depends only on a few plain inputs is built once for everyone and for every rerun: the sinusoid
table of a model's width, the toy vectors, the default words' embedding rows, the one-hot and dense rows of a text,
the PCA animation of a set of sentences. Building plotly figures is most of a page's own server time (py-spy, bench/
page_cost.py), and a slider that does not change a figure's inputs need not rebuild it. st.plotly_chart only reads a
figure (it serialises a copy); export.chart() copies one before presentation mode enlarges its text. Callers put
everything the figure depends on into its key. Budget in MB = 10^6 bytes (ATTNVIZ_FIGURES_CACHE_MB).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from viz.analysis import Analysis
from viz.cache import BytesLRU

FIGURES_MB = int(os.environ.get("ATTNVIZ_FIGURES_CACHE_MB", "30"))


def figure_bytes(figure: go.Figure) -> int:
    """About the bytes a figure holds: its arrays and lists of numbers or text, in traces, layout and frames."""
    def size(value) -> int:
        if isinstance(value, np.ndarray):
            return int(value.nbytes)
        if isinstance(value, dict):
            return sum(size(item) for item in value.values()) + 64
        if isinstance(value, list | tuple):
            return sum(size(item) for item in value) + 8 * len(value)
        if isinstance(value, str):
            return len(value) + 48
        return 16
    frames = [frame._props for frame in figure.frames]  # noqa: SLF001 (plotly's own dicts, read only, no copy)
    return 1024 + size(figure._data) + size(figure._layout) + size(frames)  # noqa: SLF001


@st.cache_resource(show_spinner=False)
def _figures() -> BytesLRU[go.Figure]:
    return BytesLRU(FIGURES_MB * 10**6, size_of=figure_bytes)


def shared_figure(key: tuple, build: Callable[[], go.Figure]) -> go.Figure:
    """build() once per key for every session; the figure returned must not be changed (export.chart copies it)."""
    return _figures().get_or_compute(key, build)


def text_key(analysis: Analysis) -> tuple:
    """What an analysis depends on, for a figure key."""
    return analysis.model.key, analysis.text, analysis.text_pair or "", analysis.n_tokens
