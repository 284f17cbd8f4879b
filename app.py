"""The frame: page config, the shared sidebar, and navigation over the pages in pages/."""

from pathlib import Path

import streamlit as st

from viz.ui import sidebar

ROOT = Path(__file__).parent
# (file, title, icon). A page appears once its file exists, so adding a page is one line here.
# Emoji icons, not :material/...: ones: the current page's icon becomes the favicon, and Streamlit
# fetches material favicons from fonts.gstatic.com, which fails offline.
PAGES = [
    ("pages/home.py", "Home", "🏠"),
    ("pages/tokens.py", "Tokens & embeddings", "🔤"),
    ("pages/attention.py", "Attention", "👀"),
    ("pages/qkv.py", "Q, K, V", "🧮"),
    ("pages/similarity.py", "Word senses", "⚖️"),
    ("pages/projection.py", "PCA projection", "🌌"),
    ("pages/next_token.py", "Next token", "⏭️"),
]

st.set_page_config(page_title="Attention explorer", layout="wide")
sidebar()
navigation = st.navigation(
    [st.Page(file, title=title, icon=icon, default=file == "pages/home.py")
     for file, title, icon in PAGES if (ROOT / file).exists()]
)
navigation.run()
