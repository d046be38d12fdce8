"""The comments page: citizens' comments and reasons, filtered, searched, counted, exported,
always masked; admins also see one comment as entered and hide or show it."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from surveyapp.auth import roles_required
from surveyapp.dashboard import _filters, bp
from surveyapp.data import queries
from surveyapp.extensions import db
from surveyapp.i18n import current_language
from surveyapp.models.campaigns import Campaign
from surveyapp.models.units import ServicePoint, Unit
from surveyapp.models.users import Role
from surveyapp.services import ServiceError
from surveyapp.services import comments as service

SEARCH_MAX = 200


def _int_arg(name: str, allowed: set[int] | None = None) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        abort(400, _("Filter: %(value)s is not a valid choice.", value=raw[:40]))
    value = int(raw)
    if allowed is not None and value not in allowed:
        abort(400, _("Filter: %(value)s is not a valid choice.", value=raw[:40]))
    return value


def _comment_filters(item: Campaign) -> tuple[service.CommentFilters, dict[str, Any], Any]:
    # Down to communes: a comment is about the desk and commune centre where it was given.
    covered = {uid for u in item.units for uid in queries.unit_subtree(u.id)}
    units = list(
        db.session.scalars(db.select(Unit).where(Unit.id.in_(covered)).order_by(Unit.code))
    )
    base, chosen = _filters(item, units)
    desks = list(
        db.session.scalars(
            db.select(ServicePoint)
            .where(ServicePoint.unit_id.in_(covered))
            .order_by(ServicePoint.name)
        )
    )
    desk_id = _int_arg("desk", {d.id for d in desks})
    rating = _int_arg("rating", {1, 2, 3, 4, 5})
    reason = _int_arg("reason", set(range(10)))
    search = request.args.get("q", "").strip()[:SEARCH_MAX]
    chosen.update(
        desk="" if desk_id is None else str(desk_id),
        rating="" if rating is None else str(rating),
        reason="" if reason is None else str(reason),
        q=search,
    )
    f = service.CommentFilters(
        unit_ids=base.unit_ids,
        desk_id=desk_id,
        period_id=base.period_id,
        channel=base.channel,
        rating=rating,
        reason=reason,
        search=search,
    )
    return f, chosen, (units, desks)


@bp.route("/<int:campaign_id>/comments")
def comments(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    f, chosen, (units, desks) = _comment_filters(item)
    number = _int_arg("page") or 1
    lang = current_language()
    result = service.page(item, f, number, lang)
    lay = service.layout(item)
    is_admin = current_user.role == Role.ADMIN
    return render_template(
        "dashboard/comments.html",
        campaign=item,
        result=result,
        counts=service.reason_counts(item, f, lang),
        reasons=[
            (v, label.get(lang) or label.get("vi", ""))
            for v, label in sorted(lay.reason_labels.items())
        ],
        filters=chosen,
        filter_units=units,
        desks=desks,
        is_admin=is_admin,
        hidden_rows=service.hidden_comments(item) if is_admin and result.hidden else [],
        query={k: v for k, v in chosen.items() if v and k != "by"},
    )


@bp.route("/<int:campaign_id>/comments.<fmt>")
def comments_export(campaign_id: int, fmt: str) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    f, _chosen, _lists = _comment_filters(item)
    lang = current_language()
    if fmt == "csv":
        data, mimetype = service.export_csv(item, f, lang), "text/csv; charset=utf-8"
    else:
        data = service.export_xlsx(item, f, lang)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="comments-campaign-{item.id}.{fmt}"'
        },
    )


@bp.route("/<int:campaign_id>/comments/<int:answer_id>")
@roles_required(Role.ADMIN)
def comment_raw(campaign_id: int, answer_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    try:
        state, text = service.raw_comment(item, answer_id)
    except ServiceError as exc:
        abort(404, str(exc))
    return render_template(
        "dashboard/comment_raw.html",
        campaign=item,
        state=state,
        text=text,
        masked=service.mask(text),
    )


@bp.route("/<int:campaign_id>/comments/<int:answer_id>/<any(hide, show):action>", methods=["POST"])
@roles_required(Role.ADMIN)
def comment_moderate(campaign_id: int, answer_id: int, action: str) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    try:
        changed = service.set_hidden(item, answer_id, action == "hide", int(current_user.id))
    except ServiceError as exc:
        abort(404, str(exc))
    if changed:
        flash(
            _("Comment hidden: it no longer appears on the comments page or in exports.")
            if action == "hide"
            else _("Comment shown again."),
            "success",
        )
    return redirect(url_for("dashboard.comment_raw", campaign_id=item.id, answer_id=answer_id))
