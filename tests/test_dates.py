"""The offline date model: the date task (viz/dates.py), its alignment measure, and the trained tiny BART."""

import datetime
import re
from dataclasses import replace

import numpy as np
import pytest

from viz import dates
from viz.model import date_model

# Each format read back with Python's own parser (ordinal suffixes dropped first; %y fixed to the stated rule).
PATTERNS = {
    "weekday d month yyyy": "%A, %d %B %Y", "mm/dd/yy (US)": "%m/%d/%y", "m/d/yyyy (US)": "%m/%d/%Y",
    "d mon yyyy": "%d %b %Y", "the nth of month, yyyy": "the %d of %B, %Y", "mon d yyyy": "%b %d %Y",
    "yyyy/mm/dd": "%Y/%m/%d", "month nth, yyyy": "%B %d, %Y", "dd.mm.yyyy (European)": "%d.%m.%Y",
    "d.m.yy (European)": "%d.%m.%y", "yyyy-mm-dd (ISO)": "%Y-%m-%d", "yyyymmdd": "%Y%m%d",
    "wkd d mon yyyy": "%a %d %b %Y", "month d, yyyy": "%B %d, %Y", "weekday, month d, yyyy": "%A, %B %d, %Y",
    "d month yyyy": "%d %B %Y", "mon d 'yy": "%b %d '%y", "dd mon yy": "%d %b %y",
    "weekday the nth of month yyyy": "%A the %d of %B %Y", "nth month yyyy": "%d %B %Y",
}
EDGE_DATES = [datetime.date(*d) for d in [(1950, 1, 1), (2049, 12, 31), (2000, 2, 29), (1999, 11, 11),
                                          (2026, 12, 2), (1963, 3, 23), (2031, 8, 12), (1988, 5, 13)]]


def parse(example: dates.DateExample) -> datetime.date:
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", example.source, flags=re.IGNORECASE)
    pattern = PATTERNS[example.format_name]
    parsed = datetime.datetime.strptime(text, pattern).date()
    if "%y" in pattern:
        parsed = parsed.replace(year=dates.year_from_two_digits(parsed.year % 100))
    if "%A" in pattern or "%a" in pattern:  # strptime ignores the weekday: check it is the date's own
        assert parsed.strftime(pattern[:2]).lower() in example.source.lower()
    return parsed


def test_the_generator_is_deterministic_and_varied():
    first, again, other = dates.examples(5, 300), dates.examples(5, 300), dates.examples(6, 300)
    assert first == again and first != other
    assert {e.format_name for e in first} == set(dates.FORMAT_NAMES)
    sources = [e.source for e in first]
    assert any(s.isupper() and s[0].isalpha() for s in sources) and any(s.islower() for s in sources)


def test_every_format_and_case_reads_back_as_its_iso_date():
    assert set(PATTERNS) == set(dates.FORMAT_NAMES)
    for date in EDGE_DATES:
        for name in dates.FORMAT_NAMES:
            for case in dates.CASES:
                example = dates.render(date, name, case)
                assert example.target == date.isoformat()
                assert parse(example) == date, (example.source, name)
    for example in dates.examples(2, 2000) + dates.examples(2, 500, held_out=True):
        assert parse(example).isoformat() == example.target
    issue = dates.render(datetime.date(2026, 12, 2), "the nth of month, yyyy").source
    assert issue == "the 2nd of December, 2026"
    assert dates.render(datetime.date(2026, 12, 2), "mm/dd/yy (US)").source == "12/02/26"  # "/": month first
    assert dates.render(datetime.date(2026, 12, 2), "dd.mm.yyyy (European)").source == "02.12.2026"  # ".": day


def test_ordinals_and_two_digit_years_follow_the_stated_rules():
    assert [dates.ordinal(d) for d in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st"]
    assert [dates.year_from_two_digits(y) for y in (0, 49, 50, 99, 26)] == [2000, 2049, 1950, 1999, 2026]


def test_spans_point_at_the_right_characters():
    for example in dates.examples(3, 1000):
        year, month, day = (int(part) for part in example.target.split("-"))
        assert {example.target[a:b] for a, b in example.target_spans.values()} == set(example.target.split("-"))
        written = {field: example.source[a:b] for field, (a, b) in example.source_spans.items()}
        assert written["year"] in (str(year), f"{year % 100:02d}")
        assert written["month"].isdigit() and int(written["month"]) == month or (
            written["month"].lower() in (dates.MONTHS[month - 1].lower(), dates.MONTHS[month - 1][:3].lower()))
        assert int(re.sub(r"\D", "", written["day"])) == day and written["day"].lower() in (
            str(day), f"{day:02d}", dates.ordinal(day))


def test_the_tokenizer_gives_one_token_per_character_so_spans_are_token_positions():
    tokenizer = date_model.build_tokenizer()
    for example in dates.examples(4, 200):
        tokens = tokenizer.convert_ids_to_tokens(tokenizer(example.source)["input_ids"])
        assert tokens == [c.replace(" ", "▁") for c in example.source] + [date_model.END]
        assert tokenizer.decode(tokenizer(example.target)["input_ids"], skip_special_tokens=True) == example.target


def test_the_held_out_split_never_meets_training():
    training = {e.target for e in dates.examples(0, 20_000)}
    held_out = {e.target for e in dates.examples(0, 2000, held_out=True)}
    assert not training & held_out and len(held_out) > 1000
    every_day = [dates.FIRST + datetime.timedelta(days=d) for d in range(dates.DAYS)]
    share = np.mean([dates.is_held_out(d) for d in every_day])
    assert 0.09 < share < 0.11
    assert all(dates.is_held_out(datetime.date.fromisoformat(t)) for t in held_out)


def test_alignment_scores_on_hand_made_attention():
    """Source "12/02/26" + end (S=9): month 0–2, day 3–5, year 6–8; target rows 0–4 year, 5–7 month, 8–10 day."""
    source_spans = {"month": (0, 2), "day": (3, 5), "year": (6, 8)}
    right = np.zeros((11, 9))
    for field, (row_start, row_end) in dates.TARGET_SPANS.items():
        right[row_start:row_end, source_spans[field][0]] = 1.0  # every digit row reads its field's first token
    wrong = np.roll(right, 3, axis=1)  # three tokens later: month → day, day → year, year → (wrapped) month
    half = right.copy()
    half[0:4] = wrong[0:4]  # the year's four rows read wrong; month's 2 and day's 2 right (also "-" rows don't count)
    cross = np.stack([np.stack([right, wrong]), np.stack([half, np.full((11, 9), 1 / 9)])])  # (Ld=2, H=2, T, S)
    scores = dates.alignment_scores(cross, source_spans, dates.TARGET_SPANS)
    assert scores.shape == (2, 2)
    np.testing.assert_allclose(scores, [[1.0, 0.0], [0.5, 0.25]])  # a flat row's argmax is token 0 (month)
    assert dates.chance_level(source_spans, dates.TARGET_SPANS, 9) == pytest.approx(2 / 9)
    tally = dates.AlignmentTally()
    tally.add(cross, source_spans, dates.TARGET_SPANS, 9)
    tally.add(cross[:, ::-1], source_spans, dates.TARGET_SPANS, 9)
    report = tally.report()
    assert report["best"] in ([0, 0], [0, 1]) and report["holds"] == 0.5
    with pytest.raises(ValueError, match="Ld, H, T, S"):
        dates.alignment_scores(right, source_spans, dates.TARGET_SPANS)


def test_a_tiny_training_run_lowers_the_loss_and_repeats_for_its_seed():
    """30 steps of a 1-layer, width-16 BART: the same seed gives the same loss curve, bit for bit."""
    settings = date_model.DateSettings(layers=1, heads=2, width=16, steps=30, batch=16, warmup=5, seed=7)
    _, _, losses, _ = date_model.train(settings)
    _, _, again, _ = date_model.train(settings)
    _, _, other, _ = date_model.train(replace(settings, seed=8))
    assert losses == again and losses != other
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 1.0


def test_the_offline_date_model_translates_held_out_dates_and_has_an_alignment_head():
    """Measured (seed 0, 1,000 steps of width 48, batch 48): held-out exact match 0.995 of 1,000; best head layer 1
    head 1 holds 0.825 (year 0.74, month 0.88, day 0.94) against chance 0.235. Thresholds: 0.95, chance + 0.4."""
    folder = date_model.ensure_date_model()
    report = date_model.load_report(folder)
    alignment = report["alignment"]
    assert report["held_out"] == date_model.HELD_OUT and report["accuracy"] >= 0.95
    assert np.array(alignment["scores"]).shape == (2, 4) and 0.2 < alignment["chance"] < 0.3
    assert alignment["holds"] >= alignment["chance"] + 0.4
    assert min(alignment["by_field"].values()) >= alignment["chance"] + 0.3
    held_out = dates.examples(0, 200, held_out=True)  # greedy generation, loaded the way the app loads it
    answers = date_model.translate_dates(folder, [e.source for e in held_out])
    assert np.mean([a == e.target for a, e in zip(answers, held_out, strict=True)]) >= 0.95
    answers = date_model.translate_dates(folder, ["Wednesday, 2 December 2026", "12/02/26", "x" * 500, "é"])
    # no single date is asserted: the weights trained from the same seed differ in their last bits from one CPU to
    # another (held-out 0.995 on one machine; 0.996 on another, whose model wrote "2026-12-22" for the first), so the
    # claim is the held-out rate above; here the answers are dates, and junk input stays bounded
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", a) for a in answers[:2])
    assert all(len(a) <= date_model.TARGET_TOKENS + 1 for a in answers)
