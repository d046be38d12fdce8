"""The crosswalk of old units to new ones (the 1 July 2025 reorganisation): import (all or
nothing, audited), template and listing.

A crosswalk file has one row per (old unit, new unit)::

    old_code   new_code  share  population  source
    75-731-01  26041     1                  Nghị quyết 1662/NQ-UBTVQH15   (merged whole: exact)
    75-731-02  26041     0.6    14200       …                             (split: approximate)
    75-731-02  26044     0.4     9500       …

``share`` is the part of the old unit's population that the new unit received: 1 when the
old unit went whole into it (the mapping is exact), less than 1 when the old unit was split
(the mapping is approximate: a figure of the old unit is assumed to hold in each of its
parts). The shares of one old unit must add up to 1 (± :data:`SHARE_TOLERANCE`). A share may
be written 0.6, 0,6 or 60%. ``population`` (optional) is the number of people who moved; an
estimate for a new unit from old data weights the old units by it (by the share when absent).

Importing a file replaces the stored mappings of every old unit the file names, and nothing
else; a file with any problem changes nothing, and each problem names its row and column.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import delete, select
from sqlalchemy.orm import aliased

from surveyapp import formatting, xlsx
from surveyapp.extensions import db
from surveyapp.models.units import Unit, UnitCrosswalk
from surveyapp.services import ServiceError, audit
from surveyapp.services.tables import read_table

COLUMNS = ("old_code", "old_name", "new_code", "new_name", "share", "population", "source")
REQUIRED = ("old_code", "new_code", "share")
SHARE_TOLERANCE = 0.001
SHEET = "Chuyen doi don vi"


class CrosswalkImportError(ServiceError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class CrosswalkRow:
    """One parsed, checked line of an import."""

    number: int
    old: Unit
    new: Unit
    share: float
    population: int | None
    source: str


class _Problems(list[str]):
    """The problems of one file, each naming its row and column (with the column's letter,
    as a spreadsheet shows it)."""

    def __init__(self, header: list[str]) -> None:
        super().__init__()
        self.letters = {h.lower(): get_column_letter(i) for i, h in enumerate(header, 1) if h}

    def column(self, name: str) -> str:
        letter = self.letters.get(name)
        return f"{name} ({letter})" if letter else name


def _bad(problems: _Problems, number: int, column: str, message: str) -> None:
    problems.append(
        _(
            "Row %(row)d, column %(col)s: %(message)s",
            row=number,
            col=problems.column(column),
            message=message,
        )
    )


def _share(raw: str) -> float | None:
    text = raw.strip().replace(" ", "")
    percent = text.endswith("%")
    text = text.removesuffix("%").replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return value / 100 if percent else value


def _parse_row(
    number: int, values: dict[str, str], units: dict[str, Unit], problems: _Problems
) -> CrosswalkRow | None:
    before = len(problems)
    found: dict[str, Unit] = {}
    for column in ("old_code", "new_code"):
        code = values.get(column, "").strip()
        if not code:
            _bad(problems, number, column, _("a value is required."))
        elif code not in units:
            _bad(problems, number, column, _("no unit has the code %(code)s.", code=code))
        else:
            found[column] = units[code]
    old, new = found.get("old_code"), found.get("new_code")
    if old is not None and new is not None and old.id == new.id:
        _bad(problems, number, "new_code", _("a unit cannot map to itself."))
    raw_share = values.get("share", "").strip()
    share = _share(raw_share) if raw_share else None
    if not raw_share:
        _bad(problems, number, "share", _("a value is required."))
    elif share is None:
        _bad(problems, number, "share", _("%(value)r is not a number.", value=raw_share))
    elif not 0 < share <= 1 + SHARE_TOLERANCE:
        _bad(
            problems,
            number,
            "share",
            _("%(value)s is not a share above 0 and at most 1.", value=raw_share),
        )
    raw_population = values.get("population", "").strip().replace(".", "").replace(" ", "")
    population: int | None = None
    if raw_population:
        if not raw_population.isdigit():
            _bad(
                problems,
                number,
                "population",
                _("%(value)r is not a whole number of people.", value=values["population"]),
            )
        else:
            population = int(raw_population)
    if len(problems) > before or old is None or new is None or share is None:
        return None
    return CrosswalkRow(
        number=number,
        old=old,
        new=new,
        share=min(share, 1.0),
        population=population,
        source=values.get("source", "").strip()[:300],
    )


def _check_sums(rows: list[CrosswalkRow], problems: _Problems) -> None:
    by_old: dict[str, list[CrosswalkRow]] = defaultdict(list)
    for row in rows:
        by_old[row.old.code].append(row)
    for code, group in by_old.items():
        total = sum(r.share for r in group)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            numbers = ", ".join(str(r.number) for r in group)
            problems.append(
                _(
                    "Rows %(rows)s, column %(col)s: the shares of old unit %(code)s add up to "
                    "%(total)s; the shares of one old unit must add up to 1 (± %(tolerance)s).",
                    rows=numbers,
                    col=problems.column("share"),
                    code=code,
                    total=formatting.number(total, 3),
                    tolerance=formatting.number(SHARE_TOLERANCE, 3),
                )
            )


def parse_crosswalk(data: bytes, filename: str) -> list[CrosswalkRow]:
    """Every row of a CSV/XLSX crosswalk, or :class:`CrosswalkImportError` naming each bad
    cell by row and column (nothing is taken from a file with any problem)."""
    table = read_table(data, filename)
    header = {h.lower() for h in table.header}
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CrosswalkImportError(
            [_("The file lacks the column(s): %(columns)s.", columns=", ".join(missing))]
        )
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    problems = _Problems(table.header)
    rows: list[CrosswalkRow] = []
    seen: dict[tuple[int, int], int] = {}
    for number, values in table.rows:
        lowered = {k.lower(): v for k, v in values.items()}
        parsed = _parse_row(number, lowered, units, problems)
        if parsed is None:
            continue
        key = (parsed.old.id, parsed.new.id)
        if key in seen:
            problems.append(
                _(
                    "Row %(row)d, column %(col)s: the same pair of units as row %(first)d.",
                    row=number,
                    col=problems.column("new_code"),
                    first=seen[key],
                )
            )
            continue
        seen[key] = number
        rows.append(parsed)
    if not problems:
        _check_sums(rows, problems)
    if not rows and not problems:
        problems.append(_("The file has no rows."))
    if problems:
        raise CrosswalkImportError(problems)
    return rows


def _snapshot(entries: list[UnitCrosswalk]) -> dict[str, Any]:
    return {e.new_unit.code: {"share": e.share, "population": e.population} for e in entries}


def import_crosswalk(data: bytes, filename: str) -> list[UnitCrosswalk]:
    """Replace the mappings of every old unit the file names; nothing changes on any error.
    One audit entry per old unit, with its mappings before and after."""
    rows = parse_crosswalk(data, filename)
    by_old: dict[int, list[CrosswalkRow]] = defaultdict(list)
    for row in rows:
        by_old[row.old.id].append(row)
    existing: dict[int, list[UnitCrosswalk]] = defaultdict(list)
    for entry in db.session.scalars(
        select(UnitCrosswalk).where(UnitCrosswalk.old_unit_id.in_(by_old))
    ):
        existing[entry.old_unit_id].append(entry)
    before = {old_id: _snapshot(entries) for old_id, entries in existing.items()}
    db.session.execute(delete(UnitCrosswalk).where(UnitCrosswalk.old_unit_id.in_(by_old)))
    added: list[UnitCrosswalk] = []
    for old_id, group in by_old.items():
        entries = [
            UnitCrosswalk(
                old_unit=r.old,
                new_unit=r.new,
                share=r.share,
                population=r.population,
                source=r.source,
            )
            for r in group
        ]
        db.session.add_all(entries)
        db.session.flush()
        audit.record(
            "import",
            "unit_crosswalk",
            group[0].old.code,
            before=before.get(old_id) or None,
            after={"file": filename, **_snapshot(entries)},
        )
        added += entries
    return added


def entries() -> list[UnitCrosswalk]:
    """Every stored mapping, by old unit code and then new unit code."""
    old, new = aliased(Unit), aliased(Unit)
    return list(
        db.session.scalars(
            select(UnitCrosswalk)
            .join(old, UnitCrosswalk.old_unit_id == old.id)
            .join(new, UnitCrosswalk.new_unit_id == new.id)
            .order_by(old.code, new.code)
        )
    )


def listing() -> list[dict[str, Any]]:
    """The stored crosswalk as rows for a page, a command or a file."""
    return [
        {
            "old_code": e.old_unit.code,
            "old_name": e.old_unit.name,
            "new_code": e.new_unit.code,
            "new_name": e.new_unit.name,
            "share": e.share,
            "exact": e.exact,
            "population": e.population,
            "source": e.source,
        }
        for e in entries()
    ]


def remove_all() -> int:
    """Remove the whole crosswalk (audited per old unit); returns the rows removed."""
    by_old: dict[str, list[UnitCrosswalk]] = defaultdict(list)
    stored = entries()
    for e in stored:
        by_old[e.old_unit.code].append(e)
    for code, group in by_old.items():
        audit.record("delete", "unit_crosswalk", code, before=_snapshot(group))
    db.session.execute(delete(UnitCrosswalk))
    db.session.flush()
    return len(stored)


def _template_rows() -> list[list[Any]]:
    """The stored mappings, then every historical unit without one (new unit left blank)."""
    rows: list[list[Any]] = [
        [r["old_code"], r["old_name"], r["new_code"], r["new_name"], r["share"],
         r["population"], r["source"]]
        for r in listing()
    ]  # fmt: skip
    mapped = {r[0] for r in rows}
    historical = db.session.scalars(
        select(Unit).where(Unit.valid_to.is_not(None)).order_by(Unit.code)
    )
    blank: list[Any] = [None] * 5
    rows += [[u.code, u.name, *blank] for u in historical if u.code not in mapped]
    return rows


def template(fmt: str = "xlsx") -> bytes:
    """A file with the crosswalk's columns, the stored mappings and a blank row for every
    historical unit not yet mapped: XLSX (default) or CSV (UTF-8 with BOM, for Excel)."""
    rows = _template_rows()
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    xlsx.append(ws, COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in rows:
        xlsx.append(ws, row)
    ws.freeze_panes = "A2"
    for letter, width in zip("ABCDEFG", (14, 36, 14, 36, 10, 12, 50), strict=True):
        ws.column_dimensions[letter].width = width
    data = io.BytesIO()
    wb.save(data)
    return data.getvalue()


def shares_into(new_unit_ids: set[int] | None = None) -> dict[int, list[UnitCrosswalk]]:
    """The mappings into each new unit (all new units when ``new_unit_ids`` is None)."""
    stmt = select(UnitCrosswalk)
    if new_unit_ids is not None:
        stmt = stmt.where(UnitCrosswalk.new_unit_id.in_(new_unit_ids))
    out: dict[int, list[UnitCrosswalk]] = defaultdict(list)
    for e in db.session.scalars(stmt):
        out[e.new_unit_id].append(e)
    return out
