"""Make `streamlit run app.py` serve the st.navigation app from the first run of the process. Importing it is all.

Streamlit (1.67) decides once per process, when the first browser session opens, that a folder named pages/ next
to app.py means an old-style multipage app: `PagesManager.uses_pages_directory` becomes True and stays True until
the first st.navigation call. So the first run of the process is wrapped in Streamlit's automatic page menu: app.py
runs as one page of it (or, for a link such as /attention, pages/attention.py runs alone, with no sidebar), and
every sidebar widget gets an id derived from that page. From the next run on app.py runs directly, under the main
script's id, so every sidebar widget gets a new id and what the reader just chose (the model) is dropped: the
choice snaps back and the text boxes empty. No config option or public call turns the old mode off before the
first run, and app.py only runs inside it; st.navigation itself clears this same flag, but only once it is called.

So the first import of this module, during that first run, clears the flag and restarts the run with st.rerun()
(same page, same query string): the reader's first screen is drawn by app.py with the ids every later run uses.
app.py imports it, and viz/ui/__init__.py must too, for a page opened first by a link runs without app.py. The flag
is private: tests/test_navigation_mode.py fails the day Streamlit renames it or changes what it means.
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def legacy_pages_mode() -> bool:
    """True while Streamlit treats this process as an old-style pages/ app (before any st.navigation call)."""
    return bool(PagesManager.uses_pages_directory)


def use_navigation() -> None:
    """Mark the process as an st.navigation app, as st.navigation's first call would."""
    PagesManager.uses_pages_directory = False


if legacy_pages_mode():  # only in the process's first script run; st.rerun() does nothing outside a script run
    use_navigation()
    if not legacy_pages_mode():  # never a rerun loop, whatever a later Streamlit does with the flag
        st.rerun()
