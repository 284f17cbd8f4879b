"""Figures of "Compare with an edit": one head's attention difference on aligned tokens, the next-token shift and a
word's cosine curves before and after the edit.

Shapes: C aligned columns, N compared tokens, L layers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from viz.figures.attention import CLEAR, HOVER_TEXT_LIMIT, MASKED_COLOUR
from viz.figures.common import DIVERGING, hover_labels, marker_symbol, token_axis, visible
from viz.figures.similarity import group_colour

BEFORE_COLOUR = "#BBBBBB"  # grey: the original text
AFTER_COLOUR = "#EE7733"  # orange: the edited text (Tol's colour-blind-safe palette)


def difference_heatmap(*, difference: np.ndarray, labels: Sequence[str], title: str) -> go.Figure:
    """Edited − original weights (C, C), queries down, keys across, red = more attention after the edit, blue = less,
    white = unchanged; NaN cells (no query on one side, or a decoder's later token) grey."""
    n = len(labels)
    z = np.asarray(difference, dtype=np.float32)
    finite = z[np.isfinite(z)]
    reach = float(np.abs(finite).max()) if finite.size else 0.0
    reach = reach if reach > 0 else 1e-6  # a zero difference still needs a scale centred on 0
    heatmap = {"z": z, "x": np.arange(n), "y": np.arange(n), "colorscale": DIVERGING, "reversescale": True,
               "zmid": 0.0, "zmin": -reach, "zmax": reach, "hoverongaps": False,
               "colorbar": {"title": "edited − original", "thickness": 12}}
    if n <= HOVER_TEXT_LIMIT:
        names = hover_labels(labels)
        heatmap["text"] = [[f"query {names[i]} → key {names[j]}" for j in range(n)] for i in range(n)]
        heatmap["hovertemplate"] = "%{text}<br>edited − original %{z:+.4f}<extra></extra>"
    else:
        heatmap["hovertemplate"] = "query %{y} → key %{x}<br>edited − original %{z:+.4f}<extra></extra>"
    figure = go.Figure(go.Heatmap(**heatmap))
    figure.update_layout(title=title, height=int(min(900, max(520, 200 + 24 * n))),
                         plot_bgcolor=MASKED_COLOUR if np.isnan(z).any() else CLEAR,
                         margin={"t": 50, "b": 40, "l": 10, "r": 10})
    figure.update_xaxes(**token_axis(labels, max_labels=64), title="key (attended to)", tickangle=-60,
                        showgrid=False, constrain="domain")
    figure.update_yaxes(**token_axis(labels, max_labels=64), title="query (attending)", autorange="reversed",
                        showgrid=False, scaleanchor="x", constrain="domain")
    return figure


def shift_bars(*, labels: Sequence[str], before: Sequence[float], after: Sequence[float], title: str) -> go.Figure:
    """Each compared token's probability before (grey) and after (orange) the edit, most probable before on top."""
    names = [visible(label) for label in labels]
    figure = go.Figure()
    for name, values, colour in (("original", before, BEFORE_COLOUR), ("edited", after, AFTER_COLOUR)):
        values = np.asarray(values, dtype=float)
        figure.add_trace(go.Bar(
            x=values, y=list(range(len(names))), orientation="h", name=name, marker_color=colour,
            text=[f"{v:.1%}" for v in values], textposition="outside", cliponaxis=False, customdata=names,
            hovertemplate=f"%{{customdata}}<br>{name}: %{{x:.2%}}<extra></extra>"))
    top = max([0.0, *before, *after])
    figure.update_layout(
        title=title, barmode="group", height=max(300, 48 * len(names) + 120),
        margin={"t": 50, "b": 40, "l": 10, "r": 40}, legend={"orientation": "h", "y": -0.15},
        xaxis={"title": "probability (temperature 1)", "tickformat": ".0%", "range": [0, min(1.0, top * 1.25 + 0.02)]},
        yaxis={"tickmode": "array", "tickvals": list(range(len(names))), "ticktext": names, "autorange": "reversed",
               "automargin": True})
    return figure


def sense_lines(*, curves: Mapping[str, Sequence[float]], edited: Mapping[str, bool], groups: Mapping[str, int],
                title: str) -> go.Figure:
    """Cosine by layer, one line per named curve: solid before the edit, dashed after, one colour per group."""
    figure = go.Figure()
    for index, (name, values) in enumerate(curves.items()):
        values = np.asarray(values, dtype=float)
        figure.add_trace(go.Scatter(
            x=list(range(len(values))), y=values, mode="lines+markers", name=name,
            line={"color": group_colour(groups[name]), "width": 3, "dash": "dash" if edited[name] else "solid"},
            marker={"symbol": marker_symbol(index), "size": 8},
            hovertemplate=f"{name}<br>layer %{{x}}: %{{y:.3f}}<extra></extra>"))
    n_layers = max((len(values) for values in curves.values()), default=1)
    figure.update_layout(
        title=title, height=440, margin={"t": 60, "b": 10}, hovermode="x unified",
        xaxis={"title": "layer (0 = input embeddings)", "dtick": 1 if n_layers <= 16 else 2},
        yaxis={"title": "cosine similarity"}, legend={"orientation": "h", "y": -0.2})
    return figure
