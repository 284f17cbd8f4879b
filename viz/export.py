"""Turning what a page shows into files: JSON of the analysis, CSV of a chart's numbers, standalone HTML."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

import viz
from viz.analysis import Analysis


def _plain(value):
    """numpy values and arrays to JSON-ready Python values (rounded floats keep files small)."""
    if isinstance(value, np.ndarray):
        return np.round(value, 6).tolist() if value.dtype.kind == "f" else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
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


def matrix_csv(matrix: np.ndarray, *, rows: Sequence[str], columns: Sequence[str]) -> str:
    """A labelled matrix (e.g. attention weights, query tokens down, key tokens across) as CSV text."""
    row_labels = [f"{i}:{t}" for i, t in enumerate(rows)]
    column_labels = [f"{i}:{t}" for i, t in enumerate(columns)]
    return pd.DataFrame(np.asarray(matrix), index=row_labels, columns=column_labels).to_csv()


def figures_html(figures: Sequence[go.Figure], *, title: str) -> str:
    """One offline HTML file with these figures: plotly.js is embedded from the installed package, no CDN."""
    parts = [pio.to_html(figure, full_html=False, include_plotlyjs=(i == 0)) for i, figure in enumerate(figures)]
    safe_title = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{safe_title}</title></head>"
            f"<body><h1>{safe_title}</h1>{''.join(parts)}</body></html>")
