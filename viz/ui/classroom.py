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
# A projector's first screen (1280 × 720) must hold the page's main chart: Streamlit's empty top band (6rem of padding
# under a 3.75rem header) shrinks to a thin strip that keeps its buttons (open the sidebar, ⋮ menu), and the gaps
# between elements and the headings get smaller than the text's scale would make them.
PRESENTATION_CSS = f"""<style>
html {{ font-size: {PRESENTATION_FONT_PX}px !important; }}
[data-testid="stHeader"] {{ height: 2rem; min-height: 2rem; background: transparent; }}
[data-testid="stMainBlockContainer"] {{ max-width: 100%; padding: 1.6rem 2rem 4rem; }}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] {{ gap: 0.5rem; }}
[data-testid="stMainBlockContainer"] h1 {{ font-size: 1.7rem; padding: 0 0 0.2rem; }}
[data-testid="stMainBlockContainer"] h2 {{ font-size: 1.35rem; padding: 0.4rem 0 0.1rem; }}
[data-testid="stMainBlockContainer"] h3 {{ font-size: 1.15rem; padding: 0.3rem 0 0.1rem; }}
.stHeading [data-testid="stMarkdownContainer"] {{ margin-bottom: -0.5rem; }}  /* Streamlit's -1rem fits 1rem gaps */
.stHeading:has(h1) [data-testid="stMarkdownContainer"] {{ margin-bottom: -1rem; }}
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li {{ line-height: 1.45; }}
[class*="st-key-tour_"] {{ padding: 0.25rem 1rem; }}
</style>"""
CHART_FONT_PX = 18  # plotly sizes its text in px: ui_export.chart() sets it (titles two px larger)
ICON = {"tour": ":material/explore:", "predict": ":material/psychology_alt:", "right": ":material/check_circle:",
        "wrong": ":material/cancel:", "settings": ":material/tune:"}  # Streamlit's bundled icons: drawn offline


def classroom_sidebar() -> None:
    """The sidebar's classroom switches, restored from and written to the link; presentation mode's layout when on.

    A presentation link opens with the sidebar collapsed (the » at the top left opens it). Streamlit applies that
    initial state only until the reader opens or closes the sidebar by hand: from then on that browser keeps the
    reader's choice (Streamlit stores it), so the sidebar is never folded away under someone using it.
    """
    st.markdown("**Classroom**")
    for key, label, default, help_text in SWITCHES:
        linked(key, ON_OFF, default, lambda key=key, label=label, help_text=help_text: st.toggle(
            label, key=key, help=help_text))
    if presentation():
        st.set_page_config(initial_sidebar_state="collapsed")
        st.html(PRESENTATION_CSS)


def presentation() -> bool:
    """Whether presentation mode is on: pages hide secondary controls and charts use larger text."""
    return bool(st.session_state.get(PRESENT, False))


def secondary(draw: Callable[[], T]) -> Callable[[], T] | None:
    """A secondary control's draw function, or None in presentation mode (linked() then keeps its value)."""
    return None if presentation() else draw


def chart_first():
    """(where the page's main chart goes, where its controls go), two containers in page order.

    Outside presentation mode the controls come first, as always; in presentation mode the chart's place comes
    first, so that it is on the first screen and the controls that set it follow below. Draw the controls first
    either way (the chart needs their values).
    """
    if presentation():
        place = st.container()
        return place, st.container()
    controls = st.container()
    return st.container(), controls


def beside(ratio: tuple[float, float] = (2.4, 1)):
    """(where the main chart goes, where its controls go): side by side in presentation mode, the chart on the left
    (a wide screen has room beside a chart, not above it), else the controls above the chart as always."""
    if presentation():
        main, side = st.columns(list(ratio), gap="medium")
        return main, side
    side = st.container()
    return st.container(), side


def settings_box(label: str):
    """Where rarely touched controls go: a closed expander in presentation mode (one line), else the page itself."""
    return st.expander(label, icon=ICON["settings"]) if presentation() else st.container()


def tour_ui(page: str) -> None:
    """The guided-tour box of a page (file stem): which of the six steps it is, what it shows, what to try, links on.

    In presentation mode it is one line: the step, the stop's title and the link to the next page.
    """
    if not st.session_state.get(TOUR, True):
        return
    stop = tour.stop_for(page)
    previous, following = tour.neighbours(page)
    with st.container(border=True, key=f"tour_{page}"):
        if presentation():
            text, link = st.columns([4, 1.6], vertical_alignment="center")
            text.markdown(f"{ICON['tour']} **{tour.step_label(stop)}** · {stop.title}")
            if following or previous:
                _tour_link(link, following or previous, following is not None)
            return
        st.markdown(f"{ICON['tour']} **{tour.step_label(stop)} · {tour.step_names(stop)}** — {stop.title}")
        st.markdown(stop.text)
        st.markdown(f"*Try this:* {stop.try_this}")
        links = [(name, ahead) for name, ahead in ((previous, False), (following, True)) if name]
        for column, (name, ahead) in zip(st.columns(max(1, len(links))), links, strict=False):
            _tour_link(column, name, ahead)


def _tour_link(where, page: str, ahead: bool) -> None:
    label = f"Next: {PAGE_TITLES[page]} →" if ahead else f"← {PAGE_TITLES[page]}"
    where.page_link(f"pages/{page}.py", label=label)


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
        st.markdown(f"{ICON['predict']} **Predict first.** {question}")
        guess = None
        if options:
            guess = st.radio("Your guess", list(options), index=None, key=f"{key}_guess", horizontal=True,
                             format_func=lambda option: escape_markdown(str(option), 80))
        revealed = st.toggle("Reveal the answer", key=key, disabled=bool(options) and guess is None,
                             help="Make a guess first." if options else None)
        if revealed and guess is not None and answer is not None:
            verdict = (f"{ICON['right']} Right" if guess == answer
                       else f"{ICON['wrong']} Not quite: it is **{escape_markdown(answer, 80)}**")
            st.markdown(f"{verdict} (you guessed {escape_markdown(str(guess), 80)}).")
    return revealed
