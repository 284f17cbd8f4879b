"""Figures for attribution: the shaded token strip of the Next-token page, in signed colours (red adds, blue takes)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from viz.figures.common import DIVERGING
from viz.figures.next_token import token_cells


def attribution_strip(*, labels: Sequence[str], values: np.ndarray, positions: Sequence[int] | None = None,
                      value_name: str, title: str, limit: float, per_row: int = 12,
                      marked: int | None = None) -> go.Figure:
    """Tokens in rows of `per_row` cells coloured by a signed value (T,): red raised the explained number, blue
    lowered it, white left it alone; the colour scale runs from −limit to +limit so strips drawn with the same
    limit compare."""
    figure = token_cells(labels=labels, values=np.asarray(values, dtype=float), positions=positions,
                         value_name=value_name, title=title, per_row=per_row, zmax=limit, marked=marked)
    figure.update_traces(colorscale=DIVERGING, reversescale=True, zmin=-limit, zmax=limit, zmid=0)
    return figure
