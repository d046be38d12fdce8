"""Reading tabular uploads (CSV or XLSX) into header + rows, with file row numbers kept."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _

from surveyapp.hygiene import clean_text
from surveyapp.services import ServiceError


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (row number in the file, values by header)
    sheet: str | None = None


def _clean(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    # Vietnamese text typed on different keyboards arrives in NFC or NFD; store NFC. A cell
    # is one line: control characters go, tab/CR/LF become spaces (surveyapp.hygiene).
    return clean_text(unicodedata.normalize("NFC", str(value)), multiline=False).strip()


def read_table(data: bytes, filename: str) -> Table:
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(data)
    if suffix in {".csv", ".txt", ""}:
        return _read_csv(data)
    raise ServiceError(_("Unsupported file type %(suffix)s: use CSV or XLSX.", suffix=suffix))


def _read_csv(data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ServiceError(_("The file is not UTF-8 text.")) from exc
    reader = csv.reader(io.StringIO(text))
    try:
        header = [_clean(h) for h in next(reader)]
    except StopIteration as exc:
        raise ServiceError(_("The file is empty.")) from exc
    rows = []
    for number, raw in enumerate(reader, start=2):
        if not any(cell.strip() for cell in raw):
            continue
        values = {h: _clean(raw[i]) if i < len(raw) else "" for i, h in enumerate(header)}
        rows.append((number, values))
    return Table(header, rows)


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ServiceError(_("The file is not a readable XLSX workbook.")) from exc
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    try:
        header = [_clean(h) for h in next(iterator)]
    except StopIteration as exc:
        raise ServiceError(_("The file is empty.")) from exc
    rows = []
    for number, raw in enumerate(iterator, start=2):
        if raw is None or not any(_clean(c) for c in raw):
            continue
        values = {h: _clean(raw[i]) if i < len(raw) else "" for i, h in enumerate(header) if h}
        rows.append((number, values))
    workbook.close()
    return Table(header, rows, sheet.title)
