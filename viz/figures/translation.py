"""Plotly builders of the Translation page: cross-attention maps (output × source) and the alignment score table.

Shapes: T decoder positions, S source tokens, Ld decoder layers, H heads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from viz.figures.common import SEQUENTIAL, plotly_label, token_axis

HOVER_TEXT_LIMIT = 128 * 128  # cells with their own hover text; beyond it hover shows positions only
MARK_COLOUR = "#e08a1e"  # orange outline: the newest output token's row; the best head's cell
MARGIN = {"t": 50, "b": 40, "l": 10, "r": 10}


def cross_attention_heatmap(*, weights: np.ndarray, source_tokens: Sequence[str], row_labels: Sequence[str],
                            title: str, marked_row: int | None = None) -> go.Figure:
    """Output positions down, source tokens across: how much each output token read of each source token.

    Shapes: weights (T, S), rows summing to 1; source_tokens S strings, row_labels T strings.
    """
    weights = np.asarray(weights, dtype=np.float32)
    n_rows, n_source = weights.shape
    heatmap = {"z": weights, "x": np.arange(n_source), "y": np.arange(n_rows), "colorscale": SEQUENTIAL,
               "zmin": 0.0, "colorbar": {"title": "weight", "thickness": 12}}
    if n_rows * n_source <= HOVER_TEXT_LIMIT:
        heatmap["text"] = [[f"output {plotly_label(row_labels[t])}<br>read source {s}: {plotly_label(source_tokens[s])}"
                            for s in range(n_source)] for t in range(n_rows)]
        heatmap["hovertemplate"] = "%{text}<br>weight %{z:.4f}<extra></extra>"
    else:
        heatmap["hovertemplate"] = "output %{y} → source %{x}<br>weight %{z:.4f}<extra></extra>"
    figure = go.Figure(go.Heatmap(**heatmap))
    if marked_row is not None and 0 <= marked_row < n_rows:
        figure.add_shape(type="rect", x0=-0.5, x1=n_source - 0.5, y0=marked_row - 0.5, y1=marked_row + 0.5,
                         line={"color": MARK_COLOUR, "width": 3})
    height = int(min(900, max(320, 160 + 26 * n_rows)))
    figure.update_layout(title=title, height=height, margin=MARGIN)
    figure.update_xaxes(**token_axis(source_tokens, max_labels=64), title="source token (encoder)", tickangle=-60,
                        showgrid=False)
    figure.update_yaxes(**token_axis(row_labels, max_labels=64), title="output token (decoder)",
                        autorange="reversed", showgrid=False)
    return figure


def head_scores_heatmap(*, scores: np.ndarray, best: tuple[int, int] | None, chance: float | None,
                        title: str) -> go.Figure:
    """Decoder layers down, heads across: each cross-attention head's alignment score, the best one outlined.

    Shapes: scores (Ld, H), fractions from 0 to 1.
    """
    scores = np.asarray(scores, dtype=np.float64)
    n_layers, n_heads = scores.shape
    figure = go.Figure(go.Heatmap(
        z=scores, x=np.arange(n_heads), y=np.arange(n_layers), colorscale=SEQUENTIAL, zmin=0.0, zmax=1.0,
        text=[[f"{value:.0%}" for value in row] for row in scores], texttemplate="%{text}",
        hovertemplate="layer %{y}, head %{x}<br>alignment holds for %{z:.1%} of digits<extra></extra>",
        colorbar={"title": "holds", "thickness": 12, "tickformat": ".0%"},
    ))
    if best is not None:
        layer, head = best
        figure.add_shape(type="rect", x0=head - 0.5, x1=head + 0.5, y0=layer - 0.5, y1=layer + 0.5,
                         line={"color": MARK_COLOUR, "width": 3})
    subtitle = f" (chance: {chance:.0%})" if chance is not None else ""
    figure.update_layout(title=title + subtitle, height=int(min(600, 140 + 44 * n_layers)), margin=MARGIN)
    figure.update_xaxes(title="head", tickmode="array", tickvals=list(range(n_heads)), showgrid=False)
    figure.update_yaxes(title="decoder layer", tickmode="array", tickvals=list(range(n_layers)),
                        autorange="reversed", showgrid=False)
    return figure
