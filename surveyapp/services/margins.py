"""Population margins of a campaign: the all-or-nothing import, the template, what is stored.

A margins file has one row per category of a margin variable:

========  ==========  ============  ==========================================
variable  category    population    source (optional; label is ignored)
========  ==========  ============  ==========================================
sex_age   ``1-1``     people        sex × age group: ``<sex>-<age group>`` option values
area      ``1``/``2`` people        the ``area`` option values (urban, rural)
commune   ``26734``   people        unit codes of the campaign's units of that level
region    ``Bắc``     people        region names (:mod:`.regions`)
========  ==========  ============  ==========================================

The geographic variable is named after its level (:mod:`.levels`): a unit level the
campaign's units have (``commune``; ``district`` on the historical structure) or
``region``, as the province chooses; a file uses one. Every variable in a file must list all
its categories, and every variable must add up to the same population (raking cannot meet
margins that disagree). The file replaces all of the campaign's margins; any problem imports
nothing and names the file row and column.
"""

from __future__ import annotations

import io
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from sqlalchemy import delete, select

from surveyapp import xlsx
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.margins import MarginVariable, PopulationMargin
from surveyapp.models.questionnaires import Question, text_in
from surveyapp.models.units import UnitLevel
from surveyapp.services import ServiceError, audit, levels
from surveyapp.services.frame import ImportProblems, _pick
from surveyapp.services.imports import _where
from surveyapp.services.tables import read_table

VARIABLE_COLUMNS = ("variable", "biến", "bien")
CATEGORY_COLUMNS = ("category", "nhóm", "nhom", "mã nhóm")
POPULATION_COLUMNS = ("population", "dân số", "dan so")
SOURCE_COLUMNS = ("source", "nguồn", "nguon")
SHEET = "Bien dan so"
# Totals of different variables must agree to this relative precision (raking needs equal sums).
TOTAL_TOLERANCE = 1e-9
# The respondent's calibration category per variable, as columns of the export and of the
# report's cell table, and the category of a respondent whose answer (or unit) is missing.
COLUMNS = {v: f"cal_{v.value}" for v in MarginVariable}
UNKNOWN = "unknown"
# The answers each variable is read from.
ANSWERS = {MarginVariable.SEX_AGE: ("sex", "age_group"), MarginVariable.AREA: ("area",)}


def geographic() -> list[MarginVariable]:
    """The margin variables that are a level (a unit level or :data:`levels.REGION`)."""
    area_levels = {lv.value for lv in UnitLevel} | {levels.REGION}
    return [v for v in MarginVariable if v.value in area_levels]


def cell_of(
    sex: int | None, age_group: int | None, area: int | None, places: dict[str, str | None]
) -> dict[str, str]:
    """One respondent's calibration categories (:data:`UNKNOWN` where not known);
    ``places`` gives her code at each level (``{"commune": "26734", "region": "Bắc"}``)."""
    out = {
        COLUMNS[MarginVariable.SEX_AGE]: (
            f"{int(sex)}-{int(age_group)}" if sex is not None and age_group is not None else UNKNOWN
        ),
        COLUMNS[MarginVariable.AREA]: str(int(area)) if area is not None else UNKNOWN,
    }
    for level, code in places.items():
        out[f"cal_{level}"] = code or UNKNOWN
    return out


@dataclass(frozen=True)
class MarginRow:
    variable: MarginVariable
    category: str
    population: float
    source: str


def _question(campaign: Campaign, code: str) -> Question | None:
    return next((q for q in campaign.questionnaire.questions if q.code == code), None)


def _options(campaign: Campaign, code: str, lang: str) -> list[tuple[str, str]]:
    question = _question(campaign, code)
    if question is None or question.option_set is None:
        return []
    return [(str(o.value), text_in(o.label, lang)) for o in question.option_set.options]


def categories(campaign: Campaign, lang: str = "vi") -> dict[MarginVariable, dict[str, str]]:
    """Category code → label of every margin variable the campaign's instrument supports."""
    sexes = _options(campaign, "sex", lang)
    ages = _options(campaign, "age_group", lang)
    out: dict[MarginVariable, dict[str, str]] = {}
    if sexes and ages:
        out[MarginVariable.SEX_AGE] = {
            f"{s}-{a}": f"{s_label}, {a_label}" for s, s_label in sexes for a, a_label in ages
        }
    area = _options(campaign, "area", lang)
    if area:
        out[MarginVariable.AREA] = dict(area)
    for level in levels.area_levels(campaign):
        variable = next((v for v in geographic() if v.value == level), None)
        if variable is None:
            continue
        if level == levels.REGION:
            out[variable] = {name: name for name in levels.regions(campaign)}
        else:
            out[variable] = {u.code: u.name for u in levels.units_at(campaign, level)}
    return out


def _number(raw: str) -> float | None:
    """``"1.234.567"``, ``"1 234 567"``, ``"1234567"``, ``"1234,5"`` → a float; else None."""
    text = raw.replace(" ", "").replace("\u00a0", "")
    if re.fullmatch(r"\d{1,3}(\.\d{3})+|\d{1,3}(,\d{3})+", text):
        text = text.replace(".", "").replace(",", "")  # thousands separators
    else:
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_margins(
    campaign: Campaign, data: bytes, filename: str, source: str = ""
) -> list[MarginRow]:
    """Every row of a margins file, checked; :class:`ImportProblems` lists every problem."""
    table = read_table(data, filename)
    sheet, header = table.sheet, table.header
    variable_col = _pick(header, VARIABLE_COLUMNS)
    category_col = _pick(header, CATEGORY_COLUMNS)
    population_col = _pick(header, POPULATION_COLUMNS)
    source_col = _pick(header, SOURCE_COLUMNS)
    if variable_col is None or category_col is None or population_col is None:
        raise ImportProblems(
            [_("The file needs the columns variable, category and population (source optional).")]
        )
    known = categories(campaign)
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    rows: list[MarginRow] = []
    for number, values in table.rows:
        raw_variable = values.get(variable_col, "").lower()
        category = values.get(category_col, "")
        raw_population = values.get(population_col, "")
        try:
            variable = MarginVariable(raw_variable)
        except ValueError:
            variable = None
        if variable is None or variable not in known:
            problems.append(
                _where(
                    sheet,
                    number,
                    variable_col,
                    header,
                    _(
                        "unknown margin variable %(value)r: use one of %(names)s.",
                        value=raw_variable,
                        names=", ".join(v.value for v in known),
                    ),
                )
            )
            continue
        if category not in known[variable]:
            problems.append(
                _where(
                    sheet,
                    number,
                    category_col,
                    header,
                    _(
                        "%(value)r is not a category of %(variable)s (see the template).",
                        value=category,
                        variable=variable.value,
                    ),
                )
            )
            continue
        key = (variable.value, category)
        if key in seen:
            problems.append(
                _where(
                    sheet,
                    number,
                    category_col,
                    header,
                    _(
                        "%(variable)s %(category)s repeats row %(row)d.",
                        variable=variable.value,
                        category=category,
                        row=seen[key],
                    ),
                )
            )
            continue
        seen[key] = number
        population = _number(raw_population)
        if population is None:
            problems.append(
                _where(
                    sheet,
                    number,
                    population_col,
                    header,
                    _("%(value)r is not a number.", value=raw_population),
                )
            )
            continue
        if population < 0:
            problems.append(
                _where(
                    sheet,
                    number,
                    population_col,
                    header,
                    _("a population total cannot be negative (%(value)s).", value=raw_population),
                )
            )
            continue
        row_source = (values.get(source_col, "") if source_col else "") or source
        rows.append(MarginRow(variable, category, population, row_source[:300]))
    if not problems:
        problems.extend(_one_level(rows, variable_col))
    if not problems:
        problems.extend(_check_totals(rows, known, category_col, population_col))
    if not rows and not problems:
        problems.append(_("The file has no rows."))
    if problems:
        raise ImportProblems(problems)
    return rows


def _one_level(rows: list[MarginRow], variable_col: str) -> list[str]:
    """A file calibrates to one geographic level: communes or their regions, not both."""
    places = [v for v in geographic() if any(r.variable == v for r in rows)]
    if len(places) < 2:
        return []
    return [
        _(
            "Column %(col)s: the file has margins for %(names)s; calibrate to one level only "
            "(raking to a level and to groups of it adds nothing).",
            col=variable_col,
            names=", ".join(v.value for v in places),
        )
    ]


def _check_totals(
    rows: list[MarginRow],
    known: dict[MarginVariable, dict[str, str]],
    category_col: str,
    population_col: str,
) -> list[str]:
    """Each variable complete, positive, and adding up to the same population as the others."""
    problems: list[str] = []
    totals: dict[MarginVariable, float] = defaultdict(float)
    present: dict[MarginVariable, set[str]] = defaultdict(set)
    for row in rows:
        totals[row.variable] += row.population
        present[row.variable].add(row.category)
    for variable, cats in present.items():
        missing = [c for c in known[variable] if c not in cats]
        if missing:
            problems.append(
                _(
                    "Column %(col)s: %(variable)s has no row for the categories %(cats)s; "
                    "list every category (0 if nobody).",
                    col=category_col,
                    variable=variable.value,
                    cats=", ".join(missing),
                )
            )
        if totals[variable] <= 0:
            problems.append(
                _(
                    "Column %(col)s: the categories of %(variable)s add up to zero.",
                    col=population_col,
                    variable=variable.value,
                )
            )
    ordered = [v for v in MarginVariable if v in totals]
    if ordered:
        first = ordered[0]
        for variable in ordered[1:]:
            if abs(totals[variable] - totals[first]) > TOTAL_TOLERANCE * max(totals[first], 1.0):
                problems.append(
                    _(
                        "Column %(col)s: %(variable)s adds up to %(total)s but %(first)s to "
                        "%(first_total)s; every margin must add up to the same population.",
                        col=population_col,
                        variable=variable.value,
                        total=_fmt(totals[variable]),
                        first=first.value,
                        first_total=_fmt(totals[first]),
                    )
                )
    return problems


def _fmt(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".") if value.is_integer() else f"{value:,.2f}"


def stored(campaign: Campaign) -> list[PopulationMargin]:
    return list(
        db.session.scalars(
            select(PopulationMargin)
            .where(PopulationMargin.campaign_id == campaign.id)
            .order_by(PopulationMargin.id)
        )
    )


def _snapshot(margins: list[PopulationMargin]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in margins:
        out.setdefault(m.variable.value, {})[m.category] = m.population
    return out


def import_margins(
    campaign: Campaign, data: bytes, filename: str, source: str = ""
) -> list[PopulationMargin]:
    """Replace the campaign's margins with the file's; nothing changes on any error."""
    rows = parse_margins(campaign, data, filename, source)
    before = stored(campaign)
    snapshot = _snapshot(before)
    db.session.execute(delete(PopulationMargin).where(PopulationMargin.campaign_id == campaign.id))
    added = [
        PopulationMargin(
            campaign_id=campaign.id,
            variable=r.variable,
            category=r.category,
            population=r.population,
            source=r.source,
        )
        for r in rows
    ]
    db.session.add_all(added)
    db.session.flush()
    audit.record(
        "import",
        "population_margins",
        campaign.id,
        before=snapshot or None,
        after={"file": filename, **_snapshot(added)},
    )
    return added


def import_margins_file(
    campaign: Campaign, path: str | Path, source: str = ""
) -> list[PopulationMargin]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ServiceError(_("File %(name)s not found.", name=str(path))) from exc
    return import_margins(campaign, data, path.name, source)


def clear(campaign: Campaign) -> int:
    """Remove every margin of the campaign (its reports go back to uncalibrated weights)."""
    before = stored(campaign)
    if not before:
        return 0
    db.session.execute(delete(PopulationMargin).where(PopulationMargin.campaign_id == campaign.id))
    db.session.flush()
    audit.record("delete", "population_margins", campaign.id, before=_snapshot(before))
    return len(before)


def for_analysis(campaign: Campaign) -> list[tuple[MarginVariable, tuple[tuple[str, float], ...]]]:
    """Stored margins per variable (sex_age, area, then the level), categories as imported."""
    grouped: dict[MarginVariable, list[tuple[str, float]]] = defaultdict(list)
    for m in stored(campaign):
        grouped[m.variable].append((m.category, float(m.population)))
    return [(v, tuple(grouped[v])) for v in MarginVariable if v in grouped]


def overview(campaign: Campaign, lang: str = "vi") -> list[dict[str, Any]]:
    """Per variable: its rows (category, label, population, share), total and sources."""
    labels = categories(campaign, lang)
    names = variable_names()
    grouped: dict[MarginVariable, list[PopulationMargin]] = defaultdict(list)
    for m in stored(campaign):
        grouped[m.variable].append(m)
    out = []
    for variable in MarginVariable:
        rows = grouped.get(variable)
        if not rows:
            continue
        total = sum(m.population for m in rows)
        out.append(
            {
                "variable": variable.value,
                "name": names[variable],
                "total": total,
                "sources": sorted({m.source for m in rows if m.source}),
                "rows": [
                    {
                        "category": m.category,
                        "label": labels.get(variable, {}).get(m.category, ""),
                        "population": m.population,
                        "share": m.population / total if total else None,
                    }
                    for m in rows
                ],
            }
        )
    return out


def variable_names() -> dict[MarginVariable, str]:
    return {
        MarginVariable.SEX_AGE: _("sex × age group"),
        MarginVariable.AREA: _("urban/rural"),
        **{v: levels.name(v.value) for v in geographic()},
    }


def geographic_levels(campaign: Campaign) -> list[str]:
    """The levels the campaign can be calibrated at (commune, region, district …)."""
    return [v.value for v in categories(campaign) if v in geographic()]


def stored_level(campaign: Campaign) -> str | None:
    """The geographic level of the campaign's stored margins, if any."""
    return next((m.variable.value for m in stored(campaign) if m.variable in geographic()), None)


def template(campaign: Campaign, level: str | None = None) -> bytes:
    """An XLSX listing every category of every variable, with labels and empty totals; of
    the geographic variables only ``level`` (default: the stored margins' level, else the
    campaign's breakdown level), since a file calibrates to one."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    xlsx.append(ws, ["variable", "category", "label", "population", "source"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    current = {(m.variable, m.category): m for m in stored(campaign)}
    level = level or stored_level(campaign) or levels.default(campaign)
    for variable, cats in categories(campaign).items():
        if variable in geographic() and variable.value != level:
            continue
        for code, label in cats.items():
            old = current.get((variable, code))
            xlsx.append(
                ws,
                [
                    variable.value,
                    code,
                    label,
                    old.population if old else None,
                    old.source if old else None,
                ],
            )
    ws.freeze_panes = "A2"
    for letter, width in zip("ABCDE", (10, 12, 40, 14, 50), strict=True):
        ws.column_dimensions[letter].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
