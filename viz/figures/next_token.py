"""Figures for the Next-token page: probability bars with the top-k/top-p cut, token rows shaded by a value
(generation history, attention of the newest position), and the logit-lens grid."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from viz.figures.common import SEQUENTIAL, plotly_label, plotly_text, visible
from viz.sampling import Distribution, share_outside

KEPT_COLOUR = "#4477AA"  # blue (Tol's colour-blind-safe palette), readable on light and dark themes
CUT_COLOUR = "#BBBBBB"  # grey: filtered out by top-k / top-p
CHOSEN_COLOUR = "#EE7733"  # orange outline: the token that was actually chosen
CUT_LINE_COLOUR = "#CC3311"  # red dashed line: where top-k / top-p cut
CELL_CHARACTERS = 10


def _short(label: str, limit: int = CELL_CHARACTERS) -> str:
    text = visible(label)
    return plotly_text(text if len(text) <= limit else text[: limit - 1] + "…")


def probability_bars(dist: Distribution, *, token_ids: Sequence[int], labels: Sequence[str],
                     top_k: int | None = None, top_p: float = 1.0, chosen_id: int | None = None) -> go.Figure:
    """Horizontal bars of the shown tokens' probabilities (most probable on top), greyed where top-k/top-p cut
    them, a line at each cut, and a last bar with the probability of every other token."""
    ids = np.asarray(token_ids, dtype=int)
    shown = len(ids)
    probabilities = dist.probabilities[ids]
    kept = dist.kept[ids]
    rest = share_outside(dist.probabilities, ids)
    ranks = [int((dist.probabilities > dist.probabilities[i]).sum()) + 1 for i in ids]  # a chosen token may rank low
    names = [f"{rank}. {plotly_label(label)}" for rank, label in zip(ranks, labels, strict=True)]
    names.append(f"rest: {dist.probabilities.shape[0] - shown:,} other tokens")
    colours = [KEPT_COLOUR if keep else CUT_COLOUR for keep in kept] + ["#DDDDDD"]
    outlines = [3 if int(i) == chosen_id else 0 for i in ids] + [0]
    status = ["kept" if keep else "cut" for keep in kept]
    custom = [[name, float(logit), float(after), state] for name, logit, after, state in
              zip(names, dist.logits[ids], dist.sampling[ids], status, strict=False)] + [[names[-1], 0.0, 0.0, ""]]
    figure = go.Figure(go.Bar(
        x=np.append(probabilities, rest), y=list(range(shown + 1)), orientation="h",
        marker={"color": colours, "line": {"color": CHOSEN_COLOUR, "width": outlines}},
        text=[f"{p:.1%}" for p in np.append(probabilities, rest)], textposition="outside", cliponaxis=False,
        customdata=custom, hovertemplate=[_hover(i == shown) for i in range(shown + 1)],
    ))
    for position, text in _cuts(dist, ids, top_k, top_p):
        figure.add_hline(y=position - 0.5, line={"color": CUT_LINE_COLOUR, "dash": "dash", "width": 2},
                         annotation_text=text, annotation_position="bottom right",
                         annotation_font={"color": CUT_LINE_COLOUR})
    figure.update_layout(
        height=max(280, 30 * (shown + 1) + 90), margin={"t": 40, "b": 40, "l": 10, "r": 40},
        title=f"Next token at temperature {dist.temperature:g}", showlegend=False,
        xaxis={"title": "probability", "tickformat": ".0%",
               "range": [0, min(1.0, float(np.append(probabilities, rest).max()) * 1.2 + 0.02)]},
        yaxis={"tickmode": "array", "tickvals": list(range(shown + 1)), "ticktext": names,
               "autorange": "reversed", "automargin": True},
    )
    return figure


def _hover(rest: bool) -> str:
    if rest:
        return "%{customdata[0]}<br>their total probability %{x:.4f}<extra></extra>"
    return ("%{customdata[0]}<br>probability %{x:.4f}<br>logit %{customdata[1]:.3f}"
            "<br>after top-k/top-p %{customdata[2]:.4f} (%{customdata[3]})<extra></extra>")


def _cuts(dist: Distribution, ids: np.ndarray, top_k: int | None, top_p: float) -> list[tuple[int, str]]:
    """Where the top-k and top-p cuts fall among the shown bars, as (bars above the cut, label)."""
    cuts = []
    by_k = int(dist.kept_by_top_k[ids].sum())
    if top_k and by_k < len(ids):
        cuts.append((by_k, f"top-k = {top_k} cut"))
    kept = int(dist.kept[ids].sum())
    if top_p < 1.0 and kept < min(by_k, len(ids)):
        cuts.append((kept, f"top-p = {top_p:g} cut"))
    return cuts


def token_cells(*, labels: Sequence[str], values: np.ndarray, positions: Sequence[int] | None = None,
                value_name: str, title: str, per_row: int = 12, zmax: float | None = None,
                marked: int | None = None) -> go.Figure:
    """Tokens laid out left to right in rows of `per_row` cells, each coloured by its value (T,)."""
    values = np.asarray(values, dtype=float)
    count = len(labels)
    positions = list(range(count)) if positions is None else list(positions)
    rows = max(1, -(-count // per_row))
    grid = np.full((rows, per_row), np.nan)
    text = np.full((rows, per_row), "", dtype=object)
    hover = np.full((rows, per_row), "", dtype=object)
    for i in range(count):
        row, column = divmod(i, per_row)
        grid[row, column] = values[i]
        text[row, column] = ("▶" if i == marked else "") + _short(labels[i])
        hover[row, column] = f"position {positions[i]}: {plotly_label(labels[i])}<br>{value_name} {values[i]:.3f}"
    figure = go.Figure(go.Heatmap(
        z=grid, text=text, texttemplate="%{text}", customdata=hover, hovertemplate="%{customdata}<extra></extra>",
        colorscale=SEQUENTIAL, zmin=0, zmax=zmax if zmax is not None else max(float(values.max(initial=0)), 1e-6),
        xgap=2, ygap=2, colorbar={"title": {"text": value_name, "side": "right"}, "orientation": "h", "thickness": 10,
                                  "len": 0.3, "x": 1, "xanchor": "right", "y": 0, "yanchor": "top", "ypad": 4},
    ))
    figure.update_layout(
        title=title, height=110 + 42 * rows, margin={"t": 40, "b": 60, "l": 10, "r": 10},
        xaxis={"visible": False}, yaxis={"visible": False, "autorange": "reversed"},
    )
    return figure


def top_bars(*, labels: Sequence[str], probabilities: np.ndarray, title: str) -> go.Figure:
    """A few candidate tokens as horizontal bars, most probable on top."""
    probabilities = np.asarray(probabilities, dtype=float)
    figure = go.Figure(go.Bar(
        x=probabilities, y=list(range(len(labels))), orientation="h", marker={"color": KEPT_COLOUR},
        text=[f"{p:.1%}" for p in probabilities], textposition="outside", cliponaxis=False,
        hovertemplate="probability %{x:.4f}<extra></extra>",
    ))
    figure.update_layout(
        title=title, height=70 + 34 * len(labels), margin={"t": 40, "b": 10, "l": 10, "r": 40}, showlegend=False,
        xaxis={"visible": False, "range": [0, min(1.0, float(probabilities.max(initial=0)) * 1.3 + 0.02)]},
        yaxis={"tickmode": "array", "tickvals": list(range(len(labels))),
               "ticktext": [plotly_label(label) for label in labels], "autorange": "reversed", "automargin": True},
    )
    return figure


def logit_lens_grid(*, top_labels: Sequence[Sequence[str]], top_probabilities: np.ndarray,
                    input_labels: Sequence[str], positions: Sequence[int]) -> go.Figure:
    """Layers (rows, embeddings at the bottom) × positions (columns): the top next-token guess read out after
    each layer, as text in the cell, coloured by its probability. top_probabilities (L+1, W)."""
    probabilities = np.asarray(top_probabilities, dtype=float)
    layers, width = probabilities.shape
    text = [[_short(label, 8) for label in row] for row in top_labels]
    hover = [[f"layer {'embeddings' if layer == 0 else layer}, after position {positions[column]} "
              f"({plotly_label(input_labels[column])})<br>top guess: {plotly_label(top_labels[layer][column])} "
              f"({probabilities[layer, column]:.3f})" for column in range(width)] for layer in range(layers)]
    figure = go.Figure(go.Heatmap(
        z=probabilities, text=text, texttemplate="%{text}", customdata=hover,
        hovertemplate="%{customdata}<extra></extra>", colorscale=SEQUENTIAL, zmin=0, zmax=1, xgap=1, ygap=1,
        colorbar={"title": {"text": "probability"}, "thickness": 12},
    ))
    figure.update_layout(
        height=120 + 22 * layers, margin={"t": 10, "b": 10, "l": 10, "r": 10},
        xaxis={"tickmode": "array", "tickvals": list(range(width)), "side": "top", "automargin": True,
               "ticktext": [f"{positions[c]}: {_short(input_labels[c])}" for c in range(width)],
               "title": "input position (its token)"},
        yaxis={"tickmode": "array", "tickvals": list(range(layers)), "automargin": True, "title": "layer",
               "ticktext": ["emb"] + [str(layer) for layer in range(1, layers)]},
    )
    return figure
