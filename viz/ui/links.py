"""The one way a control is kept in the address bar, so that a copied link reopens the same view.

Every control goes through `linked()`: its first value comes from the link the session was opened with (a bad
value gives a notice and the default), later from what the person last chose, even after the control was hidden
(a closed tab, presentation mode); every run writes the value back to the address bar in one spelling per type:
whole numbers and decimals as written, on/off as 1/0, choices as their text (or position), text as typed. A value
equal to its default is left out, as Streamlit's own bind="query-params" does, so links stay short.
Old links keep working: on/off also reads true/false, on/off and yes/no.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

URL_TEXT_LIMIT = 2000  # a value spelled longer than this stays out of the link (a link must stay shareable)
SNAPSHOT = "_link"  # session_state: the query parameters this session was opened with, each used once
KEPT = "_kept_{}"  # session_state: a control's last value, for when it comes back after being hidden


@dataclass(frozen=True)
class LinkType:
    """How a control's value is read from and written to the link.

    parse(text) returns the value or raises ValueError; expected says what a good value looks like (for the
    notice); spell(value) is the text written to the link.
    """

    parse: Callable[[str], Any]
    expected: str
    spell: Callable[[Any], str] = str

    def accepts(self, value) -> bool:
        """Whether a remembered value is still valid (e.g. layer 20 after switching to a 6-layer model is not)."""
        try:
            return self.parse(self.spell(value)) == value
        except (ValueError, TypeError):
            return False


def whole(low: int, high: int) -> LinkType:
    """A whole number from low to high."""
    def parse(text: str) -> int:
        value = int(text.strip())
        if not low <= value <= high:
            raise ValueError(text)
        return value
    return LinkType(parse, f"a whole number from {low} to {high}")


def number(low: float, high: float) -> LinkType:
    """A number from low to high."""
    def parse(text: str) -> float:
        value = float(text.strip())
        if not low <= value <= high:  # also false for nan
            raise ValueError(text)
        return value
    return LinkType(parse, f"a number from {low:g} to {high:g}")


def one_of(options: Sequence, *, by_position: bool = False) -> LinkType:
    """One of `options`, written as its text; by_position writes its position (for options made of user text)."""
    options = list(options)
    if by_position:
        position = whole(0, len(options) - 1)
        return LinkType(lambda text: options[position.parse(text)], position.expected,
                        lambda value: str(options.index(value)))

    def parse(text: str):
        for option in options:
            if str(option) == text:
                return option
        raise ValueError(text)
    shown = ", ".join(str(option) for option in options[:8]) + (", …" if len(options) > 8 else "")
    return LinkType(parse, f"one of: {shown}")


def _on_off(text: str) -> bool:
    value = {"1": True, "true": True, "on": True, "yes": True,
             "0": False, "false": False, "off": False, "no": False}.get(text.strip().lower())
    if value is None:
        raise ValueError(text)
    return value


ON_OFF = LinkType(_on_off, "on or off (1 or 0)", lambda value: "1" if value else "0")


def text(limit: int = URL_TEXT_LIMIT) -> LinkType:
    """Text as typed, cut to `limit` characters."""
    return LinkType(lambda raw: raw[:limit], "text", str)


def link_snapshot() -> dict[str, str]:
    """The query parameters this session was opened with (a shared link), read once per session."""
    if SNAPSHOT not in st.session_state:
        st.session_state[SNAPSHOT] = {key: st.query_params[key] for key in st.query_params}
    return st.session_state[SNAPSHOT]


def from_link(key: str, kind: LinkType, default):
    """The value the session's link gives `key` (once; later calls get `default`); a notice when it is bad."""
    raw = link_snapshot().pop(key, None)
    if raw is None:
        return default
    try:
        return kind.parse(raw)
    except ValueError:
        st.toast(f"The link asked for {key} = {raw[:30]!r}, but it must be {kind.expected}, so "
                 f"{kind.spell(default)[:30]!r} is shown.")
        return default


def write(key: str, spelled: str | None) -> None:
    """Put one value in the address bar; None, or a value too long for a link, takes it out."""
    if spelled is None or len(spelled) > URL_TEXT_LIMIT:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != spelled:
        st.query_params[key] = spelled


def linked(key: str, kind: LinkType, default, draw: Callable[[], Any] | None):
    """Draw a control whose value lives in the link; returns what draw() returns.

    draw() must create the widget with key=`key` and without its own default (the value is set through
    st.session_state before it is drawn). With draw=None the control is hidden (presentation mode) and its
    value is returned instead. Either way the value is written to the address bar (unless it is the default).
    """
    kept = KEPT.format(key)
    if key not in st.session_state or not kind.accepts(st.session_state[key]):
        last = st.session_state.get(kept)
        st.session_state[key] = last if last is not None and kind.accepts(last) else from_link(key, kind, default)
    value = st.session_state[key]
    result = value if draw is None else draw()
    value = st.session_state.get(key, value)
    st.session_state[kept] = value
    write(key, None if value == default else kind.spell(value))
    return result
