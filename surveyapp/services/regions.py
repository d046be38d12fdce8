"""Regions: named groups of communes a province defines, to break results down by and to
calibrate to when a commune is too small (issue 13 §4).

A regions file (CSV or XLSX) has one row per commune: ``commune_code`` (or ``commune``,
``unit``, ``mã xã``) and ``region`` (or ``vùng``), the region's name (at most
:data:`REGION_NAME_LENGTH` characters: it is a margin category). The file replaces every
region assignment; any problem imports nothing and names the file row and column; the import
is audited. A region's communes need not cover the province: a commune no region lists has
no region (``unknown`` in a region margin, no row in a region breakdown).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select

from surveyapp.extensions import db
from surveyapp.models.regions import REGION_NAME_LENGTH, UnitRegion
from surveyapp.models.units import Unit, UnitLevel
from surveyapp.services import ServiceError, audit
from surveyapp.services.frame import ImportProblems, _pick
from surveyapp.services.imports import _where
from surveyapp.services.tables import read_table

UNIT_COLUMNS = ("commune_code", "commune", "unit", "code", "mã xã", "ma xa", "mã đơn vị")
REGION_COLUMNS = ("region", "vùng", "vung", "tên vùng")
# The level a region groups: the commune-level units (xã, phường, đặc khu).
GROUPED = UnitLevel.COMMUNE


@dataclass(frozen=True)
class RegionRow:
    unit: Unit
    region: str


def parse(data: bytes, filename: str) -> list[RegionRow]:
    """Every row of a regions file, checked; :class:`ImportProblems` lists every problem."""
    table = read_table(data, filename)
    sheet, header = table.sheet, table.header
    unit_col = _pick(header, UNIT_COLUMNS)
    region_col = _pick(header, REGION_COLUMNS)
    if unit_col is None or region_col is None:
        raise ImportProblems([_("The file needs the columns commune_code and region.")])
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    problems: list[str] = []
    seen: dict[str, int] = {}
    rows: list[RegionRow] = []
    for number, values in table.rows:
        code = values.get(unit_col, "")
        region = values.get(region_col, "").strip()
        unit = units.get(code)
        if unit is None or unit.level != GROUPED:
            reason = (
                _("%(value)r is not a unit code.", value=code)
                if unit is None
                else _(
                    "%(value)s is not a commune-level unit (xã, phường, đặc khu): a region "
                    "groups communes.",
                    value=code,
                )
            )
            problems.append(_where(sheet, number, unit_col, header, reason))
            continue
        if code in seen:
            problems.append(
                _where(
                    sheet,
                    number,
                    unit_col,
                    header,
                    _("commune %(code)s repeats row %(row)d.", code=code, row=seen[code]),
                )
            )
            continue
        seen[code] = number
        if not region:
            problems.append(
                _where(sheet, number, region_col, header, _("empty: give the region's name."))
            )
            continue
        if len(region) > REGION_NAME_LENGTH:
            problems.append(
                _where(
                    sheet,
                    number,
                    region_col,
                    header,
                    _(
                        "a region's name has at most %(n)d characters.",
                        n=REGION_NAME_LENGTH,
                    ),
                )
            )
            continue
        rows.append(RegionRow(unit, region))
    if not rows and not problems:
        problems.append(_("The file has no rows."))
    if problems:
        raise ImportProblems(problems)
    return rows


def stored() -> list[UnitRegion]:
    return list(
        db.session.scalars(select(UnitRegion).join(Unit).order_by(UnitRegion.region, Unit.code))
    )


def _snapshot(rows: list[UnitRegion]) -> dict[str, str]:
    codes = {uid: code for uid, code in db.session.execute(select(Unit.id, Unit.code))}
    return {codes[r.unit_id]: r.region for r in rows}


def import_regions(data: bytes, filename: str) -> list[UnitRegion]:
    """Replace every region assignment with the file's; nothing changes on any error."""
    rows = parse(data, filename)
    before = _snapshot(stored())
    db.session.execute(delete(UnitRegion))
    added = [UnitRegion(unit_id=r.unit.id, region=r.region) for r in rows]
    db.session.add_all(added)
    db.session.flush()
    audit.record(
        "import",
        "unit_regions",
        None,
        before=before or None,
        after={"file": filename, **_snapshot(added)},
    )
    return added


def import_regions_file(path: str | Path) -> list[UnitRegion]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ServiceError(_("File %(name)s not found.", name=str(path))) from exc
    return import_regions(data, path.name)


def clear() -> int:
    """Remove every region (breakdowns and margins by region then have none)."""
    before = stored()
    if not before:
        return 0
    snapshot = _snapshot(before)
    db.session.execute(delete(UnitRegion))
    db.session.flush()
    audit.record("delete", "unit_regions", None, before=snapshot)
    return len(before)


def overview() -> list[dict[str, Any]]:
    """Per region: its name, its communes (code and name) and how many."""
    rows = stored()
    units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.level == GROUPED))}
    counts = Counter(r.region for r in rows)
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        group = out.setdefault(r.region, {"region": r.region, "n": counts[r.region], "units": []})
        unit = units.get(r.unit_id)
        if unit is not None:
            group["units"].append({"code": unit.code, "name": unit.name})
    return list(out.values())


def ungrouped() -> list[Unit]:
    """Communes no region lists."""
    listed = select(UnitRegion.unit_id)
    return list(
        db.session.scalars(
            select(Unit).where(Unit.level == GROUPED, Unit.id.not_in(listed)).order_by(Unit.code)
        )
    )
