"""Figures of the Train page: the loss over training, and each head's previous-token and induction score."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

SMOOTHING = 10  # steps in the running mean drawn over the raw losses
LOSS_COLOURS = ("#444444", "#0072b2", "#d55e00")  # Okabe–Ito: colour-blind safe
MARK_COLOUR = "#009e73"


def running_mean(values: np.ndarray, window: int = SMOOTHING) -> np.ndarray:
    """Mean of the last `window` values at each step (fewer at the start): (S,) -> (S,)."""
    values = np.asarray(values, dtype=float)
    sums = np.cumsum(np.nan_to_num(values))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    shifted = np.concatenate([np.zeros(window), sums])[:len(values)]
    return (sums - shifted) / counts


def loss_curve(*, losses: np.ndarray, names: Sequence[str], marked_step: int | None = None,
               total_steps: int | None = None) -> go.Figure:
    """The loss at every step (running mean of SMOOTHING steps), one line per part; losses (S, 3)."""
    losses = np.asarray(losses, dtype=float).reshape(-1, 3)
    steps = np.arange(1, len(losses) + 1)
    figure = go.Figure()
    for column, (name, colour) in enumerate(zip(names, LOSS_COLOURS, strict=False)):
        if np.isnan(losses[:, column]).all():
            continue
        figure.add_trace(go.Scatter(x=steps, y=running_mean(losses[:, column]), name=name, mode="lines",
                                    line={"color": colour, "width": 3 if column else 2},
                                    hovertemplate=f"{name}<br>step %{{x}}: loss %{{y:.3f}}<extra></extra>"))
    _mark(figure, marked_step)
    figure.update_layout(title=f"Loss (cross-entropy, running mean of {SMOOTHING} steps)", height=380,
                         margin={"t": 60, "b": 40, "l": 60, "r": 20}, legend={"orientation": "h", "y": -0.2})
    figure.update_xaxes(title="training step", range=[0, total_steps] if total_steps else None)
    figure.update_yaxes(title="loss (nats)", rangemode="tozero")
    return figure


def _mark(figure: go.Figure, step: int | None, **where) -> None:
    if step is not None:
        figure.add_vline(x=step, line={"color": MARK_COLOUR, "dash": "dash", "width": 2},
                         annotation_text=f"induction head at step {step}", annotation_position="top left", **where)


def score_curves(*, steps: np.ndarray, previous: np.ndarray, induction: np.ndarray | None,
                 chance: tuple[float, float], marked_step: int | None = None,
                 threshold: float | None = None) -> go.Figure:
    """Each head's previous-token (and induction) score at every checkpoint; previous, induction (K, L, H).

    threshold: the induction score above which a head of layer 1 on counts as an induction head (a line)."""
    panels = [("previous-token score", np.asarray(previous), chance[0])]
    if induction is not None and len(induction):
        panels.append(("induction score", np.asarray(induction), chance[1]))
    figure = make_subplots(rows=1, cols=len(panels), subplot_titles=[name for name, _, _ in panels],
                           horizontal_spacing=0.08)
    for column, (name, scores, level) in enumerate(panels, start=1):
        _, n_layers, n_heads = scores.shape
        for layer in range(n_layers):
            for head in range(n_heads):
                label = f"layer {layer} head {head}"
                figure.add_trace(go.Scatter(
                    x=steps, y=scores[:, layer, head], mode="lines+markers", name=label, legendgroup=label,
                    showlegend=column == 1, marker={"size": 4},
                    line={"dash": "solid" if layer % 2 == 0 else "dot"},
                    hovertemplate=f"{label}<br>step %{{x}}: {name} %{{y:.3f}}<extra></extra>"), row=1, col=column)
        figure.add_hline(y=level, line={"color": "#888888", "dash": "dot"}, annotation_text=f"chance {level:.3f}",
                         annotation_position="bottom right", row=1, col=column)
        figure.update_yaxes(range=[0, 1], title="mean attention weight" if column == 1 else None, row=1, col=column)
        figure.update_xaxes(title="training step", row=1, col=column)
    if len(panels) == 2:
        _mark(figure, marked_step, row=1, col=2)
        if threshold is not None:
            figure.add_hline(y=threshold, line={"color": MARK_COLOUR, "dash": "dot"}, row=1, col=2,
                             annotation_text=f"induction head above {threshold:g}", annotation_position="top right")
    figure.update_layout(title="What each head attends to, over training", height=420,
                         margin={"t": 80, "b": 40, "l": 60, "r": 20})
    return figure
