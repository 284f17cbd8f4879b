"""Figures shared by every session (viz/ui/figure_cache.py): built once per key, never changed by a session."""

import numpy as np
import plotly.graph_objects as go
from plotly_support import chart
from test_app import run_link

from viz.ui import figure_cache
from viz.ui.classroom import CHART_FONT_PX


def test_shared_figure_is_built_once_per_key():
    built = []

    def build(n: int) -> go.Figure:
        built.append(n)
        return go.Figure(go.Bar(y=np.arange(n, dtype=float)))

    first = figure_cache.shared_figure(("test", 3), lambda: build(3))
    again = figure_cache.shared_figure(("test", 3), lambda: build(3))
    other = figure_cache.shared_figure(("test", 4), lambda: build(4))
    assert first is again and other is not first and built == [3, 4]


def test_figure_bytes_counts_traces_and_frames():
    small = go.Figure(go.Scatter(x=np.zeros(10), y=np.zeros(10)))
    big = go.Figure(go.Scatter(x=np.zeros(100_000), y=np.zeros(100_000)),
                    frames=[go.Frame(data=[go.Scatter(x=np.zeros(100_000))])])
    assert figure_cache.figure_bytes(small) < 30_000  # mostly its copy of plotly's default template
    assert figure_cache.figure_bytes(big) - figure_cache.figure_bytes(small) >= 3 * 800_000  # three float64 arrays


def test_presentation_mode_enlarges_a_copy_of_a_shared_figure(encoder):
    plain = chart(run_link("pages/tokens.py"), "tok_toy_chart")
    presenting = run_link("pages/tokens.py", present="1")
    assert not presenting.exception
    assert chart(presenting, "tok_toy_chart")["layout"]["font"]["size"] == CHART_FONT_PX
    assert plain["layout"].get("font", {}).get("size") != CHART_FONT_PX
    assert chart(run_link("pages/tokens.py"), "tok_toy_chart") == plain  # the shared one was left as it was
