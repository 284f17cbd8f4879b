"""The app's pages, written once: file stem, title and Material icon, in the order of the menu and the tour."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    """One page of the app: pages/<stem>.py, its menu title and its icon (Streamlit's bundled Material icons)."""

    stem: str
    title: str
    icon: str

    @property
    def file(self) -> str:
        return f"pages/{self.stem}.py"


PAGES = (
    Page("home", "Home", ":material/home:"),
    Page("tokens", "Tokens & embeddings", ":material/text_fields:"),
    Page("attention", "Attention", ":material/visibility:"),
    Page("qkv", "Q, K, V", ":material/calculate:"),
    Page("similarity", "Word senses", ":material/compare_arrows:"),
    Page("projection", "PCA projection", ":material/scatter_plot:"),
    Page("next_token", "Next token", ":material/skip_next:"),
)
PAGE_TITLES = {page.stem: page.title for page in PAGES}
