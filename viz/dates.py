"""The date task of the offline encoder–decoder (human-written dates → ISO dates) and its cross-attention alignment.

Pure Python and numpy. Dates run from 1950-01-01 to 2049-12-31. The rules a reader (and the model) must learn:
- a four-digit year written first means year, month, day in that order ("2026/12/02", "2026-12-02", "20261202");
- with "/" and the year last, the month comes first, as in the US ("12/02/26", "12/2/2026" = 2 December);
- with "." the day comes first, as in most of Europe ("02.12.2026", "2.12.26" = 2 December);
- a two-digit year yy is 20yy when yy < 50, else 19yy ("26" → 2026, "75" → 1975): the range maps one to one.
Words (weekdays, months, "the", "of") come in their usual spelling, all lower case or all upper case; a weekday
written is always the right one for the date. Every example carries the character spans of its year, month and
day in the source (a day written as an ordinal, "2nd", spans its suffix too; a month spans its whole word) and
in the target (always 0–4, 5–7, 8–10). The held-out split is by date: a date is held out when a hash of its ISO
text says so, and training never draws a held-out date, in any format.
Shapes in the alignment: Ld decoder layers, H heads, T target rows (decoder positions), S source tokens.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

FIELDS = ("year", "month", "day")
FIRST, LAST = datetime.date(1950, 1, 1), datetime.date(2049, 12, 31)
DAYS = (LAST - FIRST).days + 1
TARGET_SPANS = {"year": (0, 4), "month": (5, 7), "day": (8, 10)}
HELD_OUT_PERCENT = 10  # of the dates (by a hash of the ISO text), never drawn for training
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CASES = ("as written", "lower", "upper")
CASE_WEIGHTS = (0.6, 0.2, 0.2)


@dataclass(frozen=True)
class DateExample:
    """A source text, its ISO target, and each field's (start, end) character span in both."""

    source: str
    target: str
    source_spans: dict
    format_name: str

    @property
    def target_spans(self) -> dict:
        return TARGET_SPANS


def two_digit_year(year: int) -> str:
    return f"{year % 100:02d}"


def year_from_two_digits(yy: int) -> int:
    """The stated rule: 00–49 → 2000–2049, 50–99 → 1950–1999."""
    return 2000 + yy if yy < 50 else 1900 + yy


def ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


# A format: a function of the date giving its pieces; a piece is plain text or (field, text).
def _d(date):
    return ("day", str(date.day))


def _dd(date):
    return ("day", f"{date.day:02d}")


def _nth(date):
    return ("day", ordinal(date.day))


def _m(date):
    return ("month", str(date.month))


def _mm(date):
    return ("month", f"{date.month:02d}")


def _month(date):
    return ("month", MONTHS[date.month - 1])


def _mon(date):
    return ("month", MONTHS[date.month - 1][:3])


def _yyyy(date):
    return ("year", str(date.year))


def _yy(date):
    return ("year", two_digit_year(date.year))


def _weekday(date):
    return WEEKDAYS[date.weekday()]


def _wkd(date):
    return WEEKDAYS[date.weekday()][:3]


def _pieces(*parts) -> Callable:
    """A format from parts: strings stay as written, functions are applied to the date."""
    return lambda date: [part(date) if callable(part) else part for part in parts]


FORMATS: dict[str, Callable] = {
    "weekday d month yyyy": _pieces(_weekday, ", ", _d, " ", _month, " ", _yyyy),  # Wednesday, 2 December 2026
    "mm/dd/yy (US)": _pieces(_mm, "/", _dd, "/", _yy),  # 12/02/26
    "m/d/yyyy (US)": _pieces(_m, "/", _d, "/", _yyyy),  # 12/2/2026
    "d mon yyyy": _pieces(_d, " ", _mon, " ", _yyyy),  # 2 Dec 2026
    "the nth of month, yyyy": _pieces("the ", _nth, " of ", _month, ", ", _yyyy),  # the 2nd of December, 2026
    "mon d yyyy": _pieces(_mon, " ", _d, " ", _yyyy),  # Dec 2 2026
    "yyyy/mm/dd": _pieces(_yyyy, "/", _mm, "/", _dd),  # 2026/12/02
    "month nth, yyyy": _pieces(_month, " ", _nth, ", ", _yyyy),  # December 2nd, 2026
    "dd.mm.yyyy (European)": _pieces(_dd, ".", _mm, ".", _yyyy),  # 02.12.2026
    "d.m.yy (European)": _pieces(_d, ".", _m, ".", _yy),  # 2.12.26
    "yyyy-mm-dd (ISO)": _pieces(_yyyy, "-", _mm, "-", _dd),  # 2026-12-02
    "yyyymmdd": _pieces(_yyyy, _mm, _dd),  # 20261202
    "wkd d mon yyyy": _pieces(_wkd, " ", _d, " ", _mon, " ", _yyyy),  # Tue 2 Dec 2026
    "month d, yyyy": _pieces(_month, " ", _d, ", ", _yyyy),  # December 2, 2026
    "weekday, month d, yyyy": _pieces(_weekday, ", ", _month, " ", _d, ", ", _yyyy),  # Tuesday, December 2, 2026
    "d month yyyy": _pieces(_d, " ", _month, " ", _yyyy),  # 2 December 2026
    "mon d 'yy": _pieces(_mon, " ", _d, " '", _yy),  # Dec 2 '26
    "dd mon yy": _pieces(_dd, " ", _mon, " ", _yy),  # 02 Dec 26
    "weekday the nth of month yyyy": _pieces(_weekday, " the ", _nth, " of ", _month, " ", _yyyy),
    "nth month yyyy": _pieces(_nth, " ", _month, " ", _yyyy),  # 2nd December 2026
}
FORMAT_NAMES = tuple(FORMATS)


def render(date: datetime.date, format_name: str, case: str = "as written") -> DateExample:
    """One date written in one format and case, with its fields' spans."""
    text, spans = "", {}
    for piece in FORMATS[format_name](date):
        field, written = piece if isinstance(piece, tuple) else (None, piece)
        if field:
            spans[field] = (len(text), len(text) + len(written))
        text += written
    text = text.lower() if case == "lower" else text.upper() if case == "upper" else text
    return DateExample(text, date.isoformat(), spans, format_name)


def is_held_out(date: datetime.date) -> bool:
    """Whether the date belongs to the held-out split (a fixed hash of its ISO text, the same on every machine)."""
    digest = hashlib.sha256(date.isoformat().encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < HELD_OUT_PERCENT


def _draw_date(rng: np.random.Generator, held_out: bool) -> datetime.date:
    while True:
        date = FIRST + datetime.timedelta(days=int(rng.integers(DAYS)))
        if is_held_out(date) == held_out:
            return date


def examples(seed: int, count: int, *, held_out: bool = False) -> list[DateExample]:
    """`count` examples drawn from the seed: dates of one split, formats uniform, cases by CASE_WEIGHTS."""
    rng = np.random.default_rng([seed, int(held_out)])
    drawn = []
    for _ in range(count):
        date = _draw_date(rng, held_out)
        format_name = FORMAT_NAMES[int(rng.integers(len(FORMAT_NAMES)))]
        case = CASES[int(rng.choice(len(CASES), p=CASE_WEIGHTS))]
        drawn.append(render(date, format_name, case))
    return drawn


def source_symbols() -> tuple[str, ...]:
    """Every character a source or target can hold, in a fixed order (the model's vocabulary)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return tuple(letters + letters.upper() + "0123456789" + " ,./-'")


# --- alignment: does a cross-attention head read the right field of the source? ---

def alignment_counts(cross_attentions: np.ndarray, source_spans: dict, target_spans: dict):
    """(hits (Ld, H, F), digits (F,)) for one example: per field, how many of its target rows put their largest
    cross-attention weight inside that field's source span. cross_attentions: (Ld, H, T, S); target_spans give the
    rows (decoder positions) whose query produces each field's digits."""
    cross = np.asarray(cross_attentions)
    if cross.ndim != 4:
        raise ValueError(f"cross_attentions must be (Ld, H, T, S); got shape {cross.shape}")
    layers, heads = cross.shape[:2]
    looked_at = cross.argmax(axis=-1)  # (Ld, H, T): the source token each row reads most
    hits, digits = np.zeros((layers, heads, len(FIELDS))), np.zeros(len(FIELDS))
    for index, field in enumerate(FIELDS):
        if field not in source_spans or field not in target_spans:
            continue
        row_start, row_end = target_spans[field]
        start, end = source_spans[field]
        rows = looked_at[:, :, row_start:row_end]  # (Ld, H, rows)
        hits[:, :, index] = ((rows >= start) & (rows < end)).sum(axis=-1)
        digits[index] = row_end - row_start
    return hits, digits


def alignment_scores(cross_attentions: np.ndarray, source_spans: dict, target_spans: dict) -> np.ndarray:
    """(Ld, H): the fraction of the example's target digits whose largest cross-attention weight lands in the
    source span of the same field. cross_attentions: (Ld, H, T, S)."""
    hits, digits = alignment_counts(cross_attentions, source_spans, target_spans)
    return hits.sum(axis=-1) / max(digits.sum(), 1)


def chance_level(source_spans: dict, target_spans: dict, source_length: int) -> float:
    """The score of a head that reads a uniformly random source token: the mean over target digits of
    (its field's source span length / source length S)."""
    shares = [(span[1] - span[0]) / source_length * (target_spans[f][1] - target_spans[f][0])
              for f, span in source_spans.items() if f in target_spans]
    digits = sum(target_spans[f][1] - target_spans[f][0] for f in source_spans if f in target_spans)
    return sum(shares) / max(digits, 1)


@dataclass
class AlignmentTally:
    """Sums alignment counts over many examples: hits (Ld, H, F), digits (F,), chance summed over examples."""

    hits: np.ndarray | None = None
    digits: np.ndarray | None = None
    chance_sum: float = 0.0
    examples: int = 0

    def add(self, cross_attentions: np.ndarray, source_spans: dict, target_spans: dict, source_length: int):
        hits, digits = alignment_counts(cross_attentions, source_spans, target_spans)
        self.hits = hits if self.hits is None else self.hits + hits
        self.digits = digits if self.digits is None else self.digits + digits
        self.chance_sum += chance_level(source_spans, target_spans, source_length)
        self.examples += 1

    def report(self) -> dict:
        """{"scores": (Ld x H) lists, "best": [layer, head], "holds", "by_field", "chance"} over all examples."""
        scores = self.hits.sum(axis=-1) / max(self.digits.sum(), 1)  # (Ld, H)
        layer, head = np.unravel_index(int(scores.argmax()), scores.shape)
        by_field = self.hits[layer, head] / np.maximum(self.digits, 1)
        return {"scores": scores.round(4).tolist(), "best": [int(layer), int(head)],
                "holds": float(scores[layer, head]), "by_field": dict(zip(FIELDS, map(float, by_field), strict=True)),
                "chance": self.chance_sum / max(self.examples, 1)}
