"""Home: what the app is and what each page shows."""

import streamlit as st

from viz.site import PAGES
from viz.ui.classroom import chart_first, tour_ui
from viz.ui.export import export_ui
from viz.ui.sidebar import current_analysis

st.title("Attention explorer")
tour_ui("home")
place, rest = chart_first()  # presentation mode: the text as tokens first, the page list below it
rest.markdown("Type a sentence in the sidebar (or pick a preset) and see what a transformer does with it, step by "
              "step, with models that run on this machine — no internet needed.")
rest.markdown("| page | what it shows |\n| --- | --- |\n"
              + "\n".join(f"| **{page.title}** | {page.shows} |" for page in PAGES if page.stem != "home"))
rest.markdown("Two models come with the app: **all-MiniLM-L6-v2**, a 6-layer BERT-family encoder (it reads the whole "
              "sentence at once), and **SmolLM2-135M-Instruct**, a 30-layer Llama-family decoder (it reads left to "
              "right and predicts the next token). With internet, any Hugging Face BERT-, GPT-2- or Llama-family model "
              "can be typed in.")

analysis = current_analysis()
info = analysis.model
export_ui("home", model=info, analyses=[analysis], html=False)
with place.container(key="home_tokens"):
    st.subheader("Your text, as the model sees it")
    st.caption(
        f"{info.name}: {info.n_layers} layers × {info.n_heads} heads, width {info.width}, "
        f"{info.vocab_size:,} tokens in its vocabulary; {analysis.n_tokens} tokens in your text."
    )
    st.text(" | ".join(analysis.tokens))  # st.code would load a 1.5 MB highlighter into every new browser
