"""Admin page of desk-alert recipients, and the audit of the e-mails sent to them."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from surveyapp.admin import bp
from surveyapp.extensions import db
from surveyapp.models.alerts import AlertRecipient, RecipientScope
from surveyapp.models.units import ServicePoint, Unit, UnitLevel
from surveyapp.services import ServiceError, alerts


def _targets() -> list[tuple[str, str]]:
    desks = db.session.scalars(select(ServicePoint).order_by(ServicePoint.name))
    units = db.session.scalars(
        select(Unit).where(Unit.level != UnitLevel.VILLAGE).order_by(Unit.code)
    )
    return [(f"desk:{d.id}", f"{d.name} ({d.unit.name})") for d in desks] + [
        (f"unit:{u.id}", f"{u.code} {u.name}") for u in units
    ]


def _scopes() -> list[tuple[str, str]]:
    return [
        (RecipientScope.ALL.value, _("Each desk's alerts and the commune centre's pooled alerts")),
        (RecipientScope.DESKS.value, _("Only each desk's own alerts")),
        (RecipientScope.COMMUNE.value, _("Only the commune centre's pooled alerts")),
    ]


@bp.route("/alerts", methods=["GET", "POST"])
def alert_recipients() -> Any:
    values: dict[str, str] = {}
    if request.method == "POST":
        fields = ("name", "email", "target", "from", "to", "scope")
        values = {k: request.form.get(k, "") for k in fields}
        try:
            alerts.add_recipient(
                values["name"],
                values["email"],
                values["target"],
                values["from"],
                values["to"],
                values["scope"] or None,
            )
        except ServiceError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Recipient %(name)s added.", name=values["name"].strip()), "success")
            return redirect(url_for("admin.alert_recipients"))
    return render_template(
        "admin/alerts.html",
        recipients=alerts.recipients(),
        notifications=alerts.notifications(),
        targets=_targets(),
        values=values,
        scopes=_scopes(),
    )


@bp.route("/alerts/<int:recipient_id>/delete", methods=["POST"])
def delete_alert_recipient(recipient_id: int) -> Any:
    item = db.get_or_404(AlertRecipient, recipient_id)
    alerts.remove_recipient(item)
    db.session.commit()
    flash(_("Recipient removed."), "success")
    return redirect(url_for("admin.alert_recipients"))
