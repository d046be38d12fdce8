"""The one way the product writes cells to XLSX: every text is a literal string cell.

openpyxl turns a str starting with ``=`` into a live formula, so a desk, unit or campaign
named ``=HYPERLINK(...)`` (or ``+``, ``-``, ``@``, tab/CR-prefixed, which spreadsheet apps
also evaluate on edit or CSV round-trips) would run in the analyst's Excel. Here every str
becomes a cell whose data type is set to string explicitly: the text is kept as typed (no
quote prefix), and Excel shows it, never evaluates it. Numbers, dates and None pass as they
are. Used by every XLSX writer (reports, exports, templates, ``analyze --format xlsx``);
``surveyapp.analysis`` imports it too, so it depends on openpyxl only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell, WriteOnlyCell

# XML 1.0 cannot carry most C0 control characters; openpyxl refuses them. Text from before
# input was filtered may still hold one: it is shown as U+FFFD instead of failing the file.
REPLACEMENT = "\ufffd"


def text(value: str) -> str:
    """``value`` with the characters an XLSX cannot hold replaced by U+FFFD."""
    return str(ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT, value))


def cell(ws: Any, value: Any) -> Any:
    """A cell for ``ws.append``: a literal string cell for a str, ``value`` itself otherwise."""
    if not isinstance(value, str):
        return value
    out: Cell = WriteOnlyCell(ws, value=text(value))
    out.data_type = "s"
    return out


def append(ws: Any, values: Iterable[Any]) -> None:
    """``ws.append(values)`` with every str written as a string (normal or write-only sheet)."""
    ws.append([cell(ws, v) for v in values])
