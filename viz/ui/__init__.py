"""Streamlit glue: everything between the pages and the model layer. Only this package and the pages import streamlit.

Modules, each importing only those above it (no cycles):
  links.py      the one way a control is kept in the address bar (linked(), with LinkType: whole, number, one_of, ...)
  classroom.py  presentation mode, secondary controls, the guided-tour box, predict-then-reveal
  export.py     chart() with its CSV, the page's JSON and offline-HTML exports
  cached.py     every model call a page needs, cached and shared by all sessions (analyses, Q/K/V, word vectors, ...)
  figure_cache.py  figures built once per key and shared read-only by all sessions and reruns
  session.py    what belongs to one browser session: its generation run
  sidebar.py    the shared sidebar and what it selects: current_model(), current_analysis()
  widgets.py    small *_ui() pickers several pages share
"""

import viz.ui.navigation_mode  # noqa: F401,E402  (a page opened first by a link runs without app.py; see there)
