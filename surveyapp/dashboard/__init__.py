"""Analysts' views. ``queries.py`` is the one adapter from the database to the analysis
package; views only ask services for results and render them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from surveyapp.auth import require_roles
from surveyapp.dashboard.charts import ci_chart, domain_chart, interval_chart, qq_plot, trend_chart
from surveyapp.data import queries
from surveyapp.extensions import db
from surveyapp.i18n import current_language
from surveyapp.models.campaigns import Campaign, Channel
from surveyapp.models.responses import Response as SurveyResponse
from surveyapp.models.units import Unit
from surveyapp.services import (
    ServiceError,
    abuse,
    batches,
    campaigns,
    levels,
    report_files,
    reports,
    sae,
)

bp = Blueprint("dashboard", __name__)
require_roles(bp, "dashboard")


def _verdict_text() -> dict[str, str]:
    return {code: str(label) for code, label in reports.VERDICT_LABELS.items()}


def _verdict_reason_text() -> dict[str, str]:
    """Why a verdict is not decided, where the interval alone does not say it."""
    return {
        code: str(label)
        for code, label in reports.VERDICT_REASON_LABELS.items()
        if code != "ci_contains_target"
    }


@bp.route("/")
def index() -> Any:
    return render_template("dashboard/index.html", campaigns=campaigns.summaries())


def _filters(item: Campaign, units: list[Unit]) -> tuple[queries.Filters, dict[str, Any]]:
    """Parse ``?channel=&period=&unit=``; an unknown value is a 400 that says which."""
    args = request.args
    chosen: dict[str, Any] = {"channel": "", "period": "", "unit": ""}
    channel = period_id = None
    unit_ids = None
    if args.get("channel"):
        try:
            channel = Channel(args["channel"])
        except ValueError:
            abort(400, _("Filter: unknown channel %(value)s.", value=args["channel"]))
        chosen["channel"] = channel.value
    if args.get("period"):
        periods = {str(p.id): p.id for p in item.periods}
        if args["period"] not in periods:
            abort(400, _("Filter: this campaign has no period %(value)s.", value=args["period"]))
        period_id = periods[args["period"]]
        chosen["period"] = str(period_id)
    if args.get("unit"):
        ids = {str(u.id): u.id for u in units}
        if args["unit"] not in ids:
            abort(400, _("Filter: this campaign has no unit %(value)s.", value=args["unit"]))
        unit_ids = queries.unit_subtree(ids[args["unit"]])
        chosen["unit"] = str(ids[args["unit"]])
    return queries.Filters(channel=channel, period_id=period_id, unit_ids=unit_ids), chosen


def _fold_first(item: Campaign) -> None:
    """The folds the reports would do on their way, done before anything else is loaded:
    each commits, and a commit expires every object the session holds (a report page
    loaded again, one lazy query at a time, the questionnaire, its items, options, index
    nodes and units it had read before a fold)."""
    reports.fold(item)


@bp.route("/<int:campaign_id>")
def campaign(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    _fold_first(item)
    units = campaigns.filter_units(item)
    filters, chosen = _filters(item, units)
    breakdown = request.args.get("by") or None
    # Desks are the QR sample's own breakdown (the default there), not one to choose.
    choices = [c for c in levels.choices(item) if c != "desk"]
    if breakdown is not None and breakdown not in choices:
        abort(
            400,
            _(
                "Breakdown: this campaign has no level %(value)s; use one of %(names)s.",
                value=breakdown,
                names=", ".join(choices),
            ),
        )
    chosen["by"] = breakdown or ""
    default_by = levels.default(item)
    # The level of the response rates: the chosen breakdown when it is one.
    area_by = breakdown if levels.is_area(breakdown) else default_by
    sections = []
    errors = []
    for key in ("probability", "convenience", "invited"):
        sample = reports.SAMPLES[key]
        if filters.channel is not None and filters.channel not in sample.channels:
            continue
        if key == "invited":
            # Shown only when someone answered a standalone code; such answers have no
            # unit or desk, so no breakdown and no unit filter applies to them.
            if filters.unit_ids is not None or not reports.has_answers(item, key):
                continue
            by = None
        else:
            by = breakdown or (default_by if key == "probability" else "desk")
        try:
            report = reports.build(
                item, sample=key, by=by, filters=filters, lang=current_language()
            )
            ranking = reports.rank_intervals(item, report, filters=filters)
        except ServiceError as exc:
            errors.append(str(exc))
            continue
        index_rows = [r for r in report.rows() if r["level"] != "item"]
        charts = []
        if report.descriptive:
            titles = {
                code: _(
                    "Field %(code)s: estimate and interval (no target: not a random sample)",
                    code=code,
                )
                for code in ("1", "2")
            }
            description = _(
                "Square: estimate; line: the %(level)s interval, which holds only if the "
                "respondents were a random sample. The same numbers are in the table.",
                level="95%",
            )
        else:
            titles = {
                code: _("Field %(code)s: estimate, 95%% CI and target", code=code)
                for code in ("1", "2")
            }
            description = _(
                "Square: estimate; line: %(level)s confidence interval; diamond: target. "
                "The same numbers are in the table.",
                level="95%",
            )
        for field in ("1", "2"):
            rows = [
                r for r in index_rows if r["code"] == field or r["code"].startswith(field + ".")
            ]
            if rows:
                charts.append(
                    Markup(
                        ci_chart(
                            rows,
                            title=titles[field],
                            description=description,
                            verdict_text=_verdict_text(),
                            key=f"ci-{key}-{field}",
                        )
                    )
                )
        sections.append(
            {
                "key": key,
                "domain_chart": _domain_chart(report, key),
                "report": report,
                "index_rows": index_rows,
                "items": [r for r in report.rows() if r["level"] == "item"],
                "charts": charts,
                "label": report_files.sample_label(report),
                "held": report_files.held_label(report),
                "ranks": ranking.ranks,
                "ranks_exact": ranking.exact,
                "differences_url": (
                    url_for(
                        "dashboard.differences",
                        campaign_id=item.id,
                        **{k: v for k, v in chosen.items() if v and k != "by"},
                        by=by if by != default_by else None,
                    )
                    if key == "probability" and levels.is_area(by)
                    else None
                ),
            }
        )
    return render_template(
        "dashboard/campaign.html",
        campaign=item,
        sections=sections,
        errors=errors,
        verdicts=_verdict_text(),
        verdict_reasons=_verdict_reason_text(),
        by_channel=campaigns.channel_counts(item),
        rates=batches.response_rate_summary(item, filters.unit_ids, by=area_by),
        filters=chosen,
        by_choices=[(c, levels.name(c)) for c in choices],
        default_by=levels.name(default_by) if default_by else None,
        level_name=levels.name,
        filtered=not filters.empty,
        filter_units=units,
    )


def _domain_chart(report: reports.Report, key: str) -> Markup | None:
    """The overall index per unit of the breakdown as a dot plot sorted by estimate (the
    table beside it sorts by any column)."""
    if not report.by:
        return None
    rows = [
        (str(domain), float(r["estimate"]), r["ci_low"], r["ci_high"])
        for domain in report.domains()
        for r in report.rows(domain)
        if r["code"] == "overall" and r["estimate"] is not None
    ]
    if len(rows) < 2:
        return None
    whole = next((r for r in report.rows() if r["code"] == "overall"), None)
    name = levels.name(report.by)
    if report.descriptive:
        # Not a random sample: the line is an interval only under that assumption.
        description = _(
            "One row per %(level)s, sorted by estimate: square, the estimate; line, the 95%% "
            "interval that holds only if the respondents were a random sample; dashed line, all "
            "of them. With many rows only the highest and lowest are named; the table below "
            "names every one and sorts by any column.",
            level=name,
        )
    else:
        description = _(
            "One row per %(level)s, sorted by estimate: square, the estimate; line, its "
            "95%% interval; dashed line, the whole sample. With many rows only the highest "
            "and lowest are named; the table below names every one and sorts by any column.",
            level=name,
        )
    return Markup(
        domain_chart(
            rows,
            title=_("Overall index by %(level)s, highest first", level=name),
            description=description,
            overall=whole["estimate"] if whole else None,
            key=f"domains-{key}",
        )
    )


@bp.route("/<int:campaign_id>/differences")
def differences(campaign_id: int) -> Any:
    """Every pair of units of the probability sample at an administrative level: the
    difference of an index with its confidence interval, from the joint covariance of the
    calibrated estimates."""
    item = db.get_or_404(Campaign, campaign_id)
    units = campaigns.filter_units(item)
    filters, chosen = _filters(item, units)
    if (
        filters.channel is not None
        and filters.channel not in reports.SAMPLES["probability"].channels
    ):
        abort(400, _("Differences between units exist for the probability sample only."))
    nodes = reports.index_choices(item, lang=current_language())
    variable = request.args.get("variable") or "overall"
    if variable not in {code for code, _name in nodes}:
        abort(400, _("Index: this questionnaire has no index %(value)s.", value=variable))
    by = request.args.get("by") or levels.default(item)
    if not levels.is_area(by):
        abort(400, _("Differences: choose an administrative level."))
    try:
        result = reports.differences(item, by=by, variable=variable, filters=filters)
    except ServiceError as exc:
        abort(400, str(exc))
    assert by is not None
    return render_template(
        "dashboard/differences.html",
        campaign=item,
        result=result,
        nodes=nodes,
        variable=variable,
        by=by,
        level=levels.name(by),
        filters={k: v for k, v in chosen.items() if k != "by"},
    )


@bp.route("/<int:campaign_id>/trend")
def trend(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    try:
        result = reports.trend(item, lang=current_language())
    except ServiceError as exc:
        abort(400, str(exc))
    labels = [c["name"] for c in result.campaigns]
    shown = [r for r in result.rows if r["level"] in ("field", "overall")]
    chart = None
    # One campaign has nothing to compare with: the page says so instead of a one-point line.
    if len(result.campaigns) > 1:
        chart = Markup(
            trend_chart(
                labels,
                [
                    (
                        _("Field %(code)s", code=r["code"])
                        if r["level"] == "field"
                        else _("Overall"),
                        r["points"],
                    )
                    for r in shown
                ],
                title=_("Fields and overall index by campaign, with 95%% confidence intervals"),
                description=_(
                    "One marker shape per index; vertical line: 95%% confidence interval. "
                    "The same numbers are in the table."
                ),
            )
        )
    return render_template("dashboard/trend.html", campaign=item, trend=result, chart=chart)


@bp.route("/<int:campaign_id>/sae")
def small_area(campaign_id: int) -> Any:
    """Model-based (Fay–Herriot) estimates per unit beside the direct ones."""
    item = db.get_or_404(Campaign, campaign_id)
    method = request.args.get("method") or "reml"
    bench = request.args.get("benchmark") or None
    level = request.args.get("level") or None
    if method not in sae.METHODS:
        abort(400, _("Method: use one of %(names)s.", names=", ".join(sae.METHODS)))
    if bench is not None and bench not in sae.BENCHMARKS:
        abort(400, _("Benchmarking: use one of %(names)s.", names=", ".join(sae.BENCHMARKS)))
    error = None
    result = chart = qq = None
    try:
        result = sae.estimate(
            item, method=method, bench=bench, lang=current_language(), level=level
        )
    except ServiceError as exc:
        error = str(exc)
    if result is not None:
        chart = Markup(
            interval_chart(
                result.units,
                title=_("Direct and model-based estimates per unit, with 95%% intervals"),
                description=_(
                    "Per unit, above: direct estimate (circle) and its 95%% confidence "
                    "interval; below: model-based estimate (square) and its 95%% interval. "
                    "The same numbers are in the table."
                ),
            )
        )
        qq = Markup(
            qq_plot(
                result.qq,
                title=_("Normal Q–Q plot of the standardised residuals"),
                description=_(
                    "Each point is a unit: its standardised residual against the normal "
                    "quantile. Points near the dashed line support the model's normality "
                    "assumption."
                ),
            )
        )
    return render_template(
        "dashboard/sae.html",
        campaign=item,
        result=result,
        error=error,
        chart=chart,
        qq=qq,
        method=method,
        bench=bench or "",
        methods=sae.METHODS,
        names=sae.covariate_names(),
        level=level or "",
        levels=[(lv, levels.name(lv)) for lv in levels.unit_levels(item)],
    )


@bp.route("/<int:campaign_id>/report.<fmt>")
def download(campaign_id: int, fmt: str) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    if fmt not in {"xlsx", "html", "json"}:
        abort(404)
    _fold_first(item)
    try:
        # The reports as the data stand now; the file says when they were computed.
        if fmt == "json":
            report = reports.build(item, sample="probability")
            return report.to_dict()
        sections = reports.file_sections(
            item, by={"probability": levels.default(item), "convenience": "desk"}
        )
    except ServiceError as exc:
        abort(400, str(exc))
    small_area = sae.for_report(item, sections)
    if fmt == "xlsx":
        data = report_files.to_xlsx(sections, small_area)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        data = report_files.to_html(sections, small_area).encode("utf-8")
        mimetype = "text/html; charset=utf-8"
    return Response(
        data,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="sipas-campaign-{item.id}.{fmt}"'},
    )


@bp.route("/<int:campaign_id>/responses")
def responses(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    by_channel = campaigns.channel_counts(item)
    return render_template(
        "dashboard/responses.html",
        campaign=item,
        by_channel=by_channel,
        targets=campaigns.target_rows(item, lang=current_language()),
    )


FLAG_LABELS = {
    abuse.FLAG_BURST: _l("Many ratings at this desk within a minute"),
    abuse.FLAG_BURST_CLIENT: _l("Many ratings from the same device"),
    abuse.FLAG_STRAIGHT_LINE: _l("The same answer to every question"),
}


@bp.route("/<int:campaign_id>/flagged")
def flagged(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    rows, held = abuse.flagged(item)
    return render_template(
        "dashboard/flagged.html", campaign=item, rows=rows, held=held, labels=FLAG_LABELS
    )


@bp.route("/<int:campaign_id>/flagged/<int:response_id>/release", methods=["POST"])
def release(campaign_id: int, response_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    response = db.get_or_404(SurveyResponse, response_id)
    if response.campaign_id != item.id:
        abort(404)
    if abuse.release(response):
        db.session.commit()
        flash(_("Response %(id)d now counts in the estimates.", id=response.id), "success")
    return redirect(url_for("dashboard.flagged", campaign_id=item.id), 303)


# The forecast pages live in their own module; importing it registers them.
# Routes kept in their own modules register on ``bp`` when imported.
from surveyapp.dashboard import bulletin as _bulletin  # noqa: E402, F401
from surveyapp.dashboard import comments, forecast, periodic  # noqa: E402, F401
from surveyapp.dashboard import desks as _desks  # noqa: E402, F401
from surveyapp.dashboard import officials as _officials  # noqa: E402, F401
