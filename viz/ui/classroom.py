"""Streamlit glue for classrooms: presentation mode, the guided-tour box and "predict, then reveal".

The sidebar's three switches live in the shared link like every other control (present=1, tour=0, quiz=1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import streamlit as st

from viz import tour
from viz.site import PAGE_TITLES
from viz.text import escape_markdown
from viz.ui.links import ON_OFF, linked

T = TypeVar("T")
PRESENT, TOUR, QUIZ = "present", "tour", "quiz"
# (session key, label, default, help)
SWITCHES = (
    (PRESENT, "Presentation mode", False, "Larger text and fewer controls, for a projector."),
    (TOUR, "Guided tour", True, "A short explanation at the top of each page, in the seed articles' order."),
    (QUIZ, "Predict, then reveal", False, "Hide some answers until the student has guessed and clicks Reveal."),
)
PRESENTATION_FONT_PX = 22  # Streamlit's own text is sized in rem, so the root size scales all of it
PRESENTATION_CSS = f"""<style>
html {{ font-size: {PRESENTATION_FONT_PX}px !important; }}
[data-testid="stMainBlockContainer"] {{ max-width: 100%; padding-left: 3rem; padding-right: 3rem; }}
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li {{ line-height: 1.55; }}
</style>"""
CHART_FONT_PX = 16  # plotly sizes its text in px: ui_export.chart() sets it (titles one px larger, so they still fit)


def classroom_sidebar() -> None:
    """The sidebar's classroom switches, restored from and written to the link; presentation CSS when on."""
    st.markdown("**Classroom**")
    for key, label, default, help_text in SWITCHES:
        linked(key, ON_OFF, default, lambda key=key, label=label, help_text=help_text: st.toggle(
            label, key=key, help=help_text))
    if presentation():
        st.html(PRESENTATION_CSS)


def presentation() -> bool:
    """Whether presentation mode is on: pages hide secondary controls and charts use larger text."""
    return bool(st.session_state.get(PRESENT, False))


def secondary(draw: Callable[[], T]) -> Callable[[], T] | None:
    """A secondary control's draw function, or None in presentation mode (linked() then keeps its value)."""
    return None if presentation() else draw


def tour_ui(page: str) -> None:
    """The guided-tour box of a page (file stem): which of the six steps it is, what it shows, what to try, links on."""
    if not st.session_state.get(TOUR, True):
        return
    stop = tour.stop_for(page)
    with st.container(border=True, key=f"tour_{page}"):
        st.markdown(f"**🧭 {tour.step_label(stop)} · {tour.step_names(stop)}** — {stop.title}")
        st.markdown(stop.text)
        if not presentation():
            st.markdown(f"*Try this:* {stop.try_this}")
        links = [(name, arrow) for name, arrow in zip(tour.neighbours(page), ("←", "→"), strict=True) if name]
        for column, (name, arrow) in zip(st.columns(max(1, len(links))), links, strict=False):
            label = f"{arrow} {PAGE_TITLES[name]}" if arrow == "←" else f"Next: {PAGE_TITLES[name]} {arrow}"
            column.page_link(f"pages/{name}.py", label=label)


def reveal_ui(question: str, *, key: str, options: Sequence[str] = (), answer: str | None = None) -> bool:
    """Predict, then reveal: with the quiz switch on, ask `question` and hide the answer until the student clicks.

    Returns whether the page should show the answer (always True when the switch is off). With `options`, the
    student picks a guess first; with `answer` too, the guess is marked right or wrong once revealed. A new
    question (e.g. after the text changed) hides the answer again.
    """
    if not st.session_state.get(QUIZ, False):
        return True
    asked = f"_{key}_question"
    if st.session_state.get(asked) != question:
        st.session_state[asked] = question
        st.session_state[key] = False
        st.session_state.pop(f"{key}_guess", None)
    with st.container(border=True, key=f"{key}_box"):
        st.markdown(f"**🤔 Predict first.** {question}")
        guess = None
        if options:
            guess = st.radio("Your guess", list(options), index=None, key=f"{key}_guess", horizontal=True,
                             format_func=lambda option: escape_markdown(str(option), 80))
        revealed = st.toggle("Reveal the answer", key=key, disabled=bool(options) and guess is None,
                             help="Make a guess first." if options else None)
        if revealed and guess is not None and answer is not None:
            verdict = "✅ Right" if guess == answer else f"❌ Not quite: it is **{escape_markdown(answer, 80)}**"
            st.markdown(f"{verdict} (you guessed {escape_markdown(str(guess), 80)}).")
    return revealed
