"""Streamlit glue for exports: charts that offer their numbers as CSV, and each page's JSON and offline HTML.

Downloads are made when clicked (Streamlit's deferred download), so a page pays nothing for them until then, and
they hold everything the page drew in that run. PNG is plotly's own toolbar (the camera icon), kept switched on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from viz.analysis import Analysis, ModelInfo
from viz.export import figure_csv, figures_html, view_json
from viz.ui.classroom import CHART_FONT_PX, presentation

CHARTS = "_charts"  # {chart key: figure} of the current run; a fresh dict every run (begin_run)
LEGEND_BELOW_PX = 110  # presentation mode: room at the bottom of a chart for its ticks, axis title and legend
CSV_BOM = "\ufeff"  # so spreadsheet programs read the UTF-8 (tokens in any script) correctly


@dataclass(frozen=True)
class Export:
    """One download: its button label, file name, type, and the function that makes its bytes."""

    label: str
    file_name: str
    mime: str
    make: Callable[[], bytes]


class Shown(dict):
    """What a page shows, for its JSON export, kept by the session (Streamlit keeps a closed tab's session 2 min).

    Array views are stored as copies: one head's map, a slice of a shared analysis, would otherwise keep the whole
    analysis (313 MB for the decoder at 506 tokens) alive in every session that showed it, long after the shared
    cache let it go."""

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, _owned(value))

    def update(self, *args, **kwargs) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value


def _owned(value):
    if isinstance(value, np.ndarray):
        return value.copy() if value.base is not None else value
    if isinstance(value, dict):
        return {key: _owned(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_owned(item) for item in value)
    return value


def _for_export(analysis: Analysis) -> Analysis:
    """The analysis as its JSON export uses it (text, tokens, ids): the arrays left out, for the reason above."""
    return replace(analysis, attentions=np.broadcast_to(np.float32(0), analysis.attentions.shape),
                   hidden_states=np.broadcast_to(np.float32(0), analysis.hidden_states.shape))


def begin_run() -> None:
    """Start this run's list of charts (the sidebar calls it first, before any page draws)."""
    st.session_state[CHARTS] = {}


def chart_config(key: str) -> dict:
    """Plotly's toolbar with its PNG button: twice the screen resolution, named after the chart."""
    return {"displaylogo": False, "toImageButtonOptions": {"format": "png", "filename": key, "scale": 2}}


def chart_csv(figure: go.Figure) -> bytes:
    """The numbers of one chart as a UTF-8 CSV file (with a byte-order mark for spreadsheets)."""
    return (CSV_BOM + figure_csv(figure)).encode("utf-8")


def larger_text(figure: go.Figure) -> None:
    """Presentation mode's chart text: CHART_FONT_PX everywhere, titles 2 px larger.

    Set on the axes and colour bars themselves too: Streamlit's plotly theme sizes tick labels and axis titles in
    rem (0.75 rem ticks: 16.5 px at presentation mode's 22 px), which the layout-wide font alone does not change.
    """
    size = CHART_FONT_PX
    figure.update_layout(font_size=size, title_font_size=size + 2, legend_font_size=size,
                         hoverlabel_font_size=size)
    figure.update_xaxes(tickfont_size=size, title_font_size=size)
    figure.update_yaxes(tickfont_size=size, title_font_size=size)
    figure.update_scenes(xaxis_tickfont_size=size, yaxis_tickfont_size=size, zaxis_tickfont_size=size)
    figure.update_annotations(font_size=size)  # subplot titles, cut lines' labels
    if any(axis.side == "top" for axis in figure.select_xaxes()):  # tick labels on top: room under the title
        figure.update_layout(margin_t=(figure.layout.margin.t or 80) + size)
    for slider in figure.layout.sliders:  # its "layer 6" label to the right end, clear of the larger Play buttons
        slider.currentvalue.xanchor = "right"
    for trace in figure.data:
        if "colorbar" in trace:
            trace.update(colorbar_tickfont_size=size, colorbar_title_font_size=size)
    legend = figure.layout.legend
    if legend.orientation == "h" and legend.y is not None and legend.y < 0:  # below the plot: under the axis title
        figure.update_layout(legend={"yref": "container", "y": 0, "yanchor": "bottom"},
                             margin_b=max(figure.layout.margin.b or 0, LEGEND_BELOW_PX))


def chart(figure: go.Figure, *, key: str, where=st, csv: bool = True, fit: int | None = None, **options):
    """st.plotly_chart plus a CSV download of the chart's numbers below it; the figure joins the page's HTML export.

    `where` is st or a column/container. In presentation mode the chart's text is larger, the CSV link hidden, and
    a page's main chart is at most `fit` px tall, so that it fits a projector's first screen with what is above it.
    """
    if presentation():
        figure = go.Figure(figure)  # a copy: the figure may be shared by every session (viz/ui/figure_cache.py)
        larger_text(figure)
        if fit is not None and (figure.layout.height or 450) > fit:
            figure.update_layout(height=fit)
    st.session_state.setdefault(CHARTS, {})[key] = figure
    drawn = where.plotly_chart(figure, key=key, config=chart_config(key), **options)
    if csv and not presentation():
        where.download_button("Numbers (CSV)", data=lambda: chart_csv(figure), file_name=f"{key}.csv",
                              mime="text/csv", key=f"{key}_csv", on_click="ignore", type="tertiary",
                              icon=":material/download:", help="The numbers this chart draws, one file per chart.")
    return drawn


def page_exports(page: str, *, model: ModelInfo, analyses: Sequence[Analysis], shown: dict, title: str) -> dict:
    """The page-wide downloads: {"json": Export, "html": Export}, reading `shown` and this run's charts when made."""
    charts = st.session_state.setdefault(CHARTS, {})
    return {
        "json": Export("Analysis (JSON)", f"{page}.json", "application/json",
                       lambda: view_json(page=page, model=model, analyses=list(analyses), shown=shown).encode()),
        "html": Export("Charts (offline HTML)", f"{page}.html", "text/html",
                       lambda: figures_html(list(charts.values()), title=f"{title} · {model.name}").encode()),
    }


def export_ui(page: str, *, model: ModelInfo, analyses: Sequence[Analysis] = (), title: str = "",
              html: bool = True) -> dict:
    """Export buttons for the page in the sidebar; returns the dict the page fills with the arrays it shows.

    Call it once the analysis is known, then add what the page shows: shown["attention"] = weights (T, T).
    The JSON holds the model, app version, tokens and ids of `analyses`, and `shown`; the HTML every chart drawn
    with chart() in this run, with plotly.js inside, so it opens offline.
    """
    shown = Shown()
    exports = page_exports(page, model=model, analyses=[_for_export(a) for a in analyses], shown=shown,
                           title=title or page)
    if not html:  # a page without charts
        del exports["html"]
    st.session_state[f"_{page}_exports"] = exports  # the same functions the buttons call (read by tests)
    with st.sidebar:
        st.markdown("**Export this view**")
        for name, export in exports.items():
            st.download_button(export.label, data=export.make, file_name=export.file_name, mime=export.mime,
                               key=f"{page}_export_{name}", on_click="ignore", icon=":material/download:")
        if html:
            st.markdown("PNG: the camera icon above each chart. CSV: the link below each chart.",
                        help="Every chart's hover also shows its exact values.")
    return shown
