"""Figures for cosine similarity: token x token heatmaps, labelled word heatmaps, per-layer line charts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from viz.figures.common import MAP_AXIS_LABELS, SEQUENTIAL, hover_labels, marker_symbol, token_axis

# Okabe-Ito colour-blind-safe palette, strongest colours first (yellow last: weak on white), one per sentence/sense.
HOVER_TEXT_CELLS = 128 * 128
GROUP_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#555555", "#F0E442")


def group_colour(index: int) -> str:
    return GROUP_COLOURS[index % len(GROUP_COLOURS)]


def cosine_heatmap(*, matrix: np.ndarray, row_tokens: Sequence[str], col_tokens: Sequence[str], title: str,
                   row_title: str = "", col_title: str = "", zmin: float | None = None,
                   zmax: float = 1.0) -> go.Figure:
    """Cosine similarity of rows against columns (R, C) on integer positions labelled with token text."""
    matrix = np.asarray(matrix)
    figure = go.Figure(go.Heatmap(
        z=matrix.astype(np.float32),  # half the bytes of float64 to the browser; hover shows 3 decimals
        x=list(range(matrix.shape[1])), y=list(range(matrix.shape[0])), colorscale=SEQUENTIAL,
        zmin=float(min(0.0, matrix.min())) if zmin is None else zmin, zmax=zmax,
        colorbar={"title": {"text": "cosine"}}, **_cell_hover(row_tokens, col_tokens),
    ))
    side = max(360, min(900, 28 * max(matrix.shape) + 160))
    figure.update_layout(
        title=title, height=side, margin={"t": 60, "l": 10, "r": 10, "b": 10},
        xaxis={**token_axis(col_tokens, max_labels=MAP_AXIS_LABELS), "title": col_title, "side": "bottom",
               "tickangle": -45},
        yaxis={**token_axis(row_tokens, max_labels=MAP_AXIS_LABELS), "title": row_title, "autorange": "reversed"},
    )
    return figure


def _cell_hover(row_tokens: Sequence[str], col_tokens: Sequence[str]) -> dict:
    """Token text on hover for every cell; positions only on long inputs, where one string per cell is megabytes."""
    if len(row_tokens) * len(col_tokens) > HOVER_TEXT_CELLS:
        return {"hovertemplate": "row %{y}, column %{x}<br>cosine %{z:.3f}<extra></extra>"}
    rows, cols = hover_labels(row_tokens), hover_labels(col_tokens)
    return {"text": [[f"{row}<br>{col}" for col in cols] for row in rows],
            "hovertemplate": "%{text}<br>cosine %{z:.3f}<extra></extra>"}


def labelled_heatmap(*, labels: Sequence[str], matrix: np.ndarray, title: str, digits: int = 4) -> go.Figure:
    """A small square cosine matrix between named items, each cell printed with its value."""
    matrix = np.asarray(matrix)
    positions = list(range(len(labels)))
    figure = go.Figure(go.Heatmap(
        z=matrix, x=positions, y=positions, colorscale=SEQUENTIAL, zmin=float(min(0.0, matrix.min())), zmax=1.0,
        texttemplate=f"%{{z:.{digits}f}}", hovertemplate="%{z:.4f}<extra></extra>",
        colorbar={"title": {"text": "cosine"}},
    ))
    axis = {"tickmode": "array", "tickvals": positions, "ticktext": list(labels), "automargin": True}
    figure.update_layout(title=title, height=max(300, 60 * len(labels) + 120), margin={"t": 60, "b": 10},
                         xaxis=axis, yaxis={**axis, "autorange": "reversed"})
    return figure


def layer_lines(*, series: Mapping[str, Sequence[float]], title: str, y_title: str = "cosine similarity",
                marked_layer: int | None = None, y_range: tuple[float, float] | None = None,
                colours: Mapping[str, str] | None = None) -> go.Figure:
    """One line per named series over layers 0 … L, values printed on hover; an optional marked layer."""
    figure = go.Figure()
    for index, (name, values) in enumerate(series.items()):
        values = np.asarray(values, dtype=float)
        figure.add_trace(go.Scatter(
            x=list(range(len(values))), y=values, mode="lines+markers", name=name,
            line={"color": (colours or {}).get(name, group_colour(index + 1)), "width": 3},
            marker={"symbol": marker_symbol(index), "size": 9},  # shape as well as colour tells lines apart
            hovertemplate=f"{name}<br>layer %{{x}}: %{{y:.3f}}<extra></extra>",
        ))
    if marked_layer is not None:
        figure.add_vline(x=marked_layer, line={"dash": "dot", "color": "grey"})
    figure.update_layout(
        title=title, height=420, margin={"t": 60, "b": 10}, hovermode="x unified",
        xaxis={"title": "layer (0 = input embeddings)", "dtick": 1 if len(values) <= 16 else 2},
        yaxis={"title": y_title, **({"range": list(y_range)} if y_range else {})},
        legend={"orientation": "h", "y": -0.2},
    )
    return figure
