"""Administration: units, desks, campaigns and their targets, users, the audit log."""

from __future__ import annotations

from collections.abc import Callable, Sized
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from surveyapp.auth import require_roles
from surveyapp.extensions import db
from surveyapp.forms.admin import TargetForm, TargetImportForm
from surveyapp.i18n import current_language
from surveyapp.models.audit import AuditLog
from surveyapp.models.campaigns import Campaign, Target
from surveyapp.models.units import ServicePoint, Unit, UnitLevel
from surveyapp.models.users import User
from surveyapp.services import ServiceError, campaigns, targets

bp = Blueprint("admin", __name__)
require_roles(bp, "admin")


@bp.route("/")
def index() -> Any:
    level_counts = dict(
        db.session.execute(select(Unit.level, func.count()).group_by(Unit.level)).all()
    )
    desks = db.session.scalars(select(ServicePoint).order_by(ServicePoint.id)).all()
    return render_template(
        "admin/index.html",
        level_counts=level_counts,
        levels=list(UnitLevel),
        desks=desks,
        campaigns=campaigns.summaries(),
    )


@bp.route("/units")
def units() -> Any:
    from surveyapp.forms.admin import UnitImportForm

    roots = db.session.scalars(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.code))
    return render_template("admin/units.html", roots=roots.all(), form=UnitImportForm())


@bp.route("/desks")
def desks() -> Any:
    rows = db.session.scalars(select(ServicePoint).order_by(ServicePoint.id)).all()
    return render_template("admin/desks.html", desks=rows)


@bp.route("/desks/<int:desk_id>/qr.<fmt>")
def desk_qr(desk_id: int, fmt: str) -> Any:
    from flask import Response, request

    from surveyapp.services import qr

    desk = db.session.get(ServicePoint, desk_id)
    if desk is None or fmt not in qr.FORMATS:
        abort(404)
    paper = request.args.get("paper", "A4").upper()
    data = qr.render(desk, fmt, paper if paper in qr.PAPERS else "A4")
    disposition = f'attachment; filename="{qr.filename(desk, fmt)}"'
    return Response(data, mimetype=qr.MIME[fmt], headers={"Content-Disposition": disposition})


@bp.route("/campaigns/<int:campaign_id>")
def campaign(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    return render_template(
        "admin/campaign.html",
        campaign=item,
        targets=campaigns.target_rows(item, lang=current_language()),
        import_form=TargetImportForm(),
        counts=campaigns.final_counts(),
        questionnaires=campaigns.questionnaires(),
    )


@bp.route("/campaigns/<int:campaign_id>/channels", methods=["POST"])
def channel_questionnaires(campaign_id: int) -> Any:
    """Choose the questionnaire each channel asks (e.g. the desk form on QR and kiosk)."""
    from surveyapp.models.campaigns import Channel

    item = db.get_or_404(Campaign, campaign_id)
    chosen: dict[Channel, int | None] = {}
    for channel_item in item.channels:
        raw = request.form.get(f"qn_{channel_item.channel.value}", "")
        if raw == "":
            chosen[channel_item.channel] = None
        elif raw.isdigit():
            chosen[channel_item.channel] = int(raw)
        else:
            abort(400)
    try:
        changed = campaigns.set_channel_questionnaires(item, chosen)
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Questionnaires per channel saved (%(n)d changed).", n=len(changed)), "success")
    return redirect(url_for("admin.campaign", campaign_id=item.id))


@bp.route("/campaigns/<int:campaign_id>/targets/<int:target_id>", methods=["GET", "POST"])
def edit_target(campaign_id: int, target_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    target = db.session.get(Target, target_id)
    if target is None or target.campaign_id != item.id:
        abort(404)
    form = TargetForm(obj=target)
    if form.validate_on_submit():
        try:
            targets.update_target(target, form.target_pct.data, form.target_rank.data)
        except ServiceError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Target %(code)s saved.", code=target.index_node.code), "success")
            return redirect(url_for("admin.campaign", campaign_id=item.id))
    return render_template("admin/target_form.html", campaign=item, target=target, form=form)


@bp.route("/campaigns/<int:campaign_id>/targets/import", methods=["POST"])
def import_targets(campaign_id: int) -> Any:
    item = db.get_or_404(Campaign, campaign_id)
    form = TargetImportForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("admin.campaign", campaign_id=item.id))
    upload = form.file.data
    import_file(
        lambda: targets.import_targets(item, upload.read(), upload.filename or "upload.csv"),
        lambda n: _("Imported %(n)d targets.", n=n),
    )
    return redirect(url_for("admin.campaign", campaign_id=item.id))


def import_file(run: Callable[[], Sized], done: Callable[[int], str]) -> None:
    """Run an all-or-nothing import service: commit and say how many rows it took, or roll
    back and flash every problem it named (row and column)."""
    try:
        changed = run()
    except ServiceError as exc:
        db.session.rollback()
        flash(_("Nothing was imported."), "error")
        for line in str(exc).splitlines():
            flash(line, "error")
    else:
        db.session.commit()
        flash(done(len(changed)), "success")


@bp.route("/users")
def users() -> Any:
    rows = db.session.scalars(select(User).order_by(User.username)).all()
    return render_template("admin/users.html", users=rows)


AUDIT_PAGE = 100


@bp.route("/audit")
def audit_log() -> Any:
    kinds = audit_text.object_kinds()
    entity = request.args.get("entity") or ""
    if entity and entity not in kinds:
        abort(400, _("Unknown kind of record."))
    page = request.args.get("page", "1")
    if not page.isdigit() or not 1 <= int(page) <= 100_000:
        abort(400, _("Page: use a whole number from 1."))
    number = int(page)
    stmt = select(AuditLog).order_by(AuditLog.id.desc())
    if entity:
        stmt = stmt.where(AuditLog.entity == entity)
    # One row more than a page says whether an older page exists.
    rows = db.session.scalars(stmt.offset((number - 1) * AUDIT_PAGE).limit(AUDIT_PAGE + 1)).all()
    return render_template(
        "admin/audit.html",
        entries=[(row, audit_text.describe(row)) for row in rows[:AUDIT_PAGE]],
        kinds=kinds,
        entity=entity,
        page=number,
        older=len(rows) > AUDIT_PAGE,
    )


# Views that change users and desks, and a campaign's population margins, live in their own
# modules; importing them registers them.
from surveyapp.admin import (  # noqa: E402, F401
    alert_recipients,
    audit_text,
    crosswalk,
    manage,
    margins,
    official,
    officials,
    regions,
    sae,
)
