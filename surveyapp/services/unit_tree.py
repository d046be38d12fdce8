"""Importing administrative units (all or nothing, audited): the province's commune-level
units of today, their villages, and older units kept as history.

A units file has one row per unit::

    code   name                 level     kind    parent_code  valid_from  valid_to
    75     Tỉnh Đồng Nai        province  tỉnh
    26041  Phường Trấn Biên     commune   phường  75           01/07/2025
    75-731 Thành phố Biên Hòa   district  thành phố 75                     30/06/2025

``level`` is province, district, commune or village; the parent must be of a level that may
hold it (:data:`surveyapp.models.units.PARENT_LEVELS`: a commune sits under the province
today, or under a district in the older structure). A parent may be earlier in the same file
or already stored. A row whose code is stored updates that unit. Dates are dd/mm/yyyy or
yyyy-mm-dd; an empty date means "since always" / "still today".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models.units import KINDS, PARENT_LEVELS, Unit, UnitLevel
from surveyapp.services import ServiceError, audit
from surveyapp.services.tables import read_table

COLUMNS = ("code", "name", "level", "kind", "parent_code", "valid_from", "valid_to", "urban")
REQUIRED = ("code", "name", "level")
URBAN = {"1": True, "có": True, "yes": True, "0": False, "không": False, "no": False}


class UnitImportError(ServiceError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class _Parsed:
    number: int
    code: str
    name: str
    level: UnitLevel
    kind: str | None
    parent_code: str | None
    valid_from: date | None
    valid_to: date | None
    urban: bool | None


def level_name(level: UnitLevel) -> str:
    """A level as the reader says it."""
    return {
        UnitLevel.PROVINCE: _("province"),
        UnitLevel.DISTRICT: _("district"),
        UnitLevel.COMMUNE: _("commune-level unit"),
        UnitLevel.VILLAGE: _("village or hamlet"),
    }[level]


def _date(raw: str) -> date | None:
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
    return None


class _Reader:
    def __init__(self, header: list[str]) -> None:
        self.letters = {h.lower(): get_column_letter(i) for i, h in enumerate(header, 1) if h}
        self.problems: list[str] = []

    def bad(self, number: int, column: str, message: str) -> None:
        letter = self.letters.get(column)
        self.problems.append(
            _(
                "Row %(row)d, column %(col)s: %(message)s",
                row=number,
                col=f"{column} ({letter})" if letter else column,
                message=message,
            )
        )

    def row(self, number: int, values: dict[str, str]) -> _Parsed | None:
        before = len(self.problems)
        for column in REQUIRED:
            if not values.get(column):
                self.bad(number, column, _("a value is required."))
        raw_level = values.get("level", "").lower()
        level = next((lv for lv in UnitLevel if lv.value == raw_level), None)
        if raw_level and level is None:
            self.bad(number, "level", _("use province, district, commune or village."))
        kind = values.get("kind", "").lower() or None
        if kind is not None and level is not None and kind not in KINDS[level]:
            self.bad(
                number,
                "kind",
                _(
                    "a %(level)s is one of: %(kinds)s.",
                    level=level_name(level),
                    kinds=", ".join(KINDS[level]),
                ),
            )
        dates: dict[str, date | None] = {}
        for column in ("valid_from", "valid_to"):
            raw = values.get(column, "")
            dates[column] = _date(raw) if raw else None
            if raw and dates[column] is None:
                self.bad(number, column, _("%(value)r is not a date (dd/mm/yyyy).", value=raw))
        start, end = dates["valid_from"], dates["valid_to"]
        if start is not None and end is not None and end < start:
            self.bad(number, "valid_to", _("the unit cannot end before it begins."))
        raw_urban = values.get("urban", "").lower()
        urban = URBAN.get(raw_urban)
        if raw_urban and raw_urban not in URBAN:
            self.bad(number, "urban", _("use 1 (urban) or 0 (rural)."))
        if len(self.problems) > before or level is None:
            return None
        return _Parsed(
            number, values["code"], values["name"][:200], level, kind,
            values.get("parent_code") or None, start, end, urban,
        )  # fmt: skip


def parse_units(data: bytes, filename: str) -> list[_Parsed]:
    table = read_table(data, filename)
    header = {h.lower() for h in table.header}
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise UnitImportError(
            [_("The file lacks the column(s): %(columns)s.", columns=", ".join(missing))]
        )
    reader = _Reader(table.header)
    stored = {u.code: u.level for u in db.session.scalars(select(Unit))}
    rows: list[_Parsed] = []
    seen: dict[str, _Parsed] = {}
    for number, values in table.rows:
        parsed = reader.row(number, {k.lower(): v for k, v in values.items()})
        if parsed is None:
            continue
        if parsed.code in seen:
            reader.bad(
                number,
                "code",
                _("the same code as row %(first)d.", first=seen[parsed.code].number),
            )
            continue
        _check_parent(reader, parsed, seen, stored)
        seen[parsed.code] = parsed
        rows.append(parsed)
    if not rows and not reader.problems:
        reader.problems.append(_("The file has no rows."))
    if reader.problems:
        raise UnitImportError(reader.problems)
    return rows


def _check_parent(
    reader: _Reader, row: _Parsed, seen: dict[str, _Parsed], stored: dict[str, UnitLevel]
) -> None:
    if row.level == UnitLevel.PROVINCE:
        if row.parent_code:
            reader.bad(row.number, "parent_code", _("a province has no parent unit."))
        return
    if not row.parent_code:
        reader.bad(row.number, "parent_code", _("a value is required."))
        return
    if row.parent_code == row.code:
        reader.bad(row.number, "parent_code", _("a unit cannot be its own parent."))
        return
    parent_level = seen[row.parent_code].level if row.parent_code in seen else None
    parent_level = parent_level or stored.get(row.parent_code)
    if parent_level is None:
        reader.bad(
            row.number,
            "parent_code",
            _("no unit has the code %(code)s (a parent must come before its units).",
              code=row.parent_code),
        )  # fmt: skip
    elif parent_level not in PARENT_LEVELS[row.level]:
        allowed = ", ".join(level_name(level) for level in PARENT_LEVELS[row.level])
        reader.bad(
            row.number,
            "parent_code",
            _(
                "a %(level)s cannot sit under a %(parent)s (its parent is a %(allowed)s).",
                level=level_name(row.level),
                parent=level_name(parent_level),
                allowed=allowed,
            ),
        )


def _snapshot(unit: Unit) -> dict[str, Any]:
    return {
        "name": unit.name,
        "level": unit.level.value,
        "kind": unit.kind,
        "parent": unit.parent.code if unit.parent else None,
        "valid_from": unit.valid_from.isoformat() if unit.valid_from else None,
        "valid_to": unit.valid_to.isoformat() if unit.valid_to else None,
    }


def import_units(data: bytes, filename: str) -> list[Unit]:
    """Add or update every unit of the file (keyed by code), audited; nothing on any error."""
    rows = parse_units(data, filename)
    by_code = {u.code: u for u in db.session.scalars(select(Unit))}
    changed = []
    for row in rows:
        unit = by_code.get(row.code)
        before = _snapshot(unit) if unit is not None else None
        if unit is None:
            unit = Unit(code=row.code, level=row.level)
            db.session.add(unit)
            by_code[row.code] = unit
        unit.name = row.name
        unit.level = row.level
        unit.kind = row.kind
        unit.parent = by_code[row.parent_code] if row.parent_code else None
        unit.valid_from = row.valid_from
        unit.valid_to = row.valid_to
        if row.urban is not None:
            unit.urban = row.urban
        db.session.flush()
        after = {"file": filename, **_snapshot(unit)}
        audit.record("import", "unit", unit.code, before=before, after=after)
        changed.append(unit)
    return changed
