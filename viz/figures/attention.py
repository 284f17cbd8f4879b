"""Plotly builders of the Attention page: one-head heatmap, layers × heads overview, "who does it refer to" bars.

Shapes: L layers, H heads, T tokens, C aligned columns, s thumbnail size.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from viz.figures.common import DIVERGING, MAP_AXIS_LABELS, SEQUENTIAL, hover_labels, plotly_label, token_axis

HOVER_TEXT_LIMIT = 128  # above this many tokens, per-cell hover text would cost megabytes: hover shows positions
MASKED_COLOUR = "#8c8c8c"  # neutral mid grey: masked cells read as "no value" on light and dark themes alike
CLEAR = "rgba(0,0,0,0)"  # no plot background of our own: the theme's shows through (light or dark)
BAR_COLOUR = "#3b6ea8"
QUERY_COLOUR = "#e08a1e"
SECOND_COLOUR = "#c44e52"
MARGIN = {"t": 50, "b": 40, "l": 10, "r": 10}


def _square_height(n: int) -> int:
    return int(min(900, max(560, 200 + 22 * n)))


def _layers_height(n_layers: int) -> int:
    return int(min(900, max(340, 150 + 26 * n_layers)))


def attention_heatmap(*, weights: np.ndarray, tokens: Sequence[str], title: str, causal: bool = False,
                      value_name: str = "weight") -> go.Figure:
    """Query tokens down, key tokens across, exact weights on hover; a decoder's future cells are grey (masked).

    Shapes: weights (T, T) with rows = queries, tokens T strings.
    """
    n = len(tokens)
    z = np.array(weights, dtype=np.float32)
    if causal:
        z[np.triu_indices(n, k=1)] = np.nan  # a decoder never looks ahead: draw those cells as masked, not as 0
    heatmap = {"z": z, "x": np.arange(n), "y": np.arange(n), "colorscale": SEQUENTIAL, "zmin": 0.0,
               "hoverongaps": False, "colorbar": {"title": value_name, "thickness": 12}}
    if n <= HOVER_TEXT_LIMIT:
        labels = hover_labels(tokens)
        heatmap["text"] = [[f"query {labels[i]} → key {labels[j]}" for j in range(n)] for i in range(n)]
        heatmap["hovertemplate"] = f"%{{text}}<br>{value_name} %{{z:.4f}}<extra></extra>"
    else:
        heatmap["hovertemplate"] = f"query %{{y}} → key %{{x}}<br>{value_name} %{{z:.4f}}<extra></extra>"
    figure = go.Figure(go.Heatmap(**heatmap))
    if causal:
        figure.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="masked: a later token",
                                    marker={"symbol": "square", "size": 12, "color": MASKED_COLOUR}))
    figure.update_layout(title=title, height=_square_height(n), margin=MARGIN,
                         plot_bgcolor=MASKED_COLOUR if causal else CLEAR,
                         showlegend=causal, legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right",
                                                    "yanchor": "bottom"})
    figure.update_xaxes(**token_axis(tokens, max_labels=MAP_AXIS_LABELS), title="key (attended to)", tickangle=-60,
                        side="bottom", showgrid=False, constrain="domain")
    figure.update_yaxes(**token_axis(tokens, max_labels=MAP_AXIS_LABELS), title="query (attending)",
                        autorange="reversed", showgrid=False, scaleanchor="x", constrain="domain")
    return figure


def mosaic(thumbnails: np.ndarray, *, gap: int = 1) -> np.ndarray:
    """Tile thumbnails (L, H, s, s) into one (L·(s+gap), H·(s+gap)) image, NaN in gaps, each tile scaled to max 1."""
    n_layers, n_heads, size, _ = thumbnails.shape
    peak = thumbnails.reshape(n_layers, n_heads, -1).max(-1)[..., None, None]
    scaled = thumbnails / np.where(peak > 0, peak, 1.0)
    tiles = np.full((n_layers, size + gap, n_heads, size + gap), np.nan, dtype=np.float32)
    tiles[:, :size, :, :size] = scaled.transpose(0, 2, 1, 3)
    return tiles.reshape(n_layers * (size + gap), n_heads * (size + gap))


def head_overview(*, thumbnails: np.ndarray, layer: int, head: int, n_tokens: int) -> go.Figure:
    """Every layer × head as a small picture (rows = layers, columns = heads); click one to open that head.

    Shapes: thumbnails (L, H, s, s), each a block-mean downsampled (T, T) attention map. An invisible marker
    at each picture's centre carries customdata [layer, head], so hovering or clicking anywhere on it names it.
    """
    n_layers, n_heads, size, _ = thumbnails.shape
    step = size + 1
    offsets = (np.arange(step) + 0.5) / step - 0.5  # cell centres inside (-0.5, 0.5) around each integer
    x = (np.arange(n_heads)[:, None] + offsets[None, :]).ravel()
    y = (np.arange(n_layers)[:, None] + offsets[None, :]).ravel()
    layers, heads = np.meshgrid(np.arange(n_layers), np.arange(n_heads), indexing="ij")
    invisible = {"color": "rgba(0,0,0,0)"}
    figure = go.Figure([
        go.Heatmap(z=mosaic(thumbnails), x=x.astype(np.float32), y=y.astype(np.float32), colorscale=SEQUENTIAL,
                   zmin=0, zmax=1, showscale=False, hoverinfo="skip"),
        go.Scatter(x=heads.ravel(), y=layers.ravel(), mode="markers", name="heads",
                   customdata=np.stack([layers.ravel(), heads.ravel()], axis=1),
                   marker={"symbol": "square", "size": 24, **invisible},
                   selected={"marker": {"opacity": 0}}, unselected={"marker": {"opacity": 0}},
                   hovertemplate="layer %{customdata[0]}, head %{customdata[1]}<br>click to open<extra></extra>"),
    ])
    figure.add_shape(type="rect", x0=head - 0.5, x1=head + 0.5, y0=layer - 0.5, y1=layer + 0.5,
                     line={"color": QUERY_COLOUR, "width": 3})
    cell = int(max(28, min(80, 900 // n_heads, 1500 // n_layers)))  # pixels per picture, so cells stay square
    figure.update_layout(
        title=f"All {n_layers} layers (rows) × {n_heads} heads (columns)<br>"
              f"<sup>{n_tokens} tokens; each picture scaled to its own maximum</sup>",
        width=n_heads * cell + 80, height=n_layers * cell + 120, margin={"t": 100, "b": 20, "l": 60, "r": 20},
        plot_bgcolor=CLEAR, hovermode="closest", hoverdistance=80, dragmode=False, showlegend=False,
    )
    figure.update_xaxes(tickmode="array", tickvals=list(range(n_heads)), side="top", showgrid=False,
                        zeroline=False, range=[-0.5, n_heads - 0.5])
    figure.update_yaxes(tickmode="array", tickvals=list(range(n_layers)), range=[n_layers - 0.5, -0.5],
                        showgrid=False, zeroline=False)
    return figure


def _bar_colours(n: int, query: int | None) -> list[str]:
    return [QUERY_COLOUR if i == query else BAR_COLOUR for i in range(n)]


def referent_bars(*, weights: np.ndarray, tokens: Sequence[str], query: int, title: str) -> go.Figure:
    """Bars of one token's attention to every token (the token itself in orange).

    Shapes: weights (T,), tokens T strings.
    """
    n = len(tokens)
    figure = go.Figure(go.Bar(
        x=np.arange(n), y=np.asarray(weights, dtype=np.float32), marker_color=_bar_colours(n, query),
        customdata=hover_labels(tokens), hovertemplate="%{customdata}<br>weight %{y:.4f}<extra></extra>",
    ))
    figure.update_layout(title=title, height=360, margin=MARGIN, yaxis_title="attention weight", bargap=0.15)
    figure.update_xaxes(**token_axis(tokens, max_labels=MAP_AXIS_LABELS), tickangle=-60)
    return figure


def referent_layers(*, weights: np.ndarray, tokens: Sequence[str], query: int, layer: int,
                    causal: bool = False) -> go.Figure:
    """One row per layer: what the chosen token attends to, layer by layer; the picked layer is outlined.

    Shapes: weights (L, T), tokens T strings. For a decoder the tokens after the query are grey (masked).
    """
    n_layers, n = weights.shape
    labels = hover_labels(tokens)
    z = np.array(weights, dtype=np.float32)
    if causal:
        z[:, query + 1:] = np.nan
    figure = go.Figure(go.Heatmap(
        z=z, x=np.arange(n), y=np.arange(n_layers), colorscale=SEQUENTIAL, hoverongaps=False,
        zmin=0, customdata=np.tile(np.array(labels, dtype=object), (n_layers, 1)),
        hovertemplate="layer %{y}<br>%{customdata}<br>weight %{z:.4f}<extra></extra>",
        colorbar={"title": "weight", "thickness": 12},
    ))
    figure.add_shape(type="rect", x0=-0.5, x1=n - 0.5, y0=layer - 0.5, y1=layer + 0.5,
                     line={"color": QUERY_COLOUR, "width": 2})
    figure.update_layout(title=f"Every layer: what {plotly_label(tokens[query])!r} attends to",
                         height=_layers_height(n_layers), margin=MARGIN,
                         plot_bgcolor=MASKED_COLOUR if causal else CLEAR)
    figure.update_xaxes(**token_axis(tokens, max_labels=MAP_AXIS_LABELS), tickangle=-60, showgrid=False)
    figure.update_yaxes(title="layer", autorange="reversed", tickmode="linear", dtick=1 if n_layers <= 12 else 5)
    return figure


def comparison_bars(*, weights_a: np.ndarray, weights_b: np.ndarray, labels: Sequence[str], name_a: str,
                    name_b: str, title: str) -> go.Figure:
    """Grouped bars: the chosen token's attention in sentence A and in sentence B, per aligned column.

    Shapes: weights_a (C,), weights_b (C,), labels C strings (a changed stretch reads "tired → narrow").
    """
    x = np.arange(len(labels))
    shown = [plotly_label(label) for label in labels]
    figure = go.Figure([
        go.Bar(x=x, y=np.asarray(weights_a, dtype=np.float32), name=name_a, marker_color=BAR_COLOUR,
               customdata=shown, hovertemplate="%{customdata}<br>weight %{y:.4f}<extra>" + "A" + "</extra>"),
        go.Bar(x=x, y=np.asarray(weights_b, dtype=np.float32), name=name_b, marker_color=SECOND_COLOUR,
               customdata=shown, hovertemplate="%{customdata}<br>weight %{y:.4f}<extra>" + "B" + "</extra>"),
    ])
    figure.update_layout(title=title, barmode="group", height=380, margin=MARGIN, yaxis_title="attention weight",
                         legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"})
    figure.update_xaxes(tickmode="array", tickvals=list(x), ticktext=shown, tickangle=-60, automargin=True)
    return figure


def difference_by_layer(*, difference: np.ndarray, labels: Sequence[str], layer: int, title: str) -> go.Figure:
    """Layers × aligned columns of B − A attention (red: more in B, blue: more in A), centred on zero.

    Shapes: difference (L, C), labels C strings.
    """
    n_layers, n_columns = difference.shape
    limit = float(np.nanmax(np.abs(difference))) if difference.size else 1.0
    shown = [plotly_label(label) for label in labels]
    figure = go.Figure(go.Heatmap(
        z=np.asarray(difference, dtype=np.float32), x=np.arange(n_columns), y=np.arange(n_layers),
        colorscale=DIVERGING, reversescale=True, zmid=0, zmin=-limit or -1, zmax=limit or 1,
        customdata=np.tile(np.array(shown, dtype=object), (n_layers, 1)),
        hovertemplate="layer %{y}<br>%{customdata}<br>B − A %{z:+.4f}<extra></extra>",
        colorbar={"title": "B − A", "thickness": 12},
    ))
    figure.add_shape(type="rect", x0=-0.5, x1=n_columns - 0.5, y0=layer - 0.5, y1=layer + 0.5,
                     line={"color": QUERY_COLOUR, "width": 2})
    figure.update_layout(title=title, height=_layers_height(n_layers), margin=MARGIN)
    figure.update_xaxes(tickmode="array", tickvals=list(range(n_columns)), ticktext=shown, tickangle=-60,
                        automargin=True)
    figure.update_yaxes(title="layer", autorange="reversed", tickmode="linear", dtick=1 if n_layers <= 12 else 5)
    return figure
