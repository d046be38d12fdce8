"""Small-area estimates per unit: direct estimates from the report, a Fay–Herriot model on top.

The unit level is data (:mod:`.levels`): by default the campaign's breakdown level (the
communes of the two-tier structure, the districts of a historical campaign), or any unit
level its units have (``level="commune"`` on a historical campaign), never named here.

For each unit of that level:

* the **direct estimate** is the report's design-based estimate of the index (by default the
  overall index) for the unit's domain, with its design SE (full design, calibrated);
* unstable design variances (fewer than :data:`MIN_N` respondents, or an SE of 0) are replaced
  by a generalised variance function fitted across units,
  :math:`\\tilde\\psi_i = \\hat d\\,\\bar p(1-\\bar p)/n_i` (see
  :func:`surveyapp.analysis.sae.smooth_variances`). For an index that averages many items,
  :math:`\\hat d` is well below 1: it carries the design effect *and* the variance reduction
  of averaging the items, so it is a scale factor fitted across units, not a design effect;
* the **covariates** are the unit's desk-rating share (the convenience sample's estimate of
  the same index; a unit without desk ratings gets the province's, said in the notes) and the
  administrative covariates the province imported (:func:`import_covariates`);
* the model is fitted by :func:`surveyapp.analysis.sae.fay_herriot`; a unit without
  respondents gets the synthetic estimate;
* optionally the estimates are benchmarked to the province's direct estimate with the units'
  population shares from the imported calibration margins.

Everything the page shows is labelled model-based.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from sqlalchemy import delete, select

from surveyapp import xlsx
from surveyapp.analysis import AnalysisError
from surveyapp.analysis.dist import norm_ppf
from surveyapp.analysis.sae import BENCHMARKS as BENCHMARKS
from surveyapp.analysis.sae import METHODS as METHODS
from surveyapp.analysis.sae import (
    AreaEstimate,
    SAEResult,
    benchmark,
    fay_herriot,
    normal_qq,
    smooth_variances,
)
from surveyapp.data import queries
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.sae import AreaCovariate
from surveyapp.models.units import Unit
from surveyapp.services import ServiceError, audit, levels, margins, reports
from surveyapp.services.frame import ImportProblems, _pick
from surveyapp.services.imports import _where
from surveyapp.services.tables import read_table

# Design variances from fewer respondents than this are replaced by the GVF (DESIGN.md §5
# flags domains with n < 30 as small).
MIN_N = 30
LEVEL = 0.95
UNIT_COLUMNS = ("unit", "code", "mã đơn vị", "ma don vi", "đơn vị", "don vi")
ADMIN = ("on_time_rate", "online_share", "urban_share")
ADMIN_COLUMNS = {
    "on_time_rate": ("on_time_rate", "tỷ lệ đúng hạn", "ty le dung han"),
    "online_share": ("online_share", "tỷ lệ trực tuyến", "ty le truc tuyen"),
    "urban_share": ("urban_share", "tỷ lệ đô thị", "ty le do thi"),
}
SOURCE_COLUMNS = ("source", "nguồn", "nguon")
SHEET = "Bien phu tro"
DESK_SHARE = "desk_share"


def covariate_names() -> dict[str, str]:
    return {
        DESK_SHARE: _("Desk-rating share"),
        "on_time_rate": _("On-time processing rate"),
        "online_share": _("Share of dossiers filed online"),
        "urban_share": _("Urban share"),
    }


def breakdown(campaign: Campaign, level: str | None = None) -> str:
    """The unit level the small areas are at: ``level`` when the campaign's units have it,
    else the campaign's breakdown level (:func:`levels.default`)."""
    have = levels.unit_levels(campaign)
    if level is not None:
        if level not in have:
            raise ServiceError(
                _(
                    "Level %(value)s: this campaign's units have no such level; use one of "
                    "%(names)s.",
                    value=level,
                    names=", ".join(have),
                )
            )
        return level
    found = levels.default(campaign)
    if found is None:
        raise ServiceError(_("The campaign has no units to estimate for."))
    return found


def units(campaign: Campaign, level: str | None = None) -> list[Unit]:
    """The units of the small-area level inside the campaign, by code."""
    return levels.units_at(campaign, breakdown(campaign, level))


# ---- administrative covariates: all-or-nothing import, audited ----------------------------


@dataclass(frozen=True)
class CovariateRow:
    unit: Unit
    values: dict[str, float]
    source: str


def _share(raw: str) -> float | None:
    """``"0,85"``, ``"0.85"`` or ``"85%"`` → 0.85; anything else (or outside [0, 1]) → None."""
    text = raw.replace(" ", "").replace("\u00a0", "")
    percent = text.endswith("%")
    text = text.rstrip("%").replace(",", ".")
    if not re.fullmatch(r"-?\d+(\.\d+)?|-?\.\d+", text):
        return None
    value = float(text) / (100 if percent else 1)
    return value if math.isfinite(value) and 0.0 <= value <= 1.0 else None


def parse_covariates(campaign: Campaign, data: bytes, filename: str) -> list[CovariateRow]:
    """Every row of a covariates file, checked; :class:`ImportProblems` lists every problem.

    One row per unit of one level the campaign's units have (column ``unit``: the unit
    code; the level is that of the first known unit: communes, or the districts of a
    historical campaign), at least one of ``on_time_rate``, ``online_share``,
    ``urban_share`` (shares in [0, 1], or percentages with ``%``), optional ``source``.
    Every unit of that level must be listed and every cell of a present covariate filled:
    the model needs each covariate for every unit.
    """
    table = read_table(data, filename)
    sheet, header = table.sheet, table.header
    unit_col = _pick(header, UNIT_COLUMNS)
    cols = {k: _pick(header, names) for k, names in ADMIN_COLUMNS.items()}
    present = {k: c for k, c in cols.items() if c is not None}
    source_col = _pick(header, SOURCE_COLUMNS)
    if unit_col is None or not present:
        raise ImportProblems(
            [
                _(
                    "The file needs a unit column and at least one of on_time_rate, "
                    "online_share, urban_share (source optional)."
                )
            ]
        )
    by_level = {lv: levels.units_at(campaign, lv) for lv in levels.unit_levels(campaign)}
    known = {u.code: u for found in by_level.values() for u in found}
    chosen: str | None = None
    problems: list[str] = []
    seen: dict[str, int] = {}
    rows: list[CovariateRow] = []
    for number, values in table.rows:
        code = values.get(unit_col, "")
        unit = known.get(code)
        if unit is None:
            problems.append(
                _where(
                    sheet,
                    number,
                    unit_col,
                    header,
                    _(
                        "%(value)r is not a unit code of this campaign (see the template).",
                        value=code,
                    ),
                )
            )
            continue
        if code in seen:
            problems.append(
                _where(
                    sheet,
                    number,
                    unit_col,
                    header,
                    _("unit %(code)s repeats row %(row)d.", code=code, row=seen[code]),
                )
            )
            continue
        chosen = chosen or unit.level.value
        if unit.level.value != chosen:
            problems.append(
                _where(
                    sheet,
                    number,
                    unit_col,
                    header,
                    _(
                        "unit %(code)s is a %(level)s, the file lists %(chosen)s units: "
                        "use one level.",
                        code=code,
                        level=levels.name(unit.level.value),
                        chosen=levels.name(chosen),
                    ),
                )
            )
            continue
        seen[code] = number
        parsed: dict[str, float] = {}
        for key, col in present.items():
            raw = values.get(col, "")
            share = _share(raw)
            if share is None:
                reason = (
                    _("empty: every unit needs a value.")
                    if not raw
                    else _("%(value)r is not a share between 0 and 1 (or 0%%–100%%).", value=raw)
                )
                problems.append(_where(sheet, number, col, header, reason))
                continue
            parsed[key] = share
        rows.append(
            CovariateRow(unit, parsed, (values.get(source_col, "") if source_col else "")[:300])
        )
    if not problems and chosen is not None:
        missing = [u.code for u in by_level[chosen] if u.code not in seen]
        if missing:
            problems.append(
                _(
                    "Column %(col)s: no row for the units %(codes)s; list every unit.",
                    col=unit_col,
                    codes=", ".join(missing),
                )
            )
    if not rows and not problems:
        problems.append(_("The file has no rows."))
    if problems:
        raise ImportProblems(problems)
    return rows


def stored(campaign: Campaign) -> list[AreaCovariate]:
    return list(
        db.session.scalars(
            select(AreaCovariate)
            .where(AreaCovariate.campaign_id == campaign.id)
            .order_by(AreaCovariate.id)
        )
    )


def _snapshot(rows: list[AreaCovariate]) -> dict[str, Any]:
    return {
        r.unit.code: {k: getattr(r, k) for k in ADMIN if getattr(r, k) is not None} for r in rows
    }


def import_covariates(campaign: Campaign, data: bytes, filename: str) -> list[AreaCovariate]:
    """Replace the campaign's administrative covariates with the file's; nothing changes on
    any error."""
    rows = parse_covariates(campaign, data, filename)
    before = stored(campaign)
    snapshot = _snapshot(before)
    db.session.execute(delete(AreaCovariate).where(AreaCovariate.campaign_id == campaign.id))
    added = [
        AreaCovariate(campaign_id=campaign.id, unit=r.unit, source=r.source, **r.values)
        for r in rows
    ]
    db.session.add_all(added)
    db.session.flush()
    audit.record(
        "import",
        "area_covariates",
        campaign.id,
        before=snapshot or None,
        after={"file": filename, **_snapshot(added)},
    )
    return added


def clear_covariates(campaign: Campaign) -> int:
    before = stored(campaign)
    if not before:
        return 0
    db.session.execute(delete(AreaCovariate).where(AreaCovariate.campaign_id == campaign.id))
    db.session.flush()
    audit.record("delete", "area_covariates", campaign.id, before=_snapshot(before))
    return len(before)


def template(campaign: Campaign, level: str | None = None) -> bytes:
    """An XLSX with one row per unit of ``level`` (default: the breakdown level) and the
    current values."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    xlsx.append(ws, ["unit", "name", *ADMIN, "source"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    current = {r.unit_id: r for r in stored(campaign)}
    for unit in units(campaign, level):
        old = current.get(unit.id)
        xlsx.append(
            ws,
            [
                unit.code,
                unit.name,
                *[getattr(old, k) if old else None for k in ADMIN],
                old.source if old else None,
            ],
        )
    ws.freeze_panes = "A2"
    for letter, width in zip("ABCDEF", (12, 36, 14, 14, 14, 40), strict=True):
        ws.column_dimensions[letter].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---- the estimates ------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitEstimate:
    """One unit's row on the page, in the API and in the report."""

    code: str
    name: str
    n: int
    direct: float | None
    direct_se: float | None
    direct_ci: tuple[float, float] | None
    smoothed: bool  # the model used the GVF variance instead of the design variance
    model_se: float | None  # sqrt of the variance the model used
    estimate: float
    rmse: float
    ci: tuple[float, float]
    gamma: float | None
    synthetic: bool
    residual: float | None
    covariates: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.code,
            "name": self.name,
            "n": self.n,
            "direct": self.direct,
            "direct_se": self.direct_se,
            "direct_ci": list(self.direct_ci) if self.direct_ci else None,
            "variance_smoothed": self.smoothed,
            "model_se": self.model_se,
            "estimate": self.estimate,
            "rmse": self.rmse,
            "ci": list(self.ci),
            "gamma": self.gamma,
            "synthetic": self.synthetic,
            "standardised_residual": self.residual,
            "covariates": self.covariates,
        }


@dataclass(frozen=True)
class SmallAreaReport:
    campaign_id: int
    level: str
    index_code: str
    index_name: str
    method: str
    result: SAEResult
    units: list[UnitEstimate]
    covariates: list[str]
    province: dict[str, Any]
    gvf: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def qq(self) -> list[tuple[float, float]]:
        theo, sample = normal_qq([u.residual for u in self.units if u.residual is not None])
        return list(zip(theo.tolist(), sample.tolist(), strict=True))

    def median_ci_width(self) -> dict[str, float | None]:
        direct = [u.direct_ci[1] - u.direct_ci[0] for u in self.units if u.direct_ci]
        model = [u.ci[1] - u.ci[0] for u in self.units]
        return {
            "direct": float(np.median(direct)) if direct else None,
            "model_based": float(np.median(model)) if model else None,
        }

    def to_dict(self) -> dict[str, Any]:
        m = self.result.model
        bench = self.result.benchmark
        return {
            "campaign": self.campaign_id,
            "label": "model-based",
            "level": self.level,
            "index": {"code": self.index_code, "name": self.index_name},
            "model": {
                "method": m.method,
                "covariates": ["intercept", *self.covariates],
                "beta": list(m.beta),
                "beta_se": list(m.beta_se),
                "sigma2_u": m.sigma2_u,
                "areas_in_sample": m.m,
            },
            "benchmark": (
                None
                if bench is None
                else {
                    "kind": bench.kind,
                    "target": bench.target,
                    "before": bench.before,
                    "adjustment": bench.adjustment,
                }
            ),
            "province": self.province,
            "variance_smoothing": self.gvf,
            "median_ci_width": self.median_ci_width(),
            "notes": self.notes,
            "units": [u.to_dict() for u in self.units],
        }


def _overall_rows(report: reports.Report, code: str) -> dict[Any, dict[str, Any]]:
    out: dict[Any, dict[str, Any]] = {}
    for row in report.estimates:
        if row["code"] == code:
            key = None if row["domain"] is None else next(iter(row["domain"].values()))
            out[key] = row
    return out


def estimate(
    campaign: Campaign,
    *,
    method: str = "reml",
    bench: str | None = None,
    code: str = "overall",
    lang: str = "vi",
    level: str | None = None,
    reports_made: Sequence[reports.Report] = (),
) -> SmallAreaReport:
    """Fit the Fay–Herriot model to the units' direct estimates of index ``code``.

    ``reports_made``: reports the caller has just computed (a report file's sections); the
    probability sample's by ``level`` is taken from them rather than computed again.

    Raises :class:`ServiceError` with a message for the user when the model cannot be fitted
    (too few units with respondents, no variance to work with, unknown method).
    """
    if method not in METHODS:
        raise ServiceError(_("Method: use one of %(names)s.", names=", ".join(METHODS)))
    if bench is not None and bench not in BENCHMARKS:
        raise ServiceError(_("Benchmarking: use one of %(names)s.", names=", ".join(BENCHMARKS)))
    level = breakdown(campaign, level)
    made = [
        r
        for r in reports_made
        if r.sample == "probability" and r.by == level and "filters" not in r.design
    ]
    probability = (
        made[0] if made else reports.build(campaign, sample="probability", by=level, lang=lang)
    )
    rows = _overall_rows(probability, code)
    if None not in rows:
        raise ServiceError(_("The probability sample has no responses yet."))
    province_row = rows[None]
    unit_list = units(campaign, level)
    if not unit_list:
        raise ServiceError(_("The campaign has no units to estimate for."))
    notes: list[str] = []
    # The report's domain of each unit: its name, with its code where names are shared.
    labels = queries.level_labels(level)
    names = [labels.get(u.id, u.name) for u in unit_list]

    def value(name: str, key: str) -> float:
        row = rows.get(name)
        v = None if row is None else row.get(key)
        return float(v) if v is not None else math.nan

    direct = np.array([value(n, "estimate") for n in names])
    se = np.array([value(n, "se") for n in names])
    n_resp = np.array([rows[n]["n"] if n in rows else 0 for n in names], dtype=float)
    # a unit with an estimate but no design SE is left to the GVF like an SE of 0
    se = np.where(np.isfinite(direct) & ~np.isfinite(se), 0.0, se)
    # A unit whose respondents are all in one PSU (a commune drawn as a cluster) has no
    # design-based SE: the ultimate-cluster estimate of about 0 is an artefact, so such units
    # get the GVF variance, fitted on the province when no unit is reliable.
    one_psu = _single_psu(campaign, level, names) & np.isfinite(direct)
    se = np.where(one_psu, 0.0, se)
    if one_psu.any():
        notes.append(
            _(
                "%(n)d units each lie in a single PSU of the design, so their design-based "
                "standard error cannot be estimated: their direct intervals use the smoothed "
                "variance.",
                n=int(one_psu.sum()),
            )
        )
    reference = (
        float(province_row["estimate"]),
        float(province_row["se"] or math.nan),
        float(province_row["n"]),
    )
    try:
        gvf = smooth_variances(
            direct, se, n_resp, form="proportion", min_n=MIN_N, reference=reference
        )
    except AnalysisError as exc:
        raise ServiceError(
            _(
                "Small-area model: the design variances cannot be used (%(reason)s).",
                reason=str(exc),
            )
        ) from exc
    d_eff, pbar = gvf.params
    gvf_info = {
        "form": "psi = d * p(1 - p) / n",
        "d": d_eff,
        "p": pbar,
        "min_n": MIN_N,
        "fitted_on": gvf.fitted_on,
        "smoothed_units": int(gvf.smoothed.sum()),
    }

    kept = _covariates(
        campaign, level, code, lang, unit_list, int(np.isfinite(direct).sum()), notes
    )
    x = np.column_stack([c for _k, c in kept]) if kept else None
    try:
        result = fay_herriot(
            direct,
            gvf.variance,
            x,
            areas=[u.code for u in unit_list],
            names=[k for k, _c in kept],
            method=method,
        )
        if bench is not None:
            weights = _population_weights(campaign, unit_list)
            result = benchmark(
                result,
                float(province_row["estimate"]),
                weights,
                kind=bench,  # type: ignore[arg-type]
            )
            notes.append(
                _(
                    "Benchmarked (%(kind)s) to the province's direct estimate %(target)s with "
                    "the units' population shares; the MSE is the unbenchmarked estimate's.",
                    kind=bench,
                    target=reports.percent(float(province_row["estimate"])),
                )
            )
    except AnalysisError as exc:
        raise ServiceError(_("Small-area model: %(reason)s", reason=str(exc))) from exc
    if result.model.truncated:
        notes.append(
            _(
                "The estimated between-unit variance is 0: every model-based estimate is the "
                "regression (synthetic) estimate."
            )
        )
    out = [
        _unit_row(
            unit,
            area,
            int(n_resp[i]),
            None
            if area.direct is None
            else float(math.sqrt(gvf.variance[i]) if one_psu[i] else se[i]),
            bool(gvf.smoothed[i]),
            {k: float(c[i]) for k, c in kept},
        )
        for i, (unit, area) in enumerate(zip(unit_list, result.areas, strict=True))
    ]
    return SmallAreaReport(
        campaign_id=campaign.id,
        level=level,
        index_code=code,
        index_name=str(province_row.get("name", code)),
        method=method,
        result=result,
        units=out,
        covariates=[k for k, _c in kept],
        province={
            "estimate": province_row["estimate"],
            "se": province_row["se"],
            "n": province_row["n"],
        },
        gvf=gvf_info,
        notes=notes,
    )


def _covariates(
    campaign: Campaign,
    level: str,
    code: str,
    lang: str,
    unit_list: list[Unit],
    m_in: int,
    notes: list[str],
) -> list[tuple[str, np.ndarray]]:
    """The model's covariates by key: the desk-rating share and the administrative ones
    imported for every unit, less those equal everywhere and those the ``m_in`` units with
    respondents cannot carry; ``notes`` hears why each was left out."""
    cov_keys: list[str] = []
    columns: list[np.ndarray] = []
    names = [u.name for u in unit_list]
    desk = _desk_share(campaign, level, code, lang, names, notes)
    if desk is not None:
        cov_keys.append(DESK_SHARE)
        columns.append(desk)
    stored_rows = {r.unit_id: r for r in stored(campaign)}
    if stored_rows:
        for key in ADMIN:
            values = [getattr(stored_rows.get(u.id), key, None) for u in unit_list]
            if all(v is not None for v in values):
                cov_keys.append(key)
                columns.append(np.array(values, dtype=float))
    else:
        notes.append(
            _("No administrative covariates imported: the model uses the desk-rating share only.")
        )
    # a covariate equal for every unit is the intercept again
    kept = [(k, c) for k, c in zip(cov_keys, columns, strict=True) if np.ptp(c) > 0]
    for k in [k for k in cov_keys if k not in {kk for kk, _c in kept}]:
        notes.append(
            _("%(name)s is the same for every unit and was left out.", name=covariate_names()[k])
        )
    # keep at least one more unit with respondents than parameters: drop the last covariates
    while kept and m_in < len(kept) + 2:
        notes.append(
            _(
                "Too few units with respondents for %(name)s: left out.",
                name=covariate_names()[kept[-1][0]],
            )
        )
        kept.pop()
    return kept


def _unit_row(
    unit: Unit,
    area: AreaEstimate,
    n: int,
    design_se: float | None,
    smoothed: bool,
    covariates: dict[str, float],
) -> UnitEstimate:
    lo, hi = area.interval(LEVEL)
    z = norm_ppf(0.5 + LEVEL / 2)
    return UnitEstimate(
        code=unit.code,
        name=unit.name,
        n=n,
        direct=area.direct,
        direct_se=design_se,
        direct_ci=(
            None
            if area.direct is None or design_se is None
            else (area.direct - z * design_se, area.direct + z * design_se)
        ),
        smoothed=smoothed,
        model_se=area.direct_se,
        estimate=area.eblup,
        rmse=area.rmse,
        ci=(lo, hi),
        gamma=area.gamma,
        synthetic=area.synthetic,
        residual=area.residual,
        covariates=covariates,
    )


def _single_psu(campaign: Campaign, level: str, names: list[str]) -> np.ndarray:
    """Whether each unit's respondents (probability sample) all lie in one PSU."""
    labels = queries.level_labels(level)
    psus: dict[str, set[tuple[Any, Any]]] = {}
    for unit_id, stratum, psu in queries.unit_psus(campaign, reports.PROBABILITY):
        label = labels.get(unit_id)
        if label is not None:
            psus.setdefault(label, set()).add((stratum, psu))
    return np.array([len(psus.get(name, ())) == 1 for name in names], dtype=bool)


def _desk_share(
    campaign: Campaign, level: str, code: str, lang: str, names: list[str], notes: list[str]
) -> np.ndarray | None:
    try:
        report = reports.build(campaign, sample="convenience", by=level, lang=lang)
    except ServiceError:
        notes.append(_("No desk ratings per unit: the desk-rating share is not used."))
        return None
    rows = _overall_rows(report, code)
    if None not in rows:
        notes.append(_("No desk ratings yet: the desk-rating share is not used."))
        return None
    overall = float(rows[None]["estimate"])
    missing = [n for n in names if n not in rows]
    if missing:
        notes.append(
            _(
                "Units without desk ratings get the province's desk-rating share: %(names)s.",
                names=", ".join(missing),
            )
        )
    return np.array([float(rows[n]["estimate"]) if n in rows else overall for n in names])


def _population_weights(campaign: Campaign, unit_list: list[Unit]) -> np.ndarray:
    """Population share of each unit from the imported calibration margin by unit code."""
    codes = [u.code for u in unit_list]
    for _variable, cats in margins.for_analysis(campaign):
        totals = dict(cats)
        if set(codes) <= set(totals):
            return np.array([totals[c] for c in codes], dtype=float)
    raise ServiceError(
        _(
            "Benchmarking needs the population of every unit: import population margins by "
            "unit first."
        )
    )


# ---- the report's sheet / section ---------------------------------------------------------

SHEET_TITLE = "Ước lượng địa bàn nhỏ"
REPORT_HEADERS = [
    "Mã đơn vị",
    "Đơn vị",
    "Số người trả lời",
    "Ước lượng trực tiếp",
    "KTC 95% – cận dưới (trực tiếp)",
    "KTC 95% – cận trên (trực tiếp)",
    "Ước lượng dựa trên mô hình",
    "Khoảng 95% – cận dưới (mô hình)",
    "Khoảng 95% – cận trên (mô hình)",
    "Hệ số co γ",
    "Ước lượng tổng hợp (không có người trả lời)",
    "Phần dư chuẩn hóa",
]


def for_report(
    campaign: Campaign, sections: Sequence[tuple[str, reports.Report]] = ()
) -> SmallAreaReport | None:
    """The default (REML) small-area estimates for a report file of ``sections``, or None
    when the model cannot be fitted (the report then simply has no small-area section)."""
    try:
        return estimate(campaign, reports_made=[report for _title, report in sections])
    except ServiceError:
        return None


def report_rows(result: SmallAreaReport) -> list[list[Any]]:
    return [
        [
            u.code,
            u.name,
            u.n,
            u.direct,
            u.direct_ci[0] if u.direct_ci else None,
            u.direct_ci[1] if u.direct_ci else None,
            u.estimate,
            u.ci[0],
            u.ci[1],
            u.gamma,
            "có" if u.synthetic else "không",
            u.residual,
        ]
        for u in result.units
    ]


def report_caption(result: SmallAreaReport) -> str:
    m = result.result.model
    names = covariate_names()
    text = (
        f"{result.index_name} – ước lượng dựa trên mô hình (Fay–Herriot, {m.method.upper()}); "
        f"biến phụ trợ: {', '.join(names[k] for k in result.covariates) or 'không'}; "
        f"σ²ᵤ = {m.sigma2_u:.6f}"
    )
    if result.result.benchmark is not None:
        text += f"; hiệu chỉnh khớp tổng của tỉnh ({result.result.benchmark.kind})"
    return text


def write_sheet(wb: Workbook, result: SmallAreaReport) -> None:
    """The report's XLSX sheet: one row per unit, direct beside model-based."""
    ws = wb.create_sheet(title=SHEET_TITLE[:31])
    xlsx.append(ws, [report_caption(result)])
    ws["A1"].font = Font(bold=True, size=13)
    xlsx.append(ws, REPORT_HEADERS)
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F0")
    for row in report_rows(result):
        xlsx.append(ws, row)
        r = ws.max_row
        for col in (4, 5, 6, 7, 8, 9):
            ws.cell(r, col).number_format = "0.00%"
        for col in (10, 12):
            ws.cell(r, col).number_format = "0.00"
    for note in result.notes:
        xlsx.append(ws, [note])
    ws.freeze_panes = "A3"
    ws.column_dimensions["B"].width = 30
