"""Shared pieces of the figure builders: readable token labels, token axes and colour scales."""

from __future__ import annotations

from collections.abc import Sequence

# Colour-blind-safe scales (viridis family is perceptually uniform; RdBu is safe for red-green deficiency).
SEQUENTIAL = "Viridis"
DIVERGING = "RdBu"


def visible(token: str) -> str:
    """Token text with whitespace made visible: leading space as ␣, newline as ↵, tab as ⇥."""
    if token == "":
        return "∅"
    text = token.replace("\n", "↵").replace("\t", "⇥")
    if text.startswith(" "):
        text = "␣" + text[1:]
    return text if text.strip() else text.replace(" ", "␣")


def plotly_label(token: str) -> str:
    """visible(token) for a plotly text field (ticks, hovers, titles), which reads a little HTML (<b>, <s>, <br>,
    <a>) and entities: a Llama-style "<s>" token would be drawn struck through and vanish, a typed "<b>" turn bold.
    Escaped, it shows as written."""
    return plotly_text(visible(token))


def plotly_text(text: str) -> str:
    """Any text for a plotly text field, shown as written (see plotly_label)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Token labels on a page-wide axis of a map (text x text): more would overlap, and plotly.js measures each label on
# every margin pass (128 on both axes of a 506-token map cost the browser seconds; bench/figure_cost.py).
MAP_AXIS_LABELS = 64


def token_axis(tokens: Sequence[str], *, max_labels: int = 128) -> dict:
    """Axis settings that label integer positions with token text (duplicate words stay separate cells)."""
    step = max(1, -(-len(tokens) // max_labels))  # thin labels on long inputs so they stay readable
    positions = list(range(0, len(tokens), step))
    return {
        "tickmode": "array",
        "tickvals": positions,
        "ticktext": [plotly_label(tokens[i]) for i in positions],
        "automargin": True,
    }


def hover_labels(tokens: Sequence[str]) -> list[str]:
    """'position: token' strings for hover text."""
    return [f"{i}: {plotly_label(t)}" for i, t in enumerate(tokens)]


# Signed values: red = positive, blue = negative on every page (DIVERGING with reversescale=True; bars use its ends).
POSITIVE_COLOUR = "#b2182b"
NEGATIVE_COLOUR = "#2166ac"
# Marker shapes that exist in 2-D and 3-D scatters, so groups differ by shape as well as by colour.
MARKER_SYMBOLS = ("circle", "square", "diamond", "cross", "x", "circle-open", "square-open", "diamond-open")


def marker_symbol(index: int) -> str:
    """The marker shape of group `index` (cycles after eight)."""
    return MARKER_SYMBOLS[index % len(MARKER_SYMBOLS)]


def code_token(token: str) -> str:
    """A token as inline markdown code, so its characters are shown, never interpreted."""
    return "`" + visible(token).replace("`", "ˋ") + "`"
