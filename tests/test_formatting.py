"""One number and date rule for every page: Vietnamese forms in Vietnamese, English in English."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import numpy as np
import pytest
from babel.numbers import format_decimal
from flask import Flask, render_template_string

from surveyapp import formatting

NB = "\u00a0"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("vi", ["1.009", "79,95", "1.234.567,80"]), ("en", ["1,009", "79.95", "1,234,567.80"])],
)
def test_numbers(lang: str, expected: list[str]) -> None:
    got = [
        formatting.number(1009, lang=lang),
        formatting.number(79.95, 2, lang=lang),
        formatting.number(Decimal("1234567.8"), 2, lang=lang),
    ]
    assert got == expected


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_numbers_are_written_as_babel_writes_them(lang: str) -> None:
    """Half-way cases, negatives rounding to zero, big and tiny values, ints, Decimals and
    numpy numbers, against Babel's own pattern code."""
    rng = random.Random(7)
    values: list[object] = [0, -0.0, 0.125, 2.675, -0.004, -0.005, 1e-7, 123456789.555, 10**12]
    values += [rng.uniform(-1e6, 1e6) for _ in range(300)]
    values += [round(rng.uniform(-100, 100), 3) for _ in range(300)]
    values += [rng.randint(-(10**9), 10**9) for _ in range(100)]
    values += [Decimal("1234.5650"), Decimal("-0.0049"), np.float64(79.955), np.int64(1009)]
    for value in values:
        for digits in (0, 1, 2, 3):
            pattern = "#,##0" + ("." + "0" * digits if digits else "")
            expected = format_decimal(value, format=pattern, locale=lang).replace("-", "\u2212")
            assert formatting.number(value, digits, lang=lang) == expected, (value, digits)


def test_percentages_and_shares() -> None:
    assert formatting.percent(79.95, lang="vi") == f"79,95{NB}%"
    assert formatting.percent(79.95, lang="en") == "79.95%"
    assert formatting.share(0.7921, lang="vi") == f"79,21{NB}%"
    assert formatting.share(0.7921, 1, lang="en") == "79.2%"
    assert formatting.share(0.05, 0, lang="vi") == f"5{NB}%"
    for missing in (None, float("nan")):
        assert formatting.share(missing, lang="vi") == "–"


def test_percentage_point_changes_carry_a_real_minus_and_the_unit() -> None:
    assert formatting.points(-0.28, lang="vi") == f"\u22120,28{NB}điểm phần trăm"
    assert formatting.points(1.5, lang="vi") == f"+1,50{NB}điểm phần trăm"
    assert formatting.points(-0.28, lang="en") == f"\u22120.28{NB}percentage points"
    # A change that rounds to nothing is neither up nor down.
    assert formatting.points(-0.001, lang="vi") == f"±0,00{NB}điểm phần trăm"
    assert formatting.signed(-1.2, lang="vi") == "\u22121,20"
    assert formatting.signed(3, 1, lang="en") == "+3.0"


def test_dates() -> None:
    day = dt.date(2026, 3, 4)
    assert formatting.date(day, lang="vi") == "04/03/2026"
    assert formatting.date("2026-03-04", lang="vi") == "04/03/2026"
    assert formatting.date(day, lang="en") == "Mar 4, 2026"
    assert formatting.date(None, lang="vi") == "–"


def test_moments_are_shown_in_the_installations_time_zone(app: Flask) -> None:
    utc = dt.datetime(2026, 3, 4, 2, 5)  # stored naive in UTC; Hà Nội is UTC+7
    with app.test_request_context("/"):
        assert formatting.datetime(utc) == "09:05 04/03/2026"
    with app.test_request_context("/?lang=en"):
        assert formatting.datetime(utc) == "Mar 4, 2026, 09:05"
        assert formatting.datetime(utc, seconds=True) == "Mar 4, 2026, 09:05:00"
    with app.test_request_context("/"):
        assert formatting.datetime(utc, seconds=True) == "09:05:00 04/03/2026"


def test_filters_follow_the_visitors_language(app: Flask) -> None:
    source = "{{ 1009|num }} {{ 0.7995|share }} {{ -0.28|pp }} {{ day|day }} {{ 2.346|num(2) }}"
    day = dt.date(2026, 12, 31)
    with app.test_request_context("/"):
        assert render_template_string(source, day=day) == (
            f"1.009 79,95{NB}% \u22120,28{NB}điểm phần trăm 31/12/2026 2,35"
        )
    with app.test_request_context("/?lang=en"):
        assert render_template_string(source, day=day) == (
            f"1,009 79.95% \u22120.28{NB}percentage points Dec 31, 2026 2.35"
        )
