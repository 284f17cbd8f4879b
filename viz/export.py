"""Turning what a page shows into files: JSON of the analysis, CSV of a chart's numbers, standalone HTML."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

import viz
from viz.analysis import Analysis


def _plain(value):
    """numpy values and arrays to JSON-ready Python values (rounded floats keep files small)."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        value = value.astype(np.float32) if value.dtype == np.float16 else value  # float16 x 10^6 would overflow
        rounded, finite = np.round(value, 6), np.isfinite(value)
        return rounded.tolist() if finite.all() else np.where(finite, rounded, None).tolist()  # -inf, nan: null
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, pd.DataFrame):
        return {str(column): _plain(value[column].to_numpy()) for column in value.columns}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def analysis_json(analysis: Analysis, *, page: str, shown: dict | None = None) -> str:
    """The analysis behind a page as JSON: model, app version, tokens, ids and the arrays the page shows."""
    document = {
        "app": "attention-explorer",
        "app_version": viz.__version__,
        "page": page,
        "model": {"key": analysis.model.key, "name": analysis.model.name, "kind": analysis.model.kind,
                  "layers": analysis.model.n_layers, "heads": analysis.model.n_heads},
        "text": analysis.text,
        "text_pair": analysis.text_pair,
        "tokens": list(analysis.tokens),
        "token_ids": analysis.token_ids.tolist(),
        "word_ids": list(analysis.word_ids),
        "shown": _plain(shown or {}),
    }
    return json.dumps(document, ensure_ascii=False, indent=1)


def figures_html(figures: Sequence[go.Figure], *, title: str) -> str:
    """One offline HTML file with these figures: plotly.js is embedded from the installed package, no CDN."""
    parts = [pio.to_html(figure, full_html=False, include_plotlyjs=(i == 0)) for i, figure in enumerate(figures)]
    safe_title = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{safe_title}</title></head>"
            f"<body><h1>{safe_title}</h1>{''.join(parts)}</body></html>")


def _model_document(model) -> dict:
    return {"key": model.key, "name": model.name, "kind": model.kind, "layers": model.n_layers,
            "heads": model.n_heads}


def view_json(*, page: str, model, analyses: Sequence[Analysis] = (), shown: dict | None = None) -> str:
    """What a page shows as JSON: one analysis as analysis_json; several (or none) as a list of sentences."""
    if len(analyses) == 1:
        return analysis_json(analyses[0], page=page, shown=shown)
    document = {
        "app": "attention-explorer",
        "app_version": viz.__version__,
        "page": page,
        "model": _model_document(model),
        "sentences": [{"text": a.text, "tokens": list(a.tokens), "token_ids": a.token_ids.tolist(),
                       "word_ids": list(a.word_ids)} for a in analyses],
        "shown": _plain(shown or {}),
    }
    return json.dumps(document, ensure_ascii=False, indent=1)


def _axis_names(figure: go.Figure, trace, letter: str) -> dict[float, str]:
    """{position: tick text} of the trace's x or y axis when it is labelled with an array (token axes)."""
    reference = getattr(trace, f"{letter}axis", None) or letter  # Scatter3d has no cartesian axes
    try:
        axis = figure.layout[f"{letter}axis{reference[1:]}"]
    except (KeyError, ValueError):
        return {}
    if axis.tickvals is None or axis.ticktext is None:
        return {}
    return {float(v): html.unescape(str(t)) for v, t in zip(axis.tickvals, axis.ticktext, strict=False)}


def _named(values, names: dict[float, str]) -> list:
    """Axis values, as 'position: tick text' where the axis names them (numbers elsewhere)."""
    out = []
    for value in values:
        try:
            text = names.get(float(value))
        except (TypeError, ValueError):
            text = None
        out.append(value if text is None else text if text.startswith(f"{value}:") else f"{value}: {text}")
    return out


def _plain_text(value) -> str:
    """Hover text without its HTML: tags dropped, line breaks as spaces, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<br\s*/?>", " ", str(value))))


def _heatmap_table(figure: go.Figure, trace) -> pd.DataFrame:
    """A heatmap's z (R, C) with rows and columns named like the chart's axes."""
    z = np.asarray(trace.z, dtype=float)
    x = np.arange(z.shape[1]) if trace.x is None else np.asarray(trace.x)
    y = np.arange(z.shape[0]) if trace.y is None else np.asarray(trace.y)
    rows, columns = _named(y, _axis_names(figure, trace, "y")), _named(x, _axis_names(figure, trace, "x"))
    return pd.DataFrame(z, index=pd.Index(rows, name="row"), columns=[str(c) for c in columns])


def _strings(values, n_points: int) -> list:
    """One plain string per point from a trace's text or customdata, or Nones when it has none of that shape."""
    if values is None or isinstance(values, str) or len(values) != n_points:
        return [None] * n_points
    return [None if v is None or np.ndim(v) else _plain_text(v) for v in values]


def _trace_rows(figure: go.Figure, trace, base, frame: str | None, name: str) -> list[dict]:
    """One row per point (per cell of a heatmap): trace name, frame, x, y, z and the point's text and label."""
    if base.type == "heatmap":
        table = _heatmap_table(figure, base if trace.z is None else trace)
        return [{"trace": name, "frame": frame, "y": row, "x": column, "z": value}
                for row, values in table.iterrows() for column, value in values.items()]
    columns = {}
    for letter in ("x", "y", "z"):
        values = getattr(trace, letter, None)
        if values is not None:
            values = np.asarray(values).tolist()
            columns[letter] = values if letter == "z" else _named(values, _axis_names(figure, base, letter))
    n_points = max((len(v) for v in columns.values()), default=0)
    text, label = _strings(base.text, n_points), _strings(base.customdata, n_points)
    return [{"trace": name, "frame": frame, **{k: v[i] for k, v in columns.items()}, "text": text[i],
             "label": label[i]} for i in range(n_points)]


def figure_table(figure: go.Figure) -> pd.DataFrame:
    """The numbers a figure draws: a lone heatmap as its labelled matrix, anything else one row per point.

    Animated figures (frames, e.g. one per layer) give every frame's points, with the frame's name.
    """
    heatmaps = [trace for trace in figure.data if trace.type == "heatmap"]
    if len(heatmaps) == 1 and not figure.frames:
        return _heatmap_table(figure, heatmaps[0])
    rows = []
    if figure.frames:
        for frame in figure.frames:
            for index, (trace, base) in enumerate(zip(frame.data, figure.data, strict=False)):
                rows += _trace_rows(figure, trace, base, frame.name, base.name or f"{base.type} {index + 1}")
    else:
        for index, trace in enumerate(figure.data):
            rows += _trace_rows(figure, trace, trace, None, trace.name or f"{trace.type} {index + 1}")
    table = pd.DataFrame(rows)
    return table.drop(columns=[c for c in ("frame", "text", "label") if c in table and table[c].isna().all()])


def figure_csv(figure: go.Figure) -> str:
    """figure_table as CSV text."""
    table = figure_table(figure)
    return table.to_csv(index=table.index.name == "row")
