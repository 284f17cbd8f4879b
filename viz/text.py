"""Cleaning what a user types before it reaches a tokenizer: pure Python, no model."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_CHARS = 50_000  # far beyond any model's token limit; stops megabytes of paste from stalling the tokenizer


class EmptyText(ValueError):
    """The text has nothing to analyse."""


@dataclass(frozen=True)
class CleanText:
    text: str
    notices: tuple[str, ...]


def clean_text(text: str | None) -> CleanText:
    """Drop control characters, NUL and lone surrogates, cap the length, and refuse empty text."""
    text = text or ""
    notices = []
    if len(text) > MAX_CHARS:
        notices.append(f"The text was cut to its first {MAX_CHARS:,} of {len(text):,} characters.")
        text = text[:MAX_CHARS]
    kept = "".join(ch for ch in text if _keep(ch))
    if len(kept) != len(text):
        notices.append(f"Removed {len(text) - len(kept)} control or invalid character(s) from the text.")
    if not kept.strip():
        raise EmptyText("Type a sentence (or pick a preset) to see what the model does with it.")
    return CleanText(kept.strip(), tuple(notices))


def _keep(ch: str) -> bool:
    if ch in "\t\n":
        return True
    category = unicodedata.category(ch)
    return category not in ("Cc", "Cs", "Co", "Cn")


def escape_markdown(text: str, limit: int = 60) -> str:
    """User text for st.markdown/st.warning: shortened, markdown and LaTeX characters escaped so it shows as typed."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~<>$&])", r"\\\1", text)
