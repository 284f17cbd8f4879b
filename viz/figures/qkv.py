"""Plotly builders of the Q/K/V page: vector strips, score bars, the head grid and position pictures."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from viz.figures.common import DIVERGING, SEQUENTIAL, token_axis

ROW_PX = 22  # height of one token row in strips and bars
MASKED_COLOUR = "#bbbbbb"
BAR_COLOUR = "#3b6ea8"
HIGHLIGHT_COLOUR = "#e08a1e"
REFERENCE_COLOUR = "#7a7a7a"  # mid grey: visible on the light and the dark theme (black is not)


def _symmetric_range(values: np.ndarray, percentile: float = 100.0) -> float:
    """Largest |value| (or a high percentile of them, so a few outliers do not wash out the rest)."""
    finite = np.abs(np.asarray(values, dtype=np.float64))
    finite = finite[np.isfinite(finite)]
    top = float(np.percentile(finite, percentile)) if finite.size else 0.0
    return top if top > 0 else 1.0


def _height(rows: int, extra: int = 90) -> int:
    return max(150, extra + ROW_PX * rows)


def _layout(title: str, height: int, *, x: dict, y: dict) -> dict:
    """A one-plot layout given whole: plotly validates it once, where update_layout/update_*axes calls after the
    figure was made cost ~4x the build (py-spy: most of a Q, K, V rerun's 15 charts)."""
    return {"title": {"text": title}, "height": height, "margin": {"t": 40, "b": 40, "l": 10, "r": 10},
            "xaxis": x, "yaxis": y}


def vector_strips(*, vectors: np.ndarray, labels: Sequence[str], title: str, zmax: float | None = None,
                  value_name: str = "value") -> go.Figure:
    """One colour strip per vector (row), one cell per dimension; red/blue for sign.

    Shapes: vectors (N, d), labels N strings.
    """
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    limit = zmax if zmax is not None else _symmetric_range(vectors)
    heatmap = go.Heatmap(
        z=vectors, x=list(range(vectors.shape[1])), y=list(range(vectors.shape[0])),
        colorscale=DIVERGING, zmid=0, zmin=-limit, zmax=limit, reversescale=True,
        customdata=np.array([[label] * vectors.shape[1] for label in labels], dtype=object),
        hovertemplate=f"%{{customdata}}<br>dimension %{{x}}<br>{value_name} %{{z:.4f}}<extra></extra>",
        colorbar={"thickness": 10, "len": 1.0, "tickvals": [-limit, 0, limit],
                  "ticktext": [f"{-limit:.2g}", "0", f"{limit:.2g}"]},
    )
    return go.Figure(heatmap, layout=_layout(title, _height(len(labels)), x={"title": {"text": "dimension"}},
                                             y={**token_axis(list(labels)), "autorange": "reversed"}))


def score_bars(*, values: np.ndarray, labels: Sequence[str], title: str, highlight: int | None = None,
               reference: np.ndarray | None = None, number_format: str = ".3f") -> go.Figure:
    """Horizontal bars, one per key; −∞ (masked) keys get a grey stub labelled −∞.

    Shapes: values (N,), labels N strings, reference (N,) drawn as diamonds (e.g. the model's own weights).
    """
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    shown = np.where(finite, values, 0.0)
    colours = [MASKED_COLOUR if not ok else HIGHLIGHT_COLOUR if i == highlight else BAR_COLOUR
               for i, ok in enumerate(finite)]
    text = [format(v, number_format) if ok else "−∞" for v, ok in zip(values, finite, strict=True)]
    traces = [go.Bar(
        x=shown, y=list(range(len(values))), orientation="h", marker_color=colours, text=text,
        textposition="outside", cliponaxis=False, customdata=list(labels), name=title,
        hovertemplate="%{customdata}: %{text}<extra></extra>",
    )]
    if reference is not None:
        traces.append(go.Scatter(
            x=np.asarray(reference, dtype=np.float64), y=list(range(len(values))), mode="markers",
            marker={"symbol": "diamond-open", "size": 11, "color": REFERENCE_COLOUR, "line": {"width": 2}},
            name="model's own",
            customdata=list(labels), hovertemplate="%{customdata}: model says %{x:.6f}<extra></extra>",
        ))
    layout = _layout(title, _height(len(values)), x={"range": _padded_range(shown, reference)},
                     y={**token_axis(list(labels)), "autorange": "reversed"})
    return go.Figure(traces, layout={**layout, "showlegend": reference is not None,
                                     "legend": {"orientation": "h", "y": -0.15}})


def _padded_range(values: np.ndarray, reference: np.ndarray | None) -> list[float]:
    """An x range from min(0, values) to max(0, values) with room for the number printed outside each bar."""
    everything = np.concatenate([values, [0.0], [] if reference is None else np.asarray(reference, dtype=np.float64)])
    low, high = float(everything.min()), float(everything.max())
    pad = 0.35 * ((high - low) or 1.0)
    return [low - pad if low < 0 else low, high + pad if high > 0 or low == 0 else high]


def weighted_sum_figure(*, weighted_values: np.ndarray, output: np.ndarray, labels: Sequence[str]) -> go.Figure:
    """Weight × value strips for each key, and below them their sum: the head's output for the query.

    Shapes: weighted_values (N, d), output (d,), labels N strings.
    """
    rows = len(labels)
    limit = _symmetric_range(np.vstack([weighted_values, output[None]]))
    spacing = 0.08  # between the two plots, as a share of the figure's height
    split = (1 - spacing) * 1.5 / (rows + 1.5)  # the output's plot: 1.5 rows' height, at the bottom
    common = {"colorscale": DIVERGING, "zmid": 0, "zmin": -limit, "zmax": limit, "reversescale": True}
    traces = [go.Heatmap(z=weighted_values, y=list(range(rows)), colorbar={"thickness": 10}, **common,
                         hovertemplate="key %{y}, dimension %{x}: %{z:.4f}<extra></extra>", xaxis="x", yaxis="y"),
              go.Heatmap(z=output[None], y=[0], showscale=False, **common, xaxis="x2", yaxis="y2",
                         hovertemplate="output, dimension %{x}: %{z:.4f}<extra></extra>")]
    titles = [{"text": text, "font": {"size": 16}, "showarrow": False, "x": 0.5, "xanchor": "center", "xref": "paper",
               "y": y, "yanchor": "bottom", "yref": "paper"}
              for text, y in (("weight × value, per key", 1.0), ("sum = the head's output", split))]
    # two plots sharing the dimension axis, written out (make_subplots and its update_* calls took ~30 ms)
    layout = {"xaxis": {"anchor": "y", "domain": [0.0, 1.0], "matches": "x2", "showticklabels": False},
              "yaxis": {"anchor": "x", "domain": [split + spacing, 1.0], **token_axis(list(labels)),
                        "autorange": "reversed"},
              "xaxis2": {"anchor": "y2", "domain": [0.0, 1.0], "title": {"text": "dimension"}},
              "yaxis2": {"anchor": "x2", "domain": [0.0, split], "tickvals": [0], "ticktext": ["output"]},
              "annotations": titles, "height": max(260, _height(rows + 3, extra=110)),
              "margin": {"t": 40, "b": 40, "l": 10, "r": 10}}
    return go.Figure(traces, layout=layout)


def head_grid(*, rows: np.ndarray, tokens: Sequence[str], head_labels: Sequence[str], selected: int,
              query_label: str) -> go.Figure:
    """Every head's attention row for one query token, heads as rows; the chosen head is outlined.

    Shapes: rows (H, T), tokens T strings, head_labels H strings.
    """
    n_heads, n_tokens = rows.shape
    heatmap = go.Heatmap(
        z=rows, x=list(range(n_tokens)), y=list(range(n_heads)), colorscale=SEQUENTIAL, zmin=0, zmax=1,
        customdata=np.array([[f"{h} → {t}" for t in tokens] for h in head_labels], dtype=object),
        hovertemplate="%{customdata}<br>weight %{z:.4f}<extra></extra>", colorbar={"title": {"text": "weight"}},
    )
    layout = _layout(f"Where {query_label} looks, in every head of this layer", _height(n_heads, extra=140),
                     x={**token_axis(list(tokens), max_labels=64), "title": {"text": "key token"}},
                     y={"tickmode": "array", "tickvals": list(range(n_heads)), "ticktext": list(head_labels),
                        "autorange": "reversed"})
    outline = {"type": "rect", "x0": -0.5, "x1": n_tokens - 0.5, "y0": selected - 0.5, "y1": selected + 0.5,
               "line": {"color": HIGHLIGHT_COLOUR, "width": 3}}
    return go.Figure(heatmap, layout={**layout, "shapes": [outline]})


def position_heatmap(*, table: np.ndarray, title: str, x_title: str = "dimension", y_title: str = "position",
                     zmax: float | None = None) -> go.Figure:
    """A positions × dimensions (or positions × positions) table as a diverging heatmap; the colour range
    covers 99.5 % of the values unless zmax is given, so a few outliers do not wash out the rest.

    Shapes: table (P, D) or (P, P).
    """
    limit = zmax if zmax is not None else _symmetric_range(table, percentile=99.5)
    heatmap = go.Heatmap(
        z=np.asarray(table, dtype=np.float32), colorscale=DIVERGING, zmid=0, zmin=-limit, zmax=limit,
        reversescale=True, hovertemplate=f"{y_title} %{{y}}<br>{x_title} %{{x}}<br>%{{z:.3f}}<extra></extra>",
    )
    return go.Figure(heatmap, layout=_layout(title, 420, x={"title": {"text": x_title}},
                                             y={"title": {"text": y_title}, "autorange": "reversed"}))


def rotary_distance_figure(*, distances: np.ndarray, scores: np.ndarray, agreement: np.ndarray,
                           marked_distance: int | None = None, marked_score: float | None = None,
                           pair_label: str = "") -> go.Figure:
    """Two lines over distance: q·k of one real query/key pair, and the all-ones agreement (rotation alone).

    Shapes: distances (N,), scores (N,), agreement (N,).
    """
    figure = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
        f"q·k of {pair_label} if they were Δ tokens apart", "identical q and k (all ones): q·k / |q|²"))
    figure.add_trace(go.Scatter(x=distances, y=scores, mode="lines", name="q·k", line={"color": BAR_COLOUR},
                                hovertemplate="Δ = %{x}: q·k = %{y:.3f}<extra></extra>"), row=1, col=1)
    if marked_distance is not None and marked_score is not None:
        figure.add_trace(go.Scatter(
            x=[marked_distance], y=[marked_score], mode="markers", name="their real distance",
            marker={"size": 12, "color": HIGHLIGHT_COLOUR, "symbol": "circle-open", "line": {"width": 3}},
            hovertemplate="real distance Δ = %{x}: q·k = %{y:.3f}<extra></extra>"), row=1, col=1)
    figure.add_trace(go.Scatter(x=distances, y=agreement, mode="lines", name="all ones",
                                line={"color": "#555555"}, hovertemplate="Δ = %{x}: %{y:.3f}<extra></extra>"),
                     row=1, col=2)
    figure.update_xaxes(title="distance Δ = query position − key position")
    figure.update_layout(height=360, legend={"orientation": "h", "y": -0.25},
                         margin={"t": 50, "b": 40, "l": 10, "r": 10})
    return figure
