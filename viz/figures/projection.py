"""Figures for projected hidden states: a 2-D/3-D scatter animated over layers with plotly frames."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from viz.figures.common import marker_symbol
from viz.figures.similarity import group_colour

BACKGROUND_OPACITY = 0.35
FRAME_MS = 700


def _trace(coords: np.ndarray, mask: np.ndarray, *, name: str, colour: str, highlighted: bool, hover: np.ndarray,
           text: np.ndarray, legendgroup: str, symbol: str = "circle") -> go.Scatter | go.Scatter3d:
    """One trace of the points in mask; highlighted points are large and labelled, the rest small and faint."""
    marker = {"color": colour, "symbol": symbol, "size": 13 if highlighted else 6,
              "opacity": 1.0 if highlighted else BACKGROUND_OPACITY,
              "line": {"width": 1.5, "color": "black"} if highlighted else {"width": 0}}
    common = {"name": name, "legendgroup": legendgroup, "customdata": hover[mask], "text": text[mask],
              "mode": "markers+text" if highlighted else "markers", "textposition": "top center",
              "hovertemplate": "%{customdata}<extra></extra>"}
    if coords.shape[-1] >= 3:
        return go.Scatter3d(x=coords[mask, 0], y=coords[mask, 1], z=coords[mask, 2],
                            marker={**marker, "size": marker["size"] * 0.6}, **common)
    return go.Scatter(x=coords[mask, 0], y=coords[mask, 1], marker=marker, **common)


def _frame_data(coords: np.ndarray, masks: list[np.ndarray]) -> list[dict]:
    """Only the coordinates change from layer to layer; hover text and style stay in the first frame's traces."""
    keys = ("x", "y", "z")[: coords.shape[-1]]
    kind = "scatter3d" if coords.shape[-1] >= 3 else "scatter"
    return [{"type": kind, **{key: coords[mask, axis] for axis, key in enumerate(keys)}} for mask in masks]


def projection_figure(*, coords: np.ndarray, explained: np.ndarray, group: Sequence[str], highlight: np.ndarray,
                      hover: Sequence[str], text: Sequence[str], title: str, start_layer: int = 0,
                      layer_names: Sequence[str] | None = None, axis_name: str = "PC") -> go.Figure:
    """Scatter of points per layer with a layer slider and a play button: coords (L+1, N, k) with k 2 or 3.

    group (N,) picks the colour (sentence or sense), highlight (N,) marks the chosen word's points, hover (N,)
    is shown on hover, text (N,) is written next to highlighted points; explained (L+1, k) labels the axes.
    """
    coords = np.asarray(coords, dtype=np.float32)  # the browser gets half the bytes of float64; hover shows text
    n_layers, dims = coords.shape[0], coords.shape[-1]
    group, highlight = np.asarray(group), np.asarray(highlight, dtype=bool)
    hover, text = np.asarray(hover, dtype=object), np.asarray(text, dtype=object)
    names = layer_names or [str(layer) for layer in range(n_layers)]
    groups = list(dict.fromkeys(group.tolist()))
    masks, traces = [], []
    suffix = " (chosen word)" if not highlight.all() else ""
    for index, name in enumerate(groups):
        for highlighted in (False, True):
            mask = (group == name) & (highlight == highlighted)
            masks.append(mask)
            traces.append(_trace(coords[start_layer], mask, name=f"{name}{suffix if highlighted else ''}",
                                 colour=group_colour(index), highlighted=highlighted, hover=hover, text=text,
                                 legendgroup=name, symbol=marker_symbol(index)))
    # one frame per layer, only coordinates, given as dicts to the one figure constructor: building go.Frame objects
    # first (validated, then validated again by the figure) was ~60 % of the figure's build (py-spy); plotly still
    # checks the frames' properties, _validate=False only skips re-checking the traces, which were checked above
    frames = [{"data": _frame_data(coords[layer], masks), "name": names[layer],
               "layout": {"title": {"text": _title(title, names[layer], explained[layer], axis_name)}}}
              for layer in range(n_layers)] if n_layers > 1 else None
    figure = go.Figure(data=traces, frames=frames, _validate=False)
    _layout(figure, coords, dims, title=_title(title, names[start_layer], explained[start_layer], axis_name),
            axis_name=axis_name)
    if n_layers > 1:
        _add_player(figure, names, start_layer)
    return figure


def _title(title: str, layer_name: str, explained: np.ndarray, axis_name: str) -> str:
    shares = ", ".join(f"{axis_name}{i + 1} {share:.0%}" for i, share in enumerate(explained) if share > 0)
    return f"{title} — layer {layer_name}" + (f" (variance explained: {shares})" if shares else "")


def _layout(figure: go.Figure, coords: np.ndarray, dims: int, *, title: str, axis_name: str) -> None:
    """Axis ranges fixed over all layers, so motion in the animation is real motion."""
    low, high = coords.min(axis=(0, 1)), coords.max(axis=(0, 1))
    pad = np.maximum((high - low) * 0.08, 1e-3)
    axes = [{"title": f"{axis_name}{i + 1}", "range": [float(low[i] - pad[i]), float(high[i] + pad[i])],
             "zeroline": False} for i in range(dims)]
    common = {"title": {"text": title}, "height": 640, "margin": {"t": 60, "b": 10},
              "legend": {"orientation": "v", "x": 1.02, "y": 1.0}, "uirevision": "keep"}
    if dims >= 3:
        figure.update_layout(scene={"xaxis": axes[0], "yaxis": axes[1], "zaxis": axes[2], "aspectmode": "cube"},
                             **common)
    else:
        figure.update_layout(xaxis=axes[0], yaxis=axes[1], **common)


def _add_player(figure: go.Figure, names: Sequence[str], start_layer: int) -> None:
    step_args = {"mode": "immediate", "frame": {"duration": FRAME_MS, "redraw": True},
                 "transition": {"duration": FRAME_MS // 2}}
    figure.update_layout(
        updatemenus=[{
            "type": "buttons", "direction": "left", "x": 0.0, "y": -0.08, "xanchor": "left", "yanchor": "top",
            "pad": {"t": 40, "r": 10}, "showactive": False,
            "buttons": [
                # always from layer 0: "from the current frame" would do nothing when the view starts at the last layer
                {"label": "▶ Play", "method": "animate", "args": [list(names), step_args]},
                {"label": "❚❚ Pause", "method": "animate",
                 "args": [[None], {"mode": "immediate", "frame": {"duration": 0, "redraw": False}}]},
            ],
        }],
        sliders=[{
            "active": start_layer, "x": 0.2, "len": 0.8, "y": -0.08, "yanchor": "top", "pad": {"t": 30},
            "currentvalue": {"prefix": "layer "},
            "steps": [{"label": name, "method": "animate", "args": [[name], step_args]} for name in names],
        }],
    )
