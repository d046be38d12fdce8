"""Periodic reports to the provincial People's Committee: quarterly, 6-month and annual.

The Đồng Nai plan (seed 001, §IV.18) has the Department of Home Affairs report to the
provincial People's Committee "cùng kỳ với báo cáo quý, 6 tháng, hằng năm về thực hiện nhiệm
vụ cải cách hành chính" (Quý I, 6 tháng, Quý III and the year). Each report here gives, in
the administrative report's numbered sections:

I.   the period's estimates of every index node against the campaign's targets, with the
     verdicts exactly as the campaign report computes them (:func:`reports.build`);
II.  the change from the previous period of the same kind, with its confidence interval;
III. the published SIPAS, PAR INDEX, PAPI and PCI results of the province from the registry
     (:mod:`surveyapp.services.official`) for the latest two years up to the report's year.

What a period is. Responses carry their submission moment (``submitted_at``) and a
campaign runs between two dates; a campaign's own waves (``CampaignPeriod``) are named by
the campaign and need not be calendar quarters. So a reporting period is a calendar range
(``2026-Q1``, ``2026-H1``, ``2026``), read in the installation's time zone (Asia/Ho_Chi_Minh),
and its estimate comes from one campaign:

- a campaign that lies wholly inside the period is reported whole (its own report, every
  response, whenever keyed);
- a campaign the period cuts is reported for the responses submitted within the period: a
  domain of the campaign's full design (calibration and variances stay the campaign's, as
  every dashboard filter), via :class:`surveyapp.data.queries.Filters`;
- the previous period (2026-Q1 → 2025-Q4, 2026-H1 → 2025-H2, 2026 → 2025) is read the same
  way from the campaigns with the same questionnaire that have probability-sample responses
  in it.

Several campaigns in one period (two half-year campaigns in an annual report): they are
independent samples of the same population, and the period's estimate combines them, each
weighted by the share of the period's days it covers (:class:`Reading`, stated on the
report). Weighting by the share of the period rather than by inverse variance keeps the
estimate what the period's population answered: an inverse-variance mean leans towards the
half with the bigger sample, which is only right when satisfaction did not move in the year.

The change. Two periods from different campaigns are independent samples: the change's
variance is the sum of the two variances (:func:`independent_difference`). A campaign read in
both periods (2026-Q1 and 2025-Q4 cut from a campaign running October to March) gives two
domains of its one design, sharing strata, PSUs and calibration: their covariance comes from
the joint linearization of that design with the period as the domain column
(:func:`period_differences`, :func:`surveyapp.analysis.compare.domain_differences` on the cell
table with :func:`surveyapp.data.queries.period_domain` as a key), and
``Var(θ − θ') = Var θ + Var θ' − 2 Σ a_k b_k Cov_k`` over the campaigns read in both (a single
campaign: ``a = b = 1``, the exact design-based difference).
"""

from __future__ import annotations

import dataclasses
import io
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from surveyapp import formatting, localtime
from surveyapp.analysis import AnalysisError
from surveyapp.analysis import targets as analysis_targets
from surveyapp.analysis.ci import quantile
from surveyapp.analysis.compare import domain_differences
from surveyapp.analysis.differences import PairDifference, independent_difference
from surveyapp.analysis.dist import t_cdf
from surveyapp.data import queries
from surveyapp.data.queries import Filters
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.official import OfficialResult, ResultKind
from surveyapp.models.questionnaires import QuestionType
from surveyapp.models.responses import Response
from surveyapp.services import ServiceError, official, reports
from surveyapp.services.reports.cells import probability_cells
from surveyapp.services.reports.common import spec_for

KINDS = ("quarter", "half", "year")
_PATTERN = re.compile(r"(\d{4})(?:-(Q[1-4]|H[12]))?")
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
#: Published years shown per index in section III.
OFFICIAL_YEARS = 2
#: Only the probability sample is judged against the targets (DESIGN §4).
PROBABILITY = queries.SAMPLES["probability"]


def language() -> str:
    """The language being rendered (the request's, or the one a command forces): numbers and
    dates follow it, not only the words."""
    return str(get_locale() or current_app.config.get("BABEL_DEFAULT_LOCALE") or "vi")


def local_zone() -> ZoneInfo:
    """The installation's time zone, in which a period's days are read."""
    return localtime.zone()


@dataclass(frozen=True, order=True)
class Period:
    """A calendar reporting period: a quarter (``number`` 1–4), a half (1–2) or a year (0)."""

    year: int
    kind: str
    number: int = 0

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026-Q1`` … ``2026-Q4``, ``2026-H1``, ``2026-H2`` or ``2026``."""
        match = _PATTERN.fullmatch(text.strip().upper())
        if match is None or not 2000 <= int(match.group(1)) <= 2100:
            raise ServiceError(
                _(
                    "Period %(value)s: write 2026-Q1 to 2026-Q4 for a quarter, 2026-H1 or "
                    "2026-H2 for six months, or 2026 for a year (years 2000 to 2100).",
                    value=text,
                )
            )
        year, part = int(match.group(1)), match.group(2)
        if part is None:
            return cls(year, "year")
        return cls(year, "quarter" if part[0] == "Q" else "half", int(part[1]))

    @property
    def code(self) -> str:
        if self.kind == "year":
            return str(self.year)
        return f"{self.year}-{'Q' if self.kind == 'quarter' else 'H'}{self.number}"

    @property
    def months(self) -> int:
        return {"quarter": 3, "half": 6, "year": 12}[self.kind]

    @property
    def starts(self) -> date:
        first = 1 + (self.number - 1) * self.months if self.number else 1
        return date(self.year, first, 1)

    @property
    def ends(self) -> date:
        """The last day of the period (inclusive)."""
        last = self.starts.month + self.months  # the month after, 13 in December
        following = date(self.year + 1, 1, 1) if last > 12 else date(self.year, last, 1)
        return date.fromordinal(following.toordinal() - 1)

    @classmethod
    def containing(cls, day: date, kind: str) -> Period:
        """The period of ``kind`` that ``day`` falls in."""
        if kind == "year":
            return cls(day.year, "year")
        months = 3 if kind == "quarter" else 6
        return cls(day.year, kind, (day.month - 1) // months + 1)

    def previous(self) -> Period:
        """The period of the same kind just before: Q1 → Q4 of the year before."""
        if self.kind == "year" or self.number == 1:
            last = {"quarter": 4, "half": 2, "year": 0}[self.kind]
            return Period(self.year - 1, self.kind, last)
        return Period(self.year, self.kind, self.number - 1)

    def bounds(self) -> tuple[datetime, datetime]:
        """[first moment, first moment after) in UTC, the days read in the installation's
        time zone."""
        return localtime.days(self.starts, self.ends)

    def title(self) -> str:
        """As the report's title reads it: "quý I năm 2026", "6 tháng đầu năm 2026"."""
        if self.kind == "quarter":
            return _("quarter %(roman)s of %(year)d", roman=_ROMAN[self.number], year=self.year)
        if self.kind == "half":
            if self.number == 1:
                return _("the first six months of %(year)d", year=self.year)
            return _("the last six months of %(year)d", year=self.year)
        return _("the year %(year)d", year=self.year)

    def kind_title(self) -> str:
        return {
            "quarter": _("Quarterly report"),
            "half": _("Six-month report"),
            "year": _("Annual report"),
        }[self.kind]


def period_choices(campaign: Campaign) -> dict[str, list[Period]]:
    """Per kind, the periods ``campaign`` overlaps (what the dashboard offers), oldest first."""
    out: dict[str, list[Period]] = {kind: [] for kind in KINDS}
    for year in range(campaign.starts.year, campaign.ends.year + 1):
        candidates = [Period(year, "quarter", q) for q in range(1, 5)]
        candidates += [Period(year, "half", h) for h in (1, 2)] + [Period(year, "year")]
        for p in candidates:
            if _overlaps(campaign, p):
                out[p.kind].append(p)
    return out


def _overlaps(campaign: Campaign, period: Period) -> bool:
    return campaign.starts <= period.ends and period.starts <= campaign.ends


@dataclass(frozen=True)
class Source:
    """Where a period's estimates come from: a campaign, whole or cut to the period."""

    campaign: Campaign
    period: Period
    filters: Filters | None  # None: the whole campaign

    def describe(self) -> str:
        name = self.campaign.name
        if self.filters is None:
            return _(
                "campaign %(name)s (%(start)s – %(end)s), all its responses",
                name=name,
                start=formatting.date(self.campaign.starts, lang=language()),
                end=formatting.date(self.campaign.ends, lang=language()),
            )
        return _(
            "campaign %(name)s, responses submitted from %(start)s to %(end)s",
            name=name,
            start=formatting.date(max(self.period.starts, self.campaign.starts), lang=language()),
            end=formatting.date(min(self.period.ends, self.campaign.ends), lang=language()),
        )


def source(campaign: Campaign, period: Period) -> Source | None:
    """How ``period`` is read from ``campaign`` (None: the campaign does not run in it)."""
    if not _overlaps(campaign, period):
        return None
    if period.starts <= campaign.starts and campaign.ends <= period.ends:
        return Source(campaign, period, None)
    start, before = period.bounds()
    return Source(campaign, period, Filters(submitted_from=start, submitted_before=before))


@dataclass(frozen=True)
class Row:
    """One index node: this period's estimate against its target, and the change."""

    code: str
    level: str
    name: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    se: float | None
    n: int
    target: float | None
    verdict: str | None
    verdict_reason: str | None
    previous: float | None = None
    previous_ci: tuple[float | None, float | None] = (None, None)
    change: PairDifference | None = None

    @property
    def direction(self) -> str | None:
        """ "up"/"down" when the change's interval excludes 0, "same" otherwise."""
        if self.change is None or self.change.estimate is None:
            return None
        if not self.change.differ:
            return "same"
        return "up" if self.change.estimate > 0 else "down"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "level": self.level,
            "name": self.name,
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "se": self.se,
            "n": self.n,
            "target": self.target,
            "verdict": self.verdict,
            "verdict_reason": self.verdict_reason,
            "previous": self.previous,
            "change": None if self.change is None else self.change.to_dict(),
            "direction": self.direction,
        }


@dataclass(frozen=True)
class VerdictCounts:
    total: int
    met: int
    not_met: int
    open: int


@dataclass(frozen=True)
class PeriodicReport:
    campaign: dict[str, Any]
    period: Period
    source: str
    n: int
    rows: list[Row]
    level: float
    previous: Period
    previous_source: str | None = None
    previous_n: int = 0
    notes: list[str] = field(default_factory=list)
    #: How the period's estimate combines several campaigns (section I), None for one.
    combined_note: str | None = None
    #: The change carries the covariance of a campaign read in both periods.
    shared: bool = False
    official: list[OfficialResult] = field(default_factory=list)
    province: str | None = None
    made: date = field(default_factory=localtime.today)

    @property
    def empty(self) -> bool:
        """No probability-sample response in the period."""
        return self.n == 0

    @property
    def compared(self) -> bool:
        return self.previous_source is not None

    @property
    def official_years(self) -> int:
        return OFFICIAL_YEARS

    @property
    def verdict_counts(self) -> VerdictCounts:
        """How many index nodes with a target met it, did not, or cannot tell yet."""
        judged = [r.verdict for r in self.rows if r.target is not None]
        return VerdictCounts(
            total=len(judged),
            met=judged.count(reports.MET),
            not_met=judged.count(reports.NOT_MET),
            open=len(judged) - judged.count(reports.MET) - judged.count(reports.NOT_MET),
        )

    @property
    def province_in_sentence(self) -> str:
        """ "Tỉnh Đồng Nai" as a sentence writes it: "tỉnh Đồng Nai"."""
        name = self.province or ""
        return name[:1].lower() + name[1:]

    @property
    def dateline(self) -> str:
        """ "Đồng Nai, ngày 03 tháng 12 năm 2026": the place (the province without its
        "Tỉnh"/"Thành phố") and the day the report was made."""
        place = re.sub(r"^(Tỉnh|Thành phố)\s+", "", self.province or "")
        return _(
            "%(place)s, on %(day)s/%(month)s/%(year)s",
            place=place,
            day=f"{self.made.day:02d}",
            month=f"{self.made.month:02d}",
            year=self.made.year,
        ).lstrip(", ")

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "period": self.period.code,
            "previous_period": self.previous.code,
            "source": self.source,
            "previous_source": self.previous_source,
            "n": self.n,
            "previous_n": self.previous_n,
            "level": self.level,
            "rows": [r.to_dict() for r in self.rows],
            "notes": self.notes,
            "combined_note": self.combined_note,
            "exact_change": self.shared,
        }


def _index_rows(report: reports.Report) -> list[dict[str, Any]]:
    return [r for r in report.rows() if r["level"] != "item"]


def _count(there: Source) -> int:
    """Final probability-sample responses in the period (as the estimates read them)."""
    stmt = (
        select(func.count())
        .select_from(Response)
        .where(*queries.final(there.campaign, PROBABILITY))
    )
    if there.filters is not None:
        stmt = stmt.where(there.filters.condition())
    return int(db.session.scalar(stmt) or 0)


def _days(there: Source) -> int:
    """The days of the period the source's campaign runs in."""
    first = max(there.period.starts, there.campaign.starts)
    last = min(there.period.ends, there.campaign.ends)
    return max(last.toordinal() - first.toordinal() + 1, 0)


@dataclass(frozen=True)
class Reading:
    """A period's estimates: one campaign's, or several campaigns' combined.

    Campaigns with the same questionnaire that each have probability-sample responses in the
    period are independent samples of the same population in it (two half-year campaigns
    in one year). The period's estimate is then their weighted mean, each weighted by the
    share of the period's days it covers (:data:`COMBINATION_RULE`):
    ``θ = Σ a_k θ_k`` with ``a_k = days_k / Σ days``, ``Var θ = Σ a_k² Var θ_k`` (independent
    samples), a t interval on the smallest of the designs' df (as between two campaigns),
    and the verdict against the target by the same rule as every report
    (:func:`surveyapp.analysis.targets.verdict`).
    """

    sources: tuple[Source, ...]
    weights: tuple[float, ...]
    rows: tuple[dict[str, Any], ...]
    counts: tuple[int, ...]

    @property
    def n(self) -> int:
        return sum(self.counts)

    @property
    def combined(self) -> bool:
        return len(self.sources) > 1

    def by_code(self) -> dict[str, dict[str, Any]]:
        return {r["code"]: r for r in self.rows}

    def describe(self) -> str:
        if not self.combined:
            return self.sources[0].describe()
        parts = [
            _(
                "%(source)s (weight %(weight)s)",
                source=there.describe(),
                weight=formatting.percent(100 * weight, 1, lang=language()),
            )
            for there, weight in zip(self.sources, self.weights, strict=True)
        ]
        return "; ".join(parts)


#: How a period read from several campaigns is combined (said on the report).
COMBINATION_RULE = "period_days"


def _campaigns_with(campaign: Campaign) -> list[Campaign]:
    """Every campaign with ``campaign``'s questionnaire, oldest first."""
    return list(
        db.session.scalars(
            select(Campaign)
            .where(Campaign.questionnaire_id == campaign.questionnaire_id)
            .order_by(Campaign.starts, Campaign.id)
        )
    )


def _read(
    campaign: Campaign, period: Period, lang: str, level: float, *, own: Source | None
) -> Reading | None:
    """``period`` read from every campaign with ``campaign``'s questionnaire that has
    probability-sample responses in it (``own``, the report's own source, first)."""
    found: list[tuple[Source, int]] = []
    if own is not None and (n := _count(own)):
        found.append((own, n))
    for peer in _campaigns_with(campaign):
        if own is not None and peer.id == own.campaign.id:
            continue
        there = source(peer, period)
        if there is not None and (n := _count(there)):
            found.append((there, n))
    if not found:
        return None
    if own is None:  # the previous period: the latest campaign first, as before
        found.sort(key=lambda item: (item[0].campaign.starts, item[0].campaign.id), reverse=True)
    tables = [
        _index_rows(reports.build(there.campaign, filters=there.filters, lang=lang))
        for there, _n in found
    ]
    days = [_days(there) for there, _n in found]
    weights = tuple(d / sum(days) for d in days) if sum(days) else (1.0,) * len(days)
    rows = tables[0] if len(found) == 1 else _combine(tables, weights, level)
    return Reading(
        sources=tuple(there for there, _n in found),
        weights=weights,
        rows=tuple(rows),
        counts=tuple(n for _there, n in found),
    )


def _finite(*values: Any) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


def _combine(
    tables: list[list[dict[str, Any]]], weights: tuple[float, ...], level: float
) -> list[dict[str, Any]]:
    """The rows of independent campaigns combined by ``weights`` (see :class:`Reading`); the
    first table gives the nodes, their names and targets."""
    others = [{r["code"]: r for r in table} for table in tables[1:]]
    out = []
    for first in tables[0]:
        parts = [first] + [other.get(first["code"]) or {} for other in others]
        row = dict(first)
        row["n"] = sum(int(p.get("n") or 0) for p in parts)
        ok = all(_finite(p.get("estimate"), p.get("se"), p.get("df")) for p in parts)
        dfs = [float(p["df"]) for p in parts] if ok else []
        if not ok or min(dfs) <= 0:
            row.update(estimate=None, se=None, ci_low=None, ci_high=None, df=None)
        else:
            est = sum(a * float(p["estimate"]) for a, p in zip(weights, parts, strict=True))
            var = sum(a * a * float(p["se"]) ** 2 for a, p in zip(weights, parts, strict=True))
            se, df = math.sqrt(var), min(dfs)
            q = quantile(level, df)
            row.update(estimate=est, se=se, ci_low=est - q * se, ci_high=est + q * se, df=df)
        if row["target"] is not None and row["estimate"] is not None:
            row["verdict"], row["verdict_reason"] = analysis_targets.verdict(
                row["ci_low"], row["ci_high"], row["target"], row["se"], row["n"], row["estimate"]
            )
        elif row["target"] is not None:
            row["verdict"], row["verdict_reason"] = None, "no_estimate"
        out.append(row)
    return out


def _shared_covariances(
    current: Reading, previous: Reading, level: float
) -> dict[int, dict[str, float]]:
    """Per campaign read in both periods: the covariance, per index node, of its two period
    estimates, from the joint linearization of the campaign's one design with the periods
    as domains (:func:`period_differences`)."""
    out: dict[int, dict[str, float]] = {}
    before = {there.campaign.id: there for there in previous.sources}
    for here in current.sources:
        there = before.get(here.campaign.id)
        if there is None:
            continue
        joint = period_differences(here.campaign, here.period, there.period, level)
        out[here.campaign.id] = {
            code: (d.se_a**2 + d.se_b**2 - (d.pair.se or 0.0) ** 2) / 2
            for code, d in joint.items()
            if d.pair.se is not None
        }
    return out


def _change(
    code: str,
    period: Period,
    before: Period,
    current: Reading,
    previous: Reading,
    shared: dict[int, dict[str, float]],
    level: float,
) -> PairDifference | None:
    """This period minus the previous one for node ``code``: ``Var = Var θ + Var θ' −
    2 Σ a_k b_k Cov_k`` over the campaigns read in both periods (0 between campaigns)."""
    a, b = current.by_code().get(code), previous.by_code().get(code)
    if a is None or b is None:
        return None
    if not shared:
        return independent_difference(
            period.code, before.code, a["estimate"], a["se"], a.get("df"),
            b["estimate"], b["se"], b.get("df"), level,
        )  # fmt: skip
    if not _finite(a["estimate"], a["se"], a.get("df"), b["estimate"], b["se"], b.get("df")):
        return PairDifference(period.code, before.code, None, None, None, None, None)
    weight_b = {t.campaign.id: w for t, w in zip(previous.sources, previous.weights, strict=True)}
    cov = 0.0
    for there, weight_a in zip(current.sources, current.weights, strict=True):
        if there.campaign.id in shared:
            cov += weight_a * weight_b[there.campaign.id] * shared[there.campaign.id].get(code, 0)
    var = max(a["se"] ** 2 + b["se"] ** 2 - 2 * cov, 0.0)
    df = min(float(a["df"]), float(b["df"]))
    if df <= 0:
        return PairDifference(period.code, before.code, None, None, None, None, None)
    d, se = float(a["estimate"] - b["estimate"]), math.sqrt(var)
    q = quantile(level, df)
    p = 2.0 * (1.0 - t_cdf(abs(d) / se, df)) if se > 0 else None
    return PairDifference(period.code, before.code, d, se, d - q * se, d + q * se, p)


def build(
    campaign: Campaign, period: Period | str, *, lang: str = "vi", level: float = 0.95
) -> PeriodicReport:
    """The periodic report of ``campaign`` for ``period`` (see the module docstring).

    Raises :class:`ServiceError` for a period the campaign does not run in. A period without
    responses is a report that says so (``empty``), not an error."""
    if isinstance(period, str):
        period = Period.parse(period)
    here = source(campaign, period)
    if here is None:
        raise ServiceError(
            _(
                "Campaign %(name)s runs from %(start)s to %(end)s: it has no part in "
                "%(period)s. Choose a period within the campaign.",
                name=campaign.name,
                start=formatting.date(campaign.starts, lang=language()),
                end=formatting.date(campaign.ends, lang=language()),
                period=period.title(),
            )
        )
    current = _read(campaign, period, lang, level, own=here) if _count(here) else None
    before = period.previous()
    found = _read(campaign, before, lang, level, own=None) if current else None
    shared = _shared_covariances(current, found, level) if current and found else {}
    rows = []
    for r in current.rows if current else ():
        old = found.by_code().get(r["code"]) if found else None
        rows.append(
            Row(
                code=r["code"],
                level=r["level"],
                name=r["name"],
                estimate=r["estimate"],
                ci_low=r["ci_low"],
                ci_high=r["ci_high"],
                se=r["se"],
                n=int(r["n"] or 0),
                target=r["target"],
                verdict=r["verdict"],
                verdict_reason=r["verdict_reason"],
                previous=None if old is None else old["estimate"],
                previous_ci=(None, None) if old is None else (old["ci_low"], old["ci_high"]),
                change=(
                    None
                    if old is None or current is None or found is None
                    else _change(r["code"], period, before, current, found, shared, level)
                ),
            )
        )
    home = official.home_province()
    return PeriodicReport(
        campaign={
            "id": campaign.id,
            "name": campaign.name,
            "starts": campaign.starts.isoformat(),
            "ends": campaign.ends.isoformat(),
        },
        period=period,
        source=current.describe() if current else here.describe(),
        n=current.n if current else 0,
        rows=rows,
        level=level,
        previous=before,
        previous_source=None if found is None else found.describe(),
        previous_n=0 if found is None else found.n,
        notes=_notes(shared),
        combined_note=_combined_note(current, found),
        shared=bool(shared),
        official=published(period.year, home[0] if home else None),
        province=home[1] if home else None,
    )


def _combined_note(current: Reading | None, previous: Reading | None) -> str | None:
    """The rule by which a period read from several campaigns is combined."""
    if not any(r is not None and r.combined for r in (current, previous)):
        return None
    return _(
        "A period in which several campaigns with the same questionnaire collected "
        "responses is estimated from all of them: they are independent samples of the "
        "same population, so the period's estimate is their weighted mean, each "
        "campaign weighted by the share of the period's days it covers, with variance "
        "the sum of the squared weights times the campaigns' variances, and its "
        "interval on the smallest of their degrees of freedom."
    )


def _notes(shared: dict[int, Any]) -> list[str]:
    """What the reader needs to know about how the change was made."""
    if not shared:
        return []
    return [
        _(
            "The two periods share a campaign: their estimates are domains of its one "
            "design (strata, PSUs and calibration), and the change's interval includes "
            "the covariance of the two periods' estimates."
        )
    ]


@dataclass(frozen=True)
class PeriodDifference:
    """One node's two period estimates of one campaign and their difference."""

    se_a: float
    se_b: float
    pair: PairDifference


def period_differences(
    campaign: Campaign, period: Period, before: Period, level: float = 0.95
) -> dict[str, PeriodDifference]:
    """Per index node, ``period`` minus ``before`` as two domains of ``campaign``'s one design
    (probability sample, calibrated as every report): the exact design-based difference with
    its covariance (:func:`surveyapp.analysis.compare.domain_differences`)."""
    return _period_differences(campaign, period, before, level)


def _period_differences(
    campaign: Campaign, period: Period, before: Period, level: float
) -> dict[str, PeriodDifference]:
    sample = PROBABILITY
    likert = [q for q in campaign.questionnaire.questions if q.type == QuestionType.LIKERT5]
    keys = {
        "stratum": Response.stratum,
        "psu": Response.psu,
        "ssu": Response.ssu,
        queries.PERIOD: queries.period_domain(
            {period.code: period.bounds(), before.code: before.bounds()}
        ),
    }
    cells, weighting = probability_cells(campaign, sample, likert, keys)
    stage1, stage2 = queries.population_sizes(campaign, sample)
    spec = dataclasses.replace(
        spec_for(campaign, None, "logit", None, sample),
        by=queries.PERIOD,
        margins=weighting.margins,
        level=level,
    )
    names = {name for name, _parts in spec.indices}
    out: dict[str, PeriodDifference] = {}
    for name in sorted(names):
        try:
            joint = domain_differences(
                cells,
                spec,
                name,
                strata="stratum",
                psu="psu",
                ssu="ssu",
                stratum_popsize=stage1 or None,
                psu_popsize=(stage2 or None) if stage1 else None,
                lonely_psu="adjust",
                exclude=(queries.OUTSIDE,),
            )
        except AnalysisError:
            continue
        if set(joint.labels) != {period.code, before.code}:
            continue
        pair = joint.pairs[0]
        here = joint.labels.index(period.code)
        out[name] = PeriodDifference(
            se_a=joint.se[here],
            se_b=joint.se[1 - here],
            pair=pair if pair.a == period.code else pair.reversed(),
        )
    return out


def published(year: int, province_code: str | None) -> list[OfficialResult]:
    """The province's published results (total and fields, not criteria) of the latest
    :data:`OFFICIAL_YEARS` years up to ``year``, per index."""
    if province_code is None:
        return []
    rows = [
        r
        for r in official.listing(province_code=province_code)
        if r.kind == ResultKind.PUBLISHED and r.year <= year and "." not in r.node
    ]
    keep: list[OfficialResult] = []
    for index in sorted({r.index_code for r in rows}, key=str):
        years = sorted({r.year for r in rows if r.index_code == index}, reverse=True)
        wanted = set(years[:OFFICIAL_YEARS])
        keep += [r for r in rows if r.index_code == index and r.year in wanted]
    return keep


def verdict_text(verdict: str | None) -> str:
    label = reports.VERDICT_LABELS.get(verdict or "")
    return "" if label is None else str(label)


def reason_text(reason: str | None) -> str:
    label = reports.VERDICT_REASON_LABELS.get(reason or "")
    return "" if label is None else str(label)


def direction_text(direction: str | None) -> str:
    return {
        "up": _("increase"),
        "down": _("decrease"),
        "same": _("no clear change"),
    }.get(direction or "", "")


def rank_text(result: OfficialResult) -> str:
    return "" if result.rank is None else f"{result.rank}/{result.rank_of}"


def no_previous_text() -> str:
    return _("No previous period to compare with.")


def estimate_sheet(report: PeriodicReport) -> tuple[list[str], list[list[Any]]]:
    """(headers, rows) of sections I and II: shares as fractions, changes in points."""
    pct = f"{round(report.level * 100)}%"
    headers = [
        _("No."),
        _("Field / criterion"),
        _("Responses (n)"),
        _("Estimate"),
        _("CI %(level)s, low", level=pct),
        _("CI %(level)s, high", level=pct),
        _("Target"),
        _("Verdict"),
        _("Why not decided"),
        _("Previous period (%(period)s)", period=report.previous.code),
        _("Change (points)"),
        _("Change CI %(level)s, low (points)", level=pct),
        _("Change CI %(level)s, high (points)", level=pct),
        _("Direction"),
    ]
    rows: list[list[Any]] = []
    for r in report.rows:
        ch = r.change

        def pts(x: float | None) -> float | None:
            return None if x is None else 100 * x

        rows.append(
            [
                "" if r.level == "overall" else r.code,
                r.name,
                r.n,
                r.estimate,
                r.ci_low,
                r.ci_high,
                r.target,
                verdict_text(r.verdict),
                "" if r.verdict_reason == "ci_contains_target" else reason_text(r.verdict_reason),
                r.previous,
                None if ch is None else pts(ch.estimate),
                None if ch is None else pts(ch.ci_low),
                None if ch is None else pts(ch.ci_high),
                direction_text(r.direction),
            ]
        )
    return headers, rows


def official_sheet(report: PeriodicReport) -> tuple[list[str], list[list[Any]]]:
    """(headers, rows) of section III, the registry's published figures."""
    headers = [
        _("Index"),
        _("Year"),
        _("Node"),
        _("Name"),
        _("Score"),
        _("Maximum"),
        _("Percent of maximum"),
        _("Rank"),
        _("Source"),
    ]
    rows = [
        [
            official.index_label(r.index_code),
            r.year,
            _("Overall") if r.node == "total" else r.node,
            r.node_name,
            r.score,
            r.max_score,
            r.percent,
            rank_text(r),
            r.source,
        ]
        for r in report.official
    ]
    return headers, rows


PERCENT_COLUMNS = (3, 4, 5, 6, 9)


def _heading(report: PeriodicReport) -> list[str]:
    """The lines above the estimates' table: title, sources and notes."""
    lines = [title(report), _("Source: %(source)s", source=report.source)]
    if report.empty:
        lines.append(empty_text(report))
    elif not report.compared:
        lines.append(no_previous_text())
    else:
        lines.append(_("Previous period: %(source)s", source=report.previous_source or ""))
    return lines + [note for note in [report.combined_note, *report.notes] if note]


def to_xlsx(report: PeriodicReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from surveyapp import xlsx

    book = Workbook()
    sheet = book.active
    sheet.title = _("Estimates")[:31]
    for line in _heading(report):
        xlsx.append(sheet, [line])
    headers, rows = estimate_sheet(report)
    xlsx.append(sheet, headers)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for values in rows:
        xlsx.append(sheet, values)
        for i, cell in enumerate(sheet[sheet.max_row]):
            if i in PERCENT_COLUMNS and isinstance(cell.value, float):
                cell.number_format = "0.00%"
            elif isinstance(cell.value, float):
                cell.number_format = "0.00"
    second = book.create_sheet(_("Published results")[:31])
    xlsx.append(
        second, [_("Published results of %(province)s", province=report.province_in_sentence)]
    )
    headers, rows = official_sheet(report)
    xlsx.append(second, headers)
    for cell in second[second.max_row]:
        cell.font = Font(bold=True)
    for values in rows:
        xlsx.append(second, values)
        for cell in second[second.max_row]:
            if isinstance(cell.value, float):
                cell.number_format = "0.00"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def title(report: PeriodicReport) -> str:
    return _(
        "Results of the survey of citizens' satisfaction with the public administrative "
        "services, %(period)s",
        period=report.period.title(),
    )


def empty_text(report: PeriodicReport) -> str:
    return _(
        "The probability sample has no response in %(period)s: there is no estimate for "
        "this period yet.",
        period=report.period.title(),
    )


def mixed_ranks(report: PeriodicReport) -> bool:
    """Ranks out of different numbers of provinces (63 before 2025, 34 after)."""
    return len({r.rank_of for r in report.official if r.rank_of is not None}) > 1


def to_html(report: PeriodicReport, *, standalone: bool = True) -> str:
    """The printable report (``standalone``: with its stylesheet, for a file)."""
    stylesheet = (
        (Path(__file__).resolve().parent.parent / "static/css/report.css").read_text()
        if standalone
        else ""
    )
    return render_template(
        "reports/periodic.html" if standalone else "reports/_periodic.html",
        stylesheet=stylesheet,
        report=report,
        lang=language(),
        title=title(report),
        empty_text=empty_text(report),
        no_previous=no_previous_text(),
        verdict_text=verdict_text,
        reason_text=reason_text,
        direction_text=direction_text,
        rank_text=rank_text,
        index_label=official.index_label,
        mixed_ranks=mixed_ranks(report),
    )
