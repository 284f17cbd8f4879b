"""Figures for the tokens page: one-hot rows drawn sparsely, dense embedding rows, one vector as bars."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from viz.figures.common import DIVERGING, NEGATIVE_COLOUR, POSITIVE_COLOUR, hover_labels, token_axis

HOVER_TEXT_CELLS = 32 * 768


def one_hot_figure(*, tokens: Sequence[str], token_ids: Sequence[int], vocab_size: int) -> go.Figure:
    """Each token's one-hot row over the whole vocabulary (0 … V-1), drawn as its single 1; the zeros stay blank."""
    labels = hover_labels(tokens)
    rows = list(range(len(tokens)))
    figure = go.Figure(go.Scatter(
        x=[int(i) for i in token_ids], y=rows, mode="markers", marker={"symbol": "line-ns-open", "size": 16,
                                                                         "line": {"width": 3}, "color": "#332288"},
        customdata=labels, hovertemplate="%{customdata}<br>1 at column %{x:,} — all other %{meta:,} entries are 0"
                                         "<extra></extra>", meta=vocab_size - 1, name="the single 1",
    ))
    figure.update_layout(
        title=f"One-hot: each row has {vocab_size:,} columns and a single 1",
        height=max(260, 22 * len(tokens) + 140), margin={"t": 60, "b": 10}, showlegend=False,
        xaxis={"title": "column = token id (vocabulary position)", "range": [-vocab_size * 0.01, vocab_size * 1.01],
               "tickformat": ",d"},
        yaxis={**token_axis(tokens), "autorange": "reversed", "range": None},
    )
    return figure


def dense_rows_figure(*, tokens: Sequence[str], rows: np.ndarray, title: str) -> go.Figure:
    """The dense embedding rows (T, D) as a heatmap: every one of the D numbers is used."""
    rows = np.asarray(rows)
    # clip at the 99th percentile: a few large numbers would otherwise wash out all the others
    limit = float(np.percentile(np.abs(rows), 99)) if rows.size else 1.0
    limit = limit or 1.0
    if rows.size <= HOVER_TEXT_CELLS:
        labels = hover_labels(tokens)
        hover = {"customdata": [[label] * rows.shape[1] for label in labels],
                 "hovertemplate": "%{customdata}<br>dimension %{x}: %{z:.4f}<extra></extra>"}
    else:  # one string per cell would be megabytes on long inputs
        hover = {"hovertemplate": "token %{y}, dimension %{x}: %{z:.4f}<extra></extra>"}
    figure = go.Figure(go.Heatmap(
        z=rows, x=list(range(rows.shape[1])), y=list(range(rows.shape[0])), colorscale=DIVERGING, reversescale=True,
        zmid=0, zmin=-limit, zmax=limit, **hover,
    ))
    figure.update_layout(
        title=title, height=max(260, 22 * len(tokens) + 140), margin={"t": 60, "b": 10},
        xaxis={"title": f"dimension (0 … {rows.shape[1] - 1})"},
        yaxis={**token_axis(tokens), "autorange": "reversed"},
    )
    return figure


def vector_bars(*, vector: np.ndarray, title: str) -> go.Figure:
    """One embedding vector (D,) as D bars, positive and negative coloured apart."""
    vector = np.asarray(vector, dtype=float)
    colours = np.where(vector >= 0, POSITIVE_COLOUR, NEGATIVE_COLOUR)  # red / blue, as in every heatmap
    figure = go.Figure(go.Bar(x=list(range(len(vector))), y=vector, marker={"color": colours, "line": {"width": 0}},
                              hovertemplate="dimension %{x}: %{y:.4f}<extra></extra>"))
    figure.update_layout(title=title, height=320, margin={"t": 60, "b": 10}, bargap=0,
                         xaxis={"title": f"dimension (0 … {len(vector) - 1})"}, yaxis={"title": "value"})
    return figure
