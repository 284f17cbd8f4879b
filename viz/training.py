"""Training a tiny transformer, the pure part: settings and their key, task data, and head scores over training.

Numpy only. Shapes: B sequences, T tokens (the start token included), L layers, H heads, V vocabulary.
The induction task (Olsson et al., 2022): each sequence holds a random pattern of m tokens followed by the same
pattern again (m varies, so a head cannot copy by position alone: it must find the earlier occurrence by content).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, replace

import numpy as np

INDUCTION, TEXT = "induction", "text"
TASKS = (INDUCTION, TEXT)
SPACE = "▁"  # how the tokenizer writes a space, so it is a visible token of its own
INDUCTION_SYMBOLS = tuple("abcdefghijklmnopqrstuvwxyz0123456789") + (SPACE,)
START, UNKNOWN = "<|start|>", "<|unk|>"  # not "<s>": plotly reads that in tick labels as a strike-through tag
BATCH = 64  # sequences per step (32 learned to copy later, in more seconds: a step of 64 costs ~1.8 of 32)
# at least 2 layers and 2 heads: the other pages' layer and head sliders need two values to slide between
LIMITS = {"layers": (1, 4), "heads": (1, 8), "width": (32, 256), "context": (8, 128), "steps": (10, 3000),
          "learning_rate": (1e-4, 3e-2), "seed": (0, 9999), "temperature": (0.1, 2.0)}
MAX_TEXT_CHARS, MIN_TEXT_CHARS, MAX_SYMBOLS = 20_000, 40, 200
# A head of layer 1 on scoring above this: "the induction head has appeared". Chance is ~0.045 and a head looking only
# at positions reaches at most ~0.3 on the 16 probes; the default run's best head goes 0.13 -> 0.38 -> 0.73 in 40 steps.
INDUCTION_THRESHOLD = 0.5
KEY_PREFIX = "trained:"
MODEL_NAME = "tiny Llama"  # what the app calls a model trained on the Train page (viz/model/training.py builds it)
# Bump when the model, the task data or the training loop changes: a key (and its .cache/trained/ folder) names the
# version that made it, so a checkpoint of older code is never opened as if current. Keys without "-v" are version 1.
CODE_VERSION = 2
_KEY = re.compile(r"^trained:(induction|text-[0-9a-f]{8})-L(\d+)-H(\d+)-D(\d+)-C(\d+)-S(\d+)-lr([0-9.e-]+)"
                  r"-seed(\d+)(?:-t([0-9.]+))?(?:-v(\d+))?$")


class BadSettings(ValueError):
    """Settings outside the bounds; the message says which and what they must be."""


@dataclass(frozen=True)
class TrainSettings:
    """Everything a run depends on; two runs with equal settings train the same model on one machine."""

    task: str = INDUCTION
    layers: int = 2
    heads: int = 4
    width: int = 64
    context: int = 32  # tokens per training sequence, the start token not counted
    steps: int = 600
    learning_rate: float = 0.003
    seed: int = 0
    text_id: str = ""  # first 8 hex digits of the text's SHA-256 (text task only)
    temperature: float = 0.8  # of the samples shown at checkpoints (text task only)
    version: int = CODE_VERSION  # of the code that trains it (older keys name older versions)

    @property
    def key(self) -> str:
        """The model key, e.g. trained:induction-L2-H4-D64-C32-S600-lr0.003-seed0-v2."""
        task = INDUCTION if self.task == INDUCTION else f"text-{self.text_id}"
        tail = f"-t{self.temperature:g}" if self.task == TEXT else ""
        return (f"{KEY_PREFIX}{task}-L{self.layers}-H{self.heads}-D{self.width}-C{self.context}-S{self.steps}"
                f"-lr{self.learning_rate:g}-seed{self.seed}{tail}{self._version_tail}")

    @property
    def _version_tail(self) -> str:
        return f"-v{self.version}" if self.version > 1 else ""

    @property
    def is_current(self) -> bool:
        """Whether this code trained it (a key of older code names settings this code would train differently)."""
        return self.version == CODE_VERSION

    @property
    def folder_name(self) -> str:
        return self.key.removeprefix(KEY_PREFIX)

    def describe(self) -> str:
        """The settings in words, for messages."""
        task = "Repeat the pattern" if self.task == INDUCTION else f"Your text (fingerprint {self.text_id})"
        words = (f"task {task}, {self.layers} layers, {self.heads} heads, width {self.width}, context {self.context},"
                 f" {self.steps} steps, learning rate {self.learning_rate:g}, seed {self.seed}")
        return words + (f", temperature {self.temperature:g}" if self.task == TEXT else "")


def text_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def check_settings(settings: TrainSettings) -> TrainSettings:
    """The settings unchanged, or BadSettings naming the first value out of bounds."""
    values = asdict(settings)
    for name, (low, high) in LIMITS.items():
        if not low <= values[name] <= high:
            raise BadSettings(f"{name.replace('_', ' ')} must be from {low:g} to {high:g} (got {values[name]:g}).")
    if settings.width % settings.heads:
        raise BadSettings(f"The width ({settings.width}) must be a multiple of the number of heads "
                          f"({settings.heads}), so every head gets the same share of it.")
    if settings.task == INDUCTION and settings.context % 2:
        raise BadSettings("For Repeat the pattern the context length must be even (a pattern and its repeat).")
    if settings.task not in TASKS:
        raise BadSettings(f"task must be one of {TASKS}")
    return settings


def parse_key(key: str) -> TrainSettings | None:
    """The settings a trained model's key names, or None when it is not such a key."""
    match = _KEY.match(key.strip())
    if not match:
        return None
    task, layers, heads, width, context, steps, rate, seed, temperature, version = match.groups()
    base = TrainSettings(task=INDUCTION if task == INDUCTION else TEXT, layers=int(layers), heads=int(heads),
                         width=int(width), context=int(context), steps=int(steps), learning_rate=float(rate),
                         seed=int(seed), text_id="" if task == INDUCTION else task.removeprefix("text-"),
                         version=int(version or 1))
    return replace(base, temperature=float(temperature)) if temperature else base


def check_text(text: str) -> str:
    """Pasted training text, cleaned; BadSettings when it is too short, too long or has too many symbols."""
    text = text.replace("\r\n", "\n").strip()
    if len(text) < MIN_TEXT_CHARS:
        raise BadSettings(f"Paste at least {MIN_TEXT_CHARS} characters of text (got {len(text)}).")
    if len(text) > MAX_TEXT_CHARS:
        raise BadSettings(f"Paste at most {MAX_TEXT_CHARS:,} characters (got {len(text):,}): cut the text.")
    symbols = len(set(text))
    if symbols > MAX_SYMBOLS:
        raise BadSettings(f"The text uses {symbols} different characters; at most {MAX_SYMBOLS} are allowed.")
    return text


def text_symbols(text: str) -> tuple[str, ...]:
    """The character vocabulary of a text (a space written as ▁, newlines as spaces), sorted."""
    return tuple(sorted(set(text.replace("\n", " ").replace(" ", SPACE))))


def induction_batch(rng: np.random.Generator, batch: int, context: int, vocab: int, first_id: int,
                    pattern_length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sequences (B, T = context + 1) of token ids starting with the start token 0, and repeat masks (B, T).

    Each row: start token, n random tokens, a random pattern of m tokens (ids first_id .. first_id + vocab - 1), the
    same pattern again, random tokens to the end. m and n are drawn per row (n = 0 when pattern_length is given), so
    neither a token's position nor its distance back tells where the pattern's earlier copy is: a head must find it
    by content. mask[b, t] is True where token t repeats the pattern and can be predicted from its earlier
    occurrence: the 2nd to m-th tokens of the repeat.
    """
    ids = rng.integers(first_id, first_id + vocab, size=(batch, context + 1))
    ids[:, 0] = 0
    mask = np.zeros(ids.shape, dtype=bool)
    for row in range(batch):
        m = pattern_length or int(rng.integers(context // 4, context // 2 + 1))
        start = 1 if pattern_length else 1 + int(rng.integers(0, context - 2 * m + 1))
        ids[row, start + m:start + 2 * m] = ids[row, start:start + m]
        mask[row, start + m + 1:start + 2 * m] = True
    return ids, mask


def pattern_places(masks: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each row's pattern, read back from repeat masks (B, T) made by induction_batch."""
    places = []
    for row in masks:
        predictable = np.flatnonzero(row)
        length = int(predictable[-1] - predictable[0]) + 2  # the repeat's tokens 2..m are masked
        places.append((int(predictable[-1]) - 2 * length + 1, length))
    return places


def text_batch(rng: np.random.Generator, ids: np.ndarray, batch: int, context: int) -> np.ndarray:
    """Random windows (B, T = context + 1) of the text's ids (N,), each after the start token 0."""
    starts = rng.integers(0, len(ids) - context + 1, size=batch)
    windows = np.stack([ids[s:s + context] for s in starts])
    return np.concatenate([np.zeros((batch, 1), dtype=windows.dtype), windows], axis=1)


def half_masks(n_tokens: int) -> tuple[np.ndarray, np.ndarray]:
    """Targets of the first and second half of a text window (T,): position t predicts token t + 1."""
    positions = np.arange(n_tokens)
    return (positions >= 1) & (positions <= n_tokens // 2), positions > n_tokens // 2


def previous_token_score(attentions: np.ndarray) -> np.ndarray:
    """Mean weight each head puts on the previous token, queries 2.. (the start token aside): (…, T, T) -> (…)."""
    n = attentions.shape[-1]
    rows = np.arange(2, n)
    return attentions[..., rows, rows - 1].mean(axis=-1)


def induction_targets(pattern_length: int, start: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(query, key) positions of induction for a pattern at start .. start + m - 1 repeated right after it.

    Queries: the repeat's tokens 1 .. m-1 (positions i = start + m .. start + 2m - 2); keys: the token right after
    each one's earlier occurrence, i - m + 1. (The repeat's last token would point at the repeat's own first token.)
    """
    queries = np.arange(start + pattern_length, start + 2 * pattern_length - 1)
    return queries, queries - pattern_length + 1


def induction_score(attentions: np.ndarray, pattern_length: int, start: int = 1) -> np.ndarray:
    """Mean induction weight of each head on a sequence with this pattern: (…, T, T) -> (…)."""
    queries, keys = induction_targets(pattern_length, start)
    return attentions[..., queries, keys].mean(axis=-1)


def induction_scores(attentions: np.ndarray, places) -> np.ndarray:
    """Mean induction score of each head over probe sequences, each with its (start, length): (P, L, H, T, T) -> (L, H).

    Lengths and starts vary from probe to probe, so a head that looks back a fixed distance, or at fixed
    positions, cannot score high (see positional_ceiling).
    """
    return np.mean([induction_score(attentions[row], length, start) for row, (start, length) in enumerate(places)],
                   axis=0)


def chance_induction(n_tokens: int, places) -> float:
    """The induction score of evenly spread attention, averaged over the probes' (start, length) places."""
    uniform = uniform_causal(n_tokens)
    return float(np.mean([induction_score(uniform, length, start) for start, length in places]))


def positional_ceiling(places) -> float:
    """The highest induction score a head could reach by looking at positions only, never at tokens.

    For every query position it puts all its weight on the key position that is most often the induction target
    there, over the probes' (start, length) places (each probe weighted equally, as in induction_scores).
    """
    weights: dict[int, dict[int, float]] = {}
    for start, length in places:
        queries, keys = induction_targets(length, start)
        for query, key in zip(queries.tolist(), keys.tolist(), strict=True):
            row = weights.setdefault(query, {})
            row[key] = row.get(key, 0.0) + 1.0 / len(queries) / len(places)
    return float(sum(max(row.values()) for row in weights.values()))


def uniform_causal(n_tokens: int) -> np.ndarray:
    """Attention spread evenly over the visible tokens (T, T): what a head that looks nowhere in particular does."""
    visible = np.tril(np.ones((n_tokens, n_tokens)))
    return visible / visible.sum(axis=1, keepdims=True)


def chance_scores(n_tokens: int, pattern_length: int, start: int = 1) -> tuple[float, float]:
    """(previous-token, induction) scores of evenly spread attention: the chance level of each score."""
    uniform = uniform_causal(n_tokens)
    return float(previous_token_score(uniform)), float(induction_score(uniform, pattern_length, start))


def induction_pattern(n_tokens: int, pattern_length: int) -> np.ndarray:
    """The attention of a perfect induction head (T, T): 1 where each repeated token looks, else 0."""
    pattern = np.zeros((n_tokens, n_tokens))
    queries, keys = induction_targets(pattern_length)
    pattern[queries, keys] = 1.0
    return pattern


def first_step_above(steps: np.ndarray, scores: np.ndarray, threshold: float = INDUCTION_THRESHOLD) -> int | None:
    """The first checkpoint step (K,) at which any head's score (K, L, H) passes threshold, or None."""
    above = np.flatnonzero(scores.reshape(len(steps), -1).max(axis=1) > threshold)
    return int(steps[above[0]]) if len(above) else None


def best_head(scores: np.ndarray, *, from_layer: int = 0) -> tuple[int, int]:
    """(layer, head) with the highest score in an (L, H) array, among layers from_layer and later (all layers when
    the model has no layer from_layer)."""
    from_layer = from_layer if from_layer < len(scores) else 0
    layer, head = np.unravel_index(int(np.argmax(scores[from_layer:])), scores[from_layer:].shape)
    return int(layer) + from_layer, int(head)


# An induction head matches the current token against each earlier token's *previous* token, which a head can only
# know from an earlier layer's head: so it is looked for from layer 1 on (a layer-0 head scoring high is positional).
INDUCTION_FROM_LAYER = 1


def induction_head_step(steps: np.ndarray, scores: np.ndarray, threshold: float = INDUCTION_THRESHOLD) -> int | None:
    """The first checkpoint step at which a head of layer 1 or later passes threshold (None for one layer);
    scores (K, L, H)."""
    if scores.shape[1] <= INDUCTION_FROM_LAYER:
        return None
    return first_step_above(steps, scores[:, INDUCTION_FROM_LAYER:], threshold)


def loss_drop_step(losses: np.ndarray, *, fraction: float = 0.5, window: int = 20) -> int | None:
    """The first step at which the repeat's loss (mean of the last `window` steps) is under `fraction` of the first
    occurrence's: where copying the pattern has been learned. losses (S, 3): all, first occurrence, repeat."""
    losses = np.asarray(losses, dtype=float)
    for step in range(window, len(losses) + 1):
        first, repeat = losses[step - window:step, 1].mean(), losses[step - window:step, 2].mean()
        if repeat < fraction * first:
            return step
    return None
