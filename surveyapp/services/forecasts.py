"""The own survey beside the published SIPAS, and the forecast of the coming publication.

For each index node of a campaign's questionnaire: the own estimate of every year (this
application's campaigns, and own-survey figures from the registry for earlier years) beside
the published figure, the difference (published − own) tracked over the years, and the
forecast of the figure the Ministry will publish for the campaign's year, with the probability
of landing in the plan's rank band (``target_rank`` of the campaign's targets).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from surveyapp.analysis.forecast import (
    METHODS,
    BackTestRow,
    Forecast,
    RankBand,
    back_test,
    forecast_official,
    rank_band,
)
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.official import OfficialIndex, OfficialResult, ResultKind
from surveyapp.models.questionnaires import IndexLevel
from surveyapp.services import official, reports

_BAND = re.compile(r"\s*(\d+)\s*(?:[-–]\s*(\d+))?\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class YearPoint:
    """One year of one node: own estimate (with its CI), published figure, difference."""

    year: int
    own: float | None
    own_se: float | None
    own_low: float | None
    own_high: float | None
    own_source: str  # "campaign" or "registry"
    published: float | None
    rank: int | None
    rank_of: int | None

    @property
    def difference(self) -> float | None:
        if self.own is None or self.published is None:
            return None
        return self.published - self.own


@dataclass(frozen=True)
class NodeForecast:
    code: str
    name: str
    level: str
    own: float | None
    own_se: float | None
    target: float | None
    history: list[YearPoint]
    forecast: Forecast | None
    band: RankBand | None
    band_text: str | None
    band_note: str | None
    back_test: list[BackTestRow]


@dataclass(frozen=True)
class ForecastReport:
    campaign: dict[str, Any]
    year: int
    level: float
    province: tuple[str, str] | None
    nodes: list[NodeForecast]
    others_year: int | None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "year": self.year,
            "level": self.level,
            "province": None
            if self.province is None
            else {"code": self.province[0], "name": self.province[1]},
            "others_year": self.others_year,
            "methods": list(METHODS),
            "nodes": [_node_dict(n) for n in self.nodes],
        }


def _forecast_dict(fc: Forecast | None) -> dict[str, Any] | None:
    if fc is None:
        return None
    return {
        "estimate": fc.estimate,
        "se": fc.se,
        "pi_low": fc.pi_low,
        "pi_high": fc.pi_high,
        "level": fc.level,
        "df": None if math.isinf(fc.df) else fc.df,
        "method": fc.method,
        "n_history": fc.n_history,
        "sampling_se": fc.sampling_se,
        "relation_se": fc.relation_se,
        "intercept": fc.intercept,
        "slope": fc.slope,
    }


def _node_dict(node: NodeForecast) -> dict[str, Any]:
    return {
        "code": node.code,
        "name": node.name,
        "level": node.level,
        "own": node.own,
        "own_se": node.own_se,
        "target": node.target,
        "forecast": _forecast_dict(node.forecast),
        "rank_band": None
        if node.band is None
        else {
            "band": node.band_text,
            "low": node.band.low,
            "high": node.band.high,
            "of": node.band.of,
            "probability": node.band.probability,
            "expected_rank": node.band.expected_rank,
            "note": node.band_note,
        },
        "history": [
            {
                "year": p.year,
                "own": p.own,
                "own_se": p.own_se,
                "own_ci_low": p.own_low,
                "own_ci_high": p.own_high,
                "own_source": p.own_source,
                "published": p.published,
                "difference": p.difference,
                "rank": p.rank,
                "rank_of": p.rank_of,
            }
            for p in node.history
        ],
        "back_test": [
            {
                "year": r.year,
                "published": r.official,
                "forecast": r.forecast.estimate,
                "pi_low": r.forecast.pi_low,
                "pi_high": r.forecast.pi_high,
                "method": r.forecast.method,
                "covered": r.covered,
            }
            for r in node.back_test
        ],
    }


def _registry_node(code: str) -> str:
    return "total" if code == "overall" else code


def _percent(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return 100.0 * number if math.isfinite(number) else None


def _own_by_year(campaign: Campaign, lang: str) -> dict[int, dict[str, dict[str, Any]]]:
    """Whole-sample estimates (in %) of every campaign with this questionnaire up to this one,
    by year (the latest campaign of a year stands for it)."""
    out: dict[int, dict[str, dict[str, Any]]] = {}
    for peer in reports.earlier_campaigns(campaign):
        report = reports.build(peer, sample="probability", lang=lang)
        out[peer.starts.year] = {row["code"]: row for row in report.rows() if row.get("code")}
    return out


def _parse_band(text: str | None) -> tuple[int, int, int] | None:
    match = _BAND.fullmatch(text or "")
    if match is None:
        return None
    low = int(match.group(1))
    high = int(match.group(2) or low)
    of = int(match.group(3))
    if not 1 <= low <= high <= of:
        return None
    return low, high, of


def build(campaign: Campaign, *, level: float = 0.95, lang: str = "vi") -> ForecastReport:
    """The side-by-side table and the forecast for ``campaign``'s year (SIPAS)."""
    from flask_babel import gettext as _

    year = campaign.starts.year
    province = official.home_province()
    code = province[0] if province else None
    published = list(
        db.session.scalars(
            select(OfficialResult).where(OfficialResult.index_code == OfficialIndex.SIPAS)
        )
    )
    mine = [r for r in published if r.province_code == code]
    by_key = {(r.node, r.year, str(r.kind)): r for r in mine}
    others_years = sorted(
        {
            r.year
            for r in published
            if r.province_code != code and r.kind == ResultKind.PUBLISHED and r.score is not None
        }
    )
    others_year = others_years[-1] if others_years else None
    own_years = _own_by_year(campaign, lang)
    targets = {t.index_node.code: t for t in campaign.targets}
    nodes = sorted(
        campaign.questionnaire.index_nodes,
        key=lambda n: (n.level == IndexLevel.OVERALL, [int(p) for p in re.findall(r"\d+", n.code)]),
    )
    notes: list[str] = []
    if province is None:
        notes.append(_("No province unit: the registry cannot be matched to this installation."))
    out = []
    for node in nodes:
        registry = _registry_node(node.code)
        years = sorted(
            {y for y in own_years if node.code in own_years[y]}
            | {r.year for r in mine if r.node == registry}
        )
        history = []
        for y in years:
            row = own_years.get(y, {}).get(node.code)
            pub = by_key.get((registry, y, "published"))
            own_reg = by_key.get((registry, y, "own_survey"))
            own = _percent(row["estimate"]) if row else None
            if own is not None and row is not None:
                own_se, low, high, source = (
                    _percent(row["se"]),
                    _percent(row["ci_low"]),
                    _percent(row["ci_high"]),
                    "campaign",
                )
            elif own_reg is not None and own_reg.score is not None:
                own, own_se, source = own_reg.score, own_reg.se, "registry"
                low = high = None
            else:
                own_se = low = high = None
                source = ""
            history.append(
                YearPoint(
                    year=y,
                    own=own,
                    own_se=own_se,
                    own_low=low,
                    own_high=high,
                    own_source=source,
                    published=None if pub is None else pub.score,
                    rank=None if pub is None else pub.rank,
                    rank_of=None if pub is None else pub.rank_of,
                )
            )
        now = own_years.get(year, {}).get(node.code)
        own_now = _percent(now["estimate"]) if now else None
        se_now = _percent(now["se"]) if now else None
        past = [
            p for p in history if p.year < year and p.own is not None and p.published is not None
        ]
        forecast = None
        if own_now is not None and se_now is not None and math.isfinite(se_now):
            forecast = forecast_official(
                [p.own for p in past],  # type: ignore[misc]
                [p.own_se if p.own_se is not None else math.nan for p in past],
                [p.published for p in past],  # type: ignore[misc]
                own_now,
                se_now,
                level=level,
            )
        pairs = [p for p in history if p.own is not None and p.published is not None]
        tested = back_test(
            [p.year for p in pairs],
            [p.own for p in pairs],  # type: ignore[misc]
            [p.own_se if p.own_se is not None else 0.0 for p in pairs],
            [p.published for p in pairs],  # type: ignore[misc]
            level=level,
        )
        target = targets.get(node.code)
        band = band_note = band_text = None
        parsed = _parse_band(target.target_rank if target is not None else None)
        if forecast is not None and parsed is not None and others_year is not None:
            others = [
                r.score
                for r in published
                if r.year == others_year
                and r.node == registry
                and r.province_code != code
                and r.kind == ResultKind.PUBLISHED
                and r.score is not None
            ]
            if others:
                low, high, of = parsed
                n_now = len(others) + 1
                band_text = f"{low}–{high}/{of}"
                if n_now != of:
                    # A rank out of 63 says something else than one out of 34: the band keeps
                    # its place in the table, scaled, and the page says so.
                    low = max(1, round(low * n_now / of))
                    high = max(low, round(high * n_now / of))
                    band_note = _(
                        "The plan's band is out of %(of)d; the latest published table "
                        "(%(year)d) ranks %(now)d provinces, so the band is read as "
                        "%(low)d–%(high)d/%(now)d.",
                        of=of,
                        year=others_year,
                        now=n_now,
                        low=low,
                        high=high,
                    )
                band = rank_band(forecast, others, low, high)
        out.append(
            NodeForecast(
                code=node.code,
                name=node.name.get(lang) or node.name["vi"],
                level=node.level.value,
                own=own_now,
                own_se=se_now,
                target=None if target is None else float(target.target_pct),
                history=history,
                forecast=forecast,
                band=band,
                band_text=band_text,
                band_note=band_note,
                back_test=tested,
            )
        )
    return ForecastReport(
        campaign={"id": campaign.id, "name": campaign.name},
        year=year,
        level=level,
        province=province,
        nodes=out,
        others_year=others_year,
        notes=notes,
    )


def method_text(method: str) -> str:
    """What a forecast method is, in the reader's language."""
    from flask_babel import gettext as _

    return {
        "regression": _(
            "Regression of the published figure on the own estimate over past years, with a "
            "prediction interval that adds this year's sampling error."
        ),
        "mean_difference": _(
            "Own estimate plus the mean past difference (published − own); the interval "
            "adds the spread of past differences to this year's sampling error."
        ),
        "one_difference": _(
            "Own estimate plus the one past difference; with one year the spread of the "
            "difference is unknown, so the interval holds only sampling errors and is too "
            "narrow."
        ),
        "no_history": _(
            "No past year has both figures: the forecast is the own estimate, and the "
            "interval holds only its sampling error, not the unknown own-to-published "
            "difference."
        ),
    }[method]


def sheet_rows(
    report: ForecastReport,
) -> tuple[list[str], list[list[Any]], list[str], list[list[Any]]]:
    """(headers, rows) of the forecast table and of the side-by-side history, ready to write."""
    from flask_babel import gettext as _

    level = f"{round(report.level * 100)}%"
    head = [
        _("Code"),
        _("Index"),
        _("Own estimate %(year)d (%%)", year=report.year),
        _("Standard error"),
        _("Forecast of the published figure (%%)"),
        _("Prediction interval %(level)s, low", level=level),
        _("Prediction interval %(level)s, high", level=level),
        _("Method"),
        _("Years of history"),
        _("Target (%%)"),
        _("Rank band"),
        _("Probability of the band"),
    ]
    rows = []
    for n in report.nodes:
        fc = n.forecast
        rows.append(
            [
                n.code,
                n.name,
                n.own,
                n.own_se,
                None if fc is None else fc.estimate,
                None if fc is None else fc.pi_low,
                None if fc is None else fc.pi_high,
                "" if fc is None else method_text(fc.method),
                None if fc is None else fc.n_history,
                n.target,
                n.band_text or "",
                None if n.band is None else n.band.probability,
            ]
        )
    hist_head = [
        _("Code"),
        _("Year"),
        _("Own estimate (%%)"),
        _("Standard error"),
        _("Published (%%)"),
        _("Difference, published − own (points)"),
        _("Published rank"),
    ]
    hist = []
    for n in report.nodes:
        for p in n.history:
            hist.append(
                [
                    n.code,
                    p.year,
                    p.own,
                    p.own_se,
                    p.published,
                    p.difference,
                    f"{p.rank}/{p.rank_of}" if p.rank is not None else "",
                ]
            )
    return head, rows, hist_head, hist


def to_xlsx(report: ForecastReport) -> bytes:
    import io

    from flask_babel import gettext as _
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from surveyapp import xlsx

    head, rows, hist_head, hist = sheet_rows(report)
    book = Workbook()
    sheets = [
        (book.active, _("Forecast"), head, rows),
        (book.create_sheet(), _("Own vs published"), hist_head, hist),
    ]
    for sheet, title, header, body in sheets:
        sheet.title = title[:31]
        xlsx.append(sheet, [report.campaign["name"]])
        xlsx.append(sheet, header)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for values in body:
            xlsx.append(sheet, values)
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, float):
                    cell.number_format = "0.00"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
