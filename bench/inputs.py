"""Benchmark inputs: real sentences from the seed examples, cut to an exact token count."""

from viz.presets import PRESETS

SIZES = (16, 64, 256, 512)
MODELS = ("bundled:minilm", "bundled:smollm2")


def text_of_tokens(tokenizer, n_tokens: int) -> str:
    """A text made of the preset sentences that the tokenizer turns into about n_tokens tokens."""
    corpus = " ".join(p.text for p in PRESETS if p.text.isascii()) + " "
    ids: list[int] = []
    while len(ids) < n_tokens + 8:
        ids += tokenizer(corpus, add_special_tokens=False)["input_ids"]
    specials = len(tokenizer("a")["input_ids"]) - len(tokenizer("a", add_special_tokens=False)["input_ids"])
    return tokenizer.decode(ids[: n_tokens - specials]).strip()
