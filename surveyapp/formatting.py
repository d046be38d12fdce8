"""The one way a person reads a number or a date, in the current language.

Vietnamese writes a decimal comma and a thousands dot (79,95 %, 1.009 phiếu) and dates as
dd/mm/yyyy; English writes 79.95%, 1,009 and "Mar 4, 2026". Every page, chart and report
formats through these functions (the Jinja filters of the same names), so the forms cannot
drift apart again. Babel supplies the separators; the patterns below fix the digits.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from flask import Flask, has_app_context
from flask_babel import to_user_timezone

# U+2212: a real minus sign, as typeset, not the hyphen Python prints.
MINUS = "\u2212"
# Vietnamese separates the number from "%" by a space that must not break the line.
NBSP = "\u00a0"
DASH = "–"

Number = float | int | Decimal


def _lang(lang: str | None) -> str:
    if lang is not None:
        return lang
    from surveyapp.i18n import select_locale

    return select_locale()


def _missing(value: Number | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def number(value: Number | None, digits: int = 0, *, lang: str | None = None) -> str:
    """``1009`` → "1.009" (vi), "1,009" (en); ``digits`` fixed decimals."""
    if _missing(value):
        return DASH
    assert value is not None
    # What Babel's pattern "#,##0.00" gives (the value read through its shortest decimal
    # form, rounded half to even, grouped by thousands: tests/test_formatting.py checks it
    # against Babel), written with Python's own formatting and the locale's two symbols: a
    # report page formats thousands of numbers, and Babel's pattern code costs ~50 us each.
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    text = f"{exact:,.{digits}f}".translate(_symbols(_lang(lang)))
    return text.replace("-", MINUS)


@cache
def _symbols(lang: str) -> dict[int, str]:
    """The locale's group and decimal symbols, as a translation of Python's "," and "."."""
    symbols = Locale.parse(lang).number_symbols["latn"]
    return str.maketrans({",": symbols["group"], ".": symbols["decimal"]})


def percent(value: Number | None, digits: int = 2, *, lang: str | None = None) -> str:
    """A value already in percent points: ``79.95`` → "79,95 %" (vi), "79.95%" (en)."""
    if _missing(value):
        return DASH
    language = _lang(lang)
    sign = NBSP if language == "vi" else ""
    return number(value, digits, lang=language) + sign + "%"


def share(value: Number | None, digits: int = 2, *, lang: str | None = None) -> str:
    """A fraction as a percentage: ``0.7995`` → "79,95 %"."""
    if _missing(value):
        return DASH
    assert value is not None
    return percent(float(value) * 100, digits, lang=lang)


def _magnitude(value: Number) -> Number:
    # abs() of the whole union is typed object; a Decimal is narrowed so it stays exact.
    if isinstance(value, Decimal):
        return abs(value)
    return abs(value)


def points(value: Number | None, digits: int = 2, *, lang: str | None = None) -> str:
    """A change in percentage points, always signed: "−0,28 điểm phần trăm"."""
    if _missing(value):
        return DASH
    assert value is not None
    language = _lang(lang)
    shown = number(_magnitude(value), digits, lang=language)
    # A change that rounds to zero reads as no change, not as "−0,00".
    sign = "±" if shown.strip("0,.") == "" else "+" if value > 0 else MINUS
    unit = "điểm phần trăm" if language == "vi" else "percentage points"
    return f"{sign}{shown}{NBSP}{unit}"


def signed(value: Number | None, digits: int = 2, *, lang: str | None = None) -> str:
    """A signed number without a unit, e.g. a confidence bound of a change: "−1,20"."""
    if _missing(value):
        return DASH
    assert value is not None
    shown = number(_magnitude(value), digits, lang=lang)
    if shown.strip("0,.") == "":
        return "±" + shown
    return ("+" if value > 0 else MINUS) + shown


def date(value: dt.date | dt.datetime | str | None, *, lang: str | None = None) -> str:
    """04/03/2026 in Vietnamese, "Mar 4, 2026" in English (ISO text is read as a date)."""
    if value is None or value == "":
        return DASH
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime) and has_app_context():
        # A stored moment (UTC) is on the local day a person reads: 06:30 on 1 December in
        # Đồng Nai, not 30 November.
        value = to_user_timezone(value)
    language = _lang(lang)
    if language == "vi":
        return _babel_date(value, "dd/MM/yyyy", locale="vi")
    return _babel_date(value, "MMM d, yyyy", locale=language)


def datetime(value: dt.datetime | None, *, lang: str | None = None, seconds: bool = False) -> str:
    """A moment to the minute: "14:05 04/03/2026" (vi), "Mar 4, 2026, 14:05" (en); with
    ``seconds`` to the second, where moments seconds apart must be told apart (bursts)."""
    if value is None:
        return DASH
    language = _lang(lang)
    if has_app_context():  # stored in UTC, read in the installation's time zone
        value = to_user_timezone(value)
    clock = "HH:mm:ss" if seconds else "HH:mm"
    if language == "vi":
        return _babel_datetime(value, f"{clock} dd/MM/yyyy", locale="vi")
    return _babel_datetime(value, f"MMM d, yyyy, {clock}", locale=language)


def init_app(app: Flask) -> None:
    filters: dict[str, Callable[..., str]] = {
        "num": number,
        "pct": percent,
        "share": share,
        "pp": points,
        "signed": signed,
        "day": date,
        "moment": datetime,
    }
    for name, function in filters.items():
        app.add_template_filter(function, name)
