"""The app's pages, written once: file stem, title and Material icon, in the order of the menu and the tour."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    """One page of the app: pages/<stem>.py, its menu title and its icon (Streamlit's bundled Material icons)."""

    stem: str
    title: str
    icon: str
    shows: str  # one line for the home page's table

    @property
    def file(self) -> str:
        return f"pages/{self.stem}.py"


PAGES = (
    Page("home", "Home", ":material/home:", "what each page shows; your text as the model's tokens"),
    Page("tokens", "Tokens & embeddings", ":material/text_fields:",
         "tokens and ids, one-hot vs dense vectors, similarity of word vectors"),
    Page("attention", "Attention", ":material/visibility:",
         "BertViz head and model views, attention heatmaps for every layer and head, what *it* refers to"),
    Page("qkv", "Q, K, V", ":material/calculate:",
         "how one attention weight is computed: query · key, scaling, mask, softmax, values"),
    Page("similarity", "Word senses", ":material/compare_arrows:",
         "cosine similarity of token vectors within and across sentences, layer by layer"),
    Page("projection", "PCA projection", ":material/scatter_plot:",
         "hidden states of every token projected to 2-D/3-D, animated over the layers"),
    Page("next_token", "Next token", ":material/skip_next:",
         "next-token probabilities, temperature, top-k/top-p, step-by-step generation, logit lens"),
    Page("translation", "Translation", ":material/translate:",
         "an encoder–decoder writes a translation token by token; cross-attention, BertViz, Q/K/V of cross-attention"),
    Page("train", "Train", ":material/model_training:",
         "train a tiny Llama here on a repeating pattern or your text; watch an induction head form"),
)
PAGE_TITLES = {page.stem: page.title for page in PAGES}
