"""Admin forms that change users and desks (every change is audited by its service)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from surveyapp.admin import bp
from surveyapp.extensions import db
from surveyapp.forms.admin import DeskForm, PasswordForm, UserForm, VolumeForm
from surveyapp.models.units import ServicePoint, Unit, UnitLevel
from surveyapp.models.users import Role, User
from surveyapp.services import ServiceError, desks, users

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.ANALYST: _l("Analyst"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.ENUMERATOR: _l("Enumerator"),
}


def _commit_or_flash(action: Any, success: str) -> bool:
    try:
        action()
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return False
    db.session.commit()
    flash(success, "success")
    return True


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> Any:
    form = UserForm()
    form.role.choices = [(r.value, str(ROLE_LABELS[r])) for r in Role]
    if form.validate_on_submit():
        created = _commit_or_flash(
            lambda: users.create_user(
                form.username.data,
                Role(form.role.data),
                form.password.data,
                form.full_name.data or "",
            ),
            _("User %(name)s created.", name=form.username.data.strip().lower()),
        )
        if created:
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
def toggle_user(user_id: int) -> Any:
    user = db.get_or_404(User, user_id)
    if user.id == current_user.id:
        flash(_("You cannot deactivate your own account."), "error")
    else:
        _commit_or_flash(
            lambda: users.set_active(user, not user.active),
            _("Account %(name)s updated.", name=user.username),
        )
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
def user_password(user_id: int) -> Any:
    user = db.get_or_404(User, user_id)
    form = PasswordForm()
    if form.validate_on_submit() and _commit_or_flash(
        lambda: users.set_password(user, form.password.data),
        _("Password of %(name)s changed.", name=user.username),
    ):
        return redirect(url_for("admin.users"))
    return render_template("admin/password_form.html", form=form, user=user)


def _unit_choices() -> list[tuple[int, str]]:
    stmt = select(Unit).where(Unit.level != UnitLevel.VILLAGE).order_by(Unit.code)
    return [(u.id, f"{u.code} {u.name}") for u in db.session.scalars(stmt)]


@bp.route("/desks/new", methods=["GET", "POST"])
def new_desk() -> Any:
    form = DeskForm()
    form.unit_id.choices = _unit_choices()
    if form.validate_on_submit():
        unit = db.get_or_404(Unit, form.unit_id.data)
        if _commit_or_flash(
            lambda: desks.create_desk(unit, form.name.data),
            _("Desk %(name)s created.", name=form.name.data.strip()),
        ):
            return redirect(url_for("admin.desks"))
    return render_template("admin/desk_form.html", form=form)


@bp.route("/desks/<int:desk_id>", methods=["GET", "POST"])
def desk(desk_id: int) -> Any:
    item = db.get_or_404(ServicePoint, desk_id)
    form = VolumeForm()
    if form.validate_on_submit() and _commit_or_flash(
        lambda: desks.record_volume(
            item, form.period_start.data, form.period_end.data, form.transactions.data
        ),
        _("Transaction volume saved."),
    ):
        return redirect(url_for("admin.desk", desk_id=item.id))
    return render_template("admin/desk.html", desk=item, form=form)


@bp.route("/desks/<int:desk_id>/active", methods=["POST"])
def toggle_desk(desk_id: int) -> Any:
    item = db.get_or_404(ServicePoint, desk_id)
    _commit_or_flash(lambda: desks.set_active(item, not item.active), _("Desk updated."))
    return redirect(url_for("admin.desk", desk_id=item.id))


@bp.route("/desks/<int:desk_id>/new-link", methods=["POST"])
def new_desk_link(desk_id: int) -> Any:
    item = db.get_or_404(ServicePoint, desk_id)
    _commit_or_flash(
        lambda: desks.new_link(item),
        _("The desk has a new survey link; reprint its QR sheet."),
    )
    return redirect(url_for("admin.desk", desk_id=item.id))
