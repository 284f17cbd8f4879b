"""The guided tour's content: six steps in the seed articles' order, which page shows which step, what to try.

Pure data (no streamlit): text → tokens → one-hot vs embeddings → attention (Q, K, V) → contextual meaning →
next-token probabilities. Written for students; every sentence holds for both bundled models.
"""

from __future__ import annotations

from dataclasses import dataclass

from viz.site import PAGES

STEPS = (
    "Text",
    "Tokens",
    "One-hot vs embeddings",
    "Attention: Q, K, V",
    "Contextual meaning",
    "Next-token probabilities",
)


@dataclass(frozen=True)
class Stop:
    """One page of the tour: its page file stem, the steps (1-based) it covers, a title, text and a thing to try."""

    page: str
    steps: tuple[int, ...]
    title: str
    text: str
    try_this: str


STOPS = (
    Stop("home", (1,), "Text in, numbers out",
         "A language model never sees letters. Everything on the next pages is computed, on this machine, from "
         "the sentence in the sidebar by the model you picked there. Change the sentence and every page changes "
         "with it.",
         "pick the preset *party (celebration)*: its second sentence uses “party” in another sense, and we will "
         "follow both."),
    Stop("tokens", (2, 3), "Tokens, then vectors",
         "**Tokens.** The tokenizer cuts the text into tokens (whole words, pieces of words, even pieces of one "
         "character) and replaces each by its **id**, a row number in the vocabulary.  \n"
         "**One-hot vs embeddings.** An id could be written as a one-hot vector: as long as the vocabulary, all "
         "zeros and a single 1. It names the token and says nothing about it. The model looks up a **dense "
         "embedding** instead: a few hundred learned numbers per token, so tokens used alike get similar vectors.",
         "type `paris` in the sidebar, or `我正在吃饭`: how many tokens does each model make of it?"),
    Stop("attention", (4,), "Attention: who looks at whom",
         "Every layer rebuilds each token's vector as a **weighted mix** of the tokens it can see. The weights "
         "(one row per token, summing to 1) are the **attention**. Each head weighs differently; in a decoder a "
         "token sees only the tokens before it.",
         "pick *it = animal*, choose the token “it” and look for a head where it looks at “animal”."),
    Stop("qkv", (4,), "One attention weight, step by step",
         "Each token asks a question (its **query** q) and offers a label (its **key** k) and content (its "
         "**value** v). The weight of one token on another is q·k, scaled by 1/√d, masked in a decoder, then "
         "softmax makes all the weights of a row add up to 1. The head's output is the weighted sum of the values.",
         "keep the query token and switch heads: the same query picks different keys."),
    Stop("similarity", (5,), "Meaning from context",
         "After a few layers a token's vector carries its context. “party” starts from the same row of the "
         "embedding table in every sentence; layer by layer its vectors drift apart when the senses differ. "
         "**Cosine similarity** (1 = same direction) measures how alike two vectors are.",
         "from which layer on is the celebration “party” closer to the birthday “party” than to the political one?"),
    Stop("projection", (5,), "Meaning as a map",
         "Hundreds of numbers per token cannot be drawn, so **PCA** keeps the two or three directions in which the "
         "vectors differ most. Press ▶ Play to watch the tokens move through the layers: uses of one word with "
         "different senses should end up in different places.",
         "choose the built-in sense set and watch when the two senses separate."),
    Stop("next_token", (6,), "Predicting the next token",
         "A decoder turns the last token's final vector into one score per vocabulary entry; **softmax** turns "
         "the scores into probabilities. Generating text is picking one token, appending it and repeating. "
         "**Temperature** sharpens (below 1) or flattens (above 1) the probabilities before the pick. "
         "Attention weights are not explanations (Jain & Wallace 2019; Wiegreffe & Pinter 2019): **Explain this "
         "prediction** asks another question, how much each earlier token raised or lowered the chosen score.",
         "try *London was* and generate a few tokens by hand, then raise the temperature."),
)
# Beyond the six steps: pages with a tour box of their own that the tour's previous/next links do not pass through.
EXTRA_STOPS = (
    Stop("translation", (4,), "Encoder and decoder: three kinds of attention",
         "A translation model has two halves. The **encoder** reads the whole source at once: each source token "
         "looks at every other (**self-attention**, both directions). The **decoder** writes the output one token at "
         "a time. It looks at the tokens it has already written (**masked self-attention**): the mask hides later "
         "positions, because while writing a token the words after it do not exist yet; in training, where the "
         "whole answer is fed at once, the mask stops the decoder from copying the answer instead of predicting it. "
         "And it looks at the encoder's output (**cross-attention**): queries from the decoder, keys and values "
         "from the source. Cross-attention is how “我正在吃饭” becomes “I am eating”: while writing “eating”, "
         "the decoder reads “吃饭”.",
         "press **Next step** a few times and watch which source tokens each new output token reads; with the "
         "date model, try `12/02/26` or `the 2nd of December, 2026`."),
)
STOPS_BY_PAGE = {stop.page: stop for stop in (*STOPS, *EXTRA_STOPS)}


def stop_for(page: str) -> Stop:
    """The tour stop of a page (file stem, e.g. "qkv"); KeyError for a page outside the tour."""
    return STOPS_BY_PAGE[page]


def step_label(stop: Stop) -> str:
    """'Step 4 of 6' or 'Steps 2–3 of 6'."""
    first, last = stop.steps[0], stop.steps[-1]
    return f"Step {first} of {len(STEPS)}" if first == last else f"Steps {first}–{last} of {len(STEPS)}"


def step_names(stop: Stop) -> str:
    """The names of the steps a stop covers, e.g. 'Tokens · One-hot vs embeddings'."""
    return " · ".join(STEPS[step - 1] for step in stop.steps)


def neighbours(page: str) -> tuple[str | None, str | None]:
    """The previous and next page of the tour (None at either end); pages outside the tour (Train) are skipped."""
    pages = [site_page.stem for site_page in PAGES if site_page.stem in {stop.page for stop in STOPS}]
    if page not in pages:  # a page beyond the tour links back to its last stop
        return pages[-1], None
    index = pages.index(page)
    return (pages[index - 1] if index > 0 else None, pages[index + 1] if index + 1 < len(pages) else None)
