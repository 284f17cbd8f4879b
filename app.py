"""The frame: page config, the shared sidebar, and navigation over the pages in pages/ (listed in viz/site.py)."""

from pathlib import Path

import streamlit as st

import viz.ui.navigation_mode  # noqa: F401  (Streamlit's old pages/ mode off from the first run; see there)
from viz.site import PAGES
from viz.ui.sidebar import sidebar

ROOT = Path(__file__).parent

# A local favicon: without one, Streamlit fetches the page's material icon from fonts.gstatic.com (offline: fails).
st.set_page_config(page_title="Attention explorer", page_icon=ROOT / "static" / "favicon.png", layout="wide")
sidebar()
navigation = st.navigation([st.Page(page.file, title=page.title, icon=page.icon, default=page.stem == "home")
                            for page in PAGES])
navigation.run()
