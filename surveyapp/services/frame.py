"""The sample frame: households listed per village, imported from CSV/XLSX all-or-nothing."""

from __future__ import annotations

from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models.sampling import Household
from surveyapp.models.units import Unit, UnitLevel
from surveyapp.services import ServiceError, audit
from surveyapp.services.tables import read_table

VILLAGE_COLUMNS = ("village", "village_code", "unit", "unit_code", "mã thôn", "thôn")
HOUSEHOLD_COLUMNS = ("household", "household_code", "code", "mã hộ")
NAME_COLUMNS = ("head_name", "name", "chủ hộ", "họ tên chủ hộ")
ADDRESS_COLUMNS = ("address", "địa chỉ")


class ImportProblems(ServiceError):
    """Every problem found in a file; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def _pick(header: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {h.lower(): h for h in header}
    return next((lowered[n] for n in names if n in lowered), None)


def import_frame(data: bytes, filename: str) -> int:
    """Add the file's households to the session; return how many. Raises on any problem."""
    table = read_table(data, filename)
    village_col = _pick(table.header, VILLAGE_COLUMNS)
    household_col = _pick(table.header, HOUSEHOLD_COLUMNS)
    if village_col is None or household_col is None:
        raise ImportProblems([_("The file needs a 'village' column and a 'household' column.")])
    name_col = _pick(table.header, NAME_COLUMNS)
    address_col = _pick(table.header, ADDRESS_COLUMNS)
    villages = {
        u.code: u for u in db.session.scalars(select(Unit).where(Unit.level == UnitLevel.VILLAGE))
    }
    other_units = set(db.session.scalars(select(Unit.code).where(Unit.level != UnitLevel.VILLAGE)))
    existing = set(
        (a, b)
        for a, b in db.session.execute(
            select(Unit.code, Household.code).join(Unit, Household.village_id == Unit.id)
        ).all()
    )
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    rows: list[Household] = []
    for number, values in table.rows:
        village_code, code = values.get(village_col, ""), values.get(household_col, "")
        village = villages.get(village_code)
        village_problem = _village_problem(village_code, village is not None, other_units)
        if village_problem is not None:
            problems.append(_cell(number, village_col, village_problem))
        if not code:
            problems.append(_cell(number, household_col, _("the household code is empty.")))
        elif len(code) > 30:
            problems.append(
                _cell(number, household_col, _("the code is longer than 30 characters."))
            )
        key = (village_code, code)
        if village is not None and code:
            if key in seen:
                problems.append(
                    _cell(number, household_col, _("repeats row %(row)d.", row=seen[key]))
                )
            elif key in existing:
                problems.append(
                    _cell(number, household_col, _("this household is already in the frame."))
                )
            seen.setdefault(key, number)
        if village is not None and code and not problems:
            rows.append(
                Household(
                    village=village,
                    code=code,
                    head_name=values.get(name_col, "")[:200] if name_col else "",
                    address=values.get(address_col, "")[:300] if address_col else "",
                )
            )
    if problems:
        raise ImportProblems(problems)
    if not rows:
        raise ImportProblems([_("The file has no households.")])
    db.session.add_all(rows)
    db.session.flush()
    audit.record("import", "frame", filename, after={"households": len(rows)})
    return len(rows)


def _village_problem(code: str, known: bool, other_units: set[str]) -> str | None:
    """Why a row's village code names no village of the frame, or None."""
    if not code:
        return _("the village code is empty.")
    if known:
        return None
    if code in other_units:
        return _("unit %(code)s is not a village.", code=code)
    return _("no village has the code %(code)s.", code=code)


def import_frame_file(path: str | Path) -> int:
    path = Path(path)
    return import_frame(path.read_bytes(), path.name)


def _cell(row: int, column: str, reason: str) -> str:
    return _("Row %(row)d, column %(col)s: %(reason)s", row=row, col=column, reason=reason)


def sizes() -> list[dict[str, object]]:
    """Households per unit at every level (village upwards), in code order."""
    per_village = dict(
        db.session.execute(
            select(Household.village_id, func.count()).group_by(Household.village_id)
        ).all()
    )
    units = db.session.scalars(select(Unit).order_by(Unit.code)).all()
    total: dict[int, int] = dict.fromkeys((u.id for u in units), 0)
    villages: dict[int, int] = dict.fromkeys((u.id for u in units), 0)
    by_id = {u.id: u for u in units}
    for village_id, n in per_village.items():
        unit: Unit | None = by_id.get(village_id)
        while unit is not None:
            total[unit.id] += n
            villages[unit.id] += 1
            unit = by_id.get(unit.parent_id) if unit.parent_id else None
    return [
        {
            "code": u.code,
            "name": u.name,
            "level": u.level.value,
            "villages": villages[u.id],
            "households": total[u.id],
        }
        for u in units
        if total[u.id]
    ]
