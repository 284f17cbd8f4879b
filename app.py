"""The frame: page config, the shared sidebar, and navigation over the pages in pages/."""

from pathlib import Path

import streamlit as st

from viz.ui import sidebar

ROOT = Path(__file__).parent
# (file, title, icon). A page appears once its file exists, so adding a page is one line here.
PAGES = [
    ("pages/home.py", "Home", ":material/home:"),
    ("pages/tokens.py", "Tokens & embeddings", ":material/text_fields:"),
    ("pages/attention.py", "Attention", ":material/visibility:"),
    ("pages/qkv.py", "Q, K, V", ":material/calculate:"),
    ("pages/similarity.py", "Word senses", ":material/compare_arrows:"),
    ("pages/projection.py", "PCA projection", ":material/scatter_plot:"),
    ("pages/next_token.py", "Next token", ":material/skip_next:"),
]

# A local favicon: without one, Streamlit fetches the page's material icon from fonts.gstatic.com (offline: fails).
st.set_page_config(page_title="Attention explorer", page_icon=ROOT / "static" / "favicon.png", layout="wide")
sidebar()
navigation = st.navigation(
    [st.Page(file, title=title, icon=icon, default=file == "pages/home.py")
     for file, title, icon in PAGES if (ROOT / file).exists()]
)
navigation.run()
