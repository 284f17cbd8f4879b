"""Sets of sentences that use one ambiguous word in different senses: the built-in ones and CSV uploads.

Pure Python. The built-in sentences were written for this project.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

MAX_SENTENCES = 200
MAX_UPLOAD_BYTES = 2_000_000


class SenseSetError(ValueError):
    """An uploaded file cannot be read as a sense set; the message says why."""


@dataclass(frozen=True)
class SenseSet:
    """Sentences with an optional sense label each (labels empty when unknown) and the word they share."""

    word: str
    sentences: tuple[str, ...]
    labels: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()


def _set(word: str, senses: dict[str, list[str]]) -> SenseSet:
    pairs = [(sentence, sense) for sense, sentences in senses.items() for sentence in sentences]
    return SenseSet(word, tuple(s for s, _ in pairs), tuple(label for _, label in pairs))


BUILT_IN = {
    "party": _set("party", {
        "celebration": [
            "students celebrate the graduation with a big party",
            "we danced all night at the birthday party",
            "she baked a cake for the office party",
            "the neighbours complained about the noisy party next door",
            "they threw a surprise party for their grandmother",
        ],
        "politics": [
            "deputy leader is highly respected in the party",
            "the party won a majority in the election",
            "he left the party after a dispute over taxes",
            "the opposition party voted against the budget",
            "members of the ruling party met in the capital",
        ],
    }),
    "bank": _set("bank", {
        "money": [
            "she deposited her salary at the bank",
            "the bank raised its interest rates again",
            "he asked the bank for a loan to buy a house",
            "the bank closed two branches in our town",
            "my bank sends a statement every month",
        ],
        "river": [
            "we sat on the bank of the river and fished",
            "the boat drifted towards the muddy bank",
            "flowers grew along the bank of the stream",
            "the flood washed away part of the river bank",
            "children played on the grassy bank by the water",
        ],
    }),
    "bat": _set("bat", {
        "animal": [
            "a bat flew out of the cave at dusk",
            "the bat hung upside down from the branch",
            "the bat uses echoes to find insects in the dark",
            "a small bat was sleeping in the attic",
        ],
        "sport": [
            "he swung the bat and hit the ball over the fence",
            "she bought a new cricket bat for the season",
            "the player dropped his bat and ran to first base",
            "a wooden bat is heavier than an aluminium one",
        ],
    }),
    "spring": _set("spring", {
        "season": [
            "the trees blossom every spring",
            "we plan to travel in the spring",
            "spring brings warmer weather and longer days",
            "the birds return north in early spring",
        ],
        "coil": [
            "the spring inside the pen is broken",
            "a metal spring keeps the door closed",
            "the mattress has a spring that squeaks",
            "he replaced the spring in the old clock",
        ],
        "water": [
            "they drank fresh water from a mountain spring",
            "the village was built around a hot spring",
            "a spring feeds the small lake below the hill",
            "water from the spring is cold even in summer",
        ],
    }),
    "bark": _set("bark", {
        "dog": [
            "the dog began to bark at the stranger",
            "I heard a loud bark from the garden",
            "our puppy has a high bark",
            "the bark of the guard dog woke everyone",
        ],
        "tree": [
            "the bark of the old oak was rough and grey",
            "beetles live under the bark of dead trees",
            "the deer stripped the bark from the young birch",
            "cinnamon is made from the bark of a tree",
        ],
    }),
}


def parse_csv(data: bytes) -> SenseSet:
    """Read one sentence per row (first column, or a column named 'sentence'), with an optional sense column.

    Raises SenseSetError for files that are too big, not UTF-8, or have no sentences.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise SenseSetError(f"The file has {len(data):,} bytes; the limit is {MAX_UPLOAD_BYTES:,}.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SenseSetError(f"The file is not UTF-8 text (byte {error.start} cannot be read). "
                            "Save it as CSV UTF-8 and upload it again.") from error
    try:
        rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    except csv.Error as error:
        raise SenseSetError(f"The file is not valid CSV: {error}.") from error
    sentence_column, label_column, rows = _columns(rows)
    return _sense_set_from_rows(rows, sentence_column, label_column)


def _columns(rows: list[list[str]]) -> tuple[int, int | None, list[list[str]]]:
    """Which column holds sentences and which labels, from a header row if there is one."""
    header = [cell.lower() for cell in rows[0]] if rows else []
    if "sentence" in header or "text" in header:
        sentence_column = header.index("sentence") if "sentence" in header else header.index("text")
        names = [name for name in ("sense", "label") if name in header]
        return sentence_column, header.index(names[0]) if names else None, rows[1:]
    if "sense" in header or "label" in header:
        raise SenseSetError("The header names a sense column but no 'sentence' column.")
    return 0, 1 if any(len(row) > 1 and row[1] for row in rows) else None, rows


def _sense_set_from_rows(rows: list[list[str]], sentence_column: int, label_column: int | None) -> SenseSet:
    sentences, labels, skipped = [], [], 0
    for row in rows:
        sentence = row[sentence_column] if len(row) > sentence_column else ""
        if not sentence:
            skipped += 1
            continue
        sentences.append(sentence)
        labels.append(row[label_column] if label_column is not None and len(row) > label_column else "")
    if not sentences:
        raise SenseSetError("The file has no sentences: put one sentence per row in the first column.")
    notices = [f"Skipped {skipped} empty row(s)."] if skipped else []
    if len(sentences) > MAX_SENTENCES:
        notices.append(f"Using the first {MAX_SENTENCES} of {len(sentences)} sentences.")
        sentences, labels = sentences[:MAX_SENTENCES], labels[:MAX_SENTENCES]
    if label_column is not None and not all(labels):
        notices.append("Some rows have no sense label; labels are ignored.")
        labels = []
    return SenseSet("", tuple(sentences), tuple(labels) if label_column is not None else (), tuple(notices))
