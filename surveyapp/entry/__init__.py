"""Post Office enumerators and supervisors: paper-form work.

Enumerators key forms heads-down (``/entry/key``); supervisors also import the frame, draw the
sample, hand out batches, record each form's fate, reconcile double entry and import Excel.
"""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import func, select
from wtforms import ValidationError

from surveyapp.auth import require_roles, roles_required
from surveyapp.extensions import csrf, db
from surveyapp.models.campaigns import Campaign, CampaignChannel, CampaignStatus, Channel
from surveyapp.models.responses import Response
from surveyapp.models.sampling import Batch, Form, FormFate, SampleDraw
from surveyapp.models.users import Role, User
from surveyapp.services import (
    ServiceError,
    batches,
    entry,
    forms_print,
    frame,
    imports,
    reconciliation,
    sampling,
)

bp = Blueprint("entry", __name__)

DRAFT_KEY = "entry_draft"
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,19}$")


@bp.before_request
def keep_typed_answers() -> None:
    """A keyer whose login expired keeps what was typed: the POST is stashed in the session
    before the role check sends them to the login page, and the form re-opens with it."""
    if (
        request.method == "POST"
        and request.endpoint == "entry.key_form"
        and not current_user.is_authenticated
    ):
        values = {
            k: v[:1]
            for k, v in list(request.form.items())[:80]
            if _CODE.match(k) and k not in ("step", "keystrokes", "csrf_token") and v[:1].isdigit()
        }
        session[DRAFT_KEY] = {
            "serial": (request.view_args or {}).get("serial", ""),
            "values": values,
            "keystrokes": request.form.get("keystrokes", ""),
        }


require_roles(bp, "entry")
SUPERVISOR = roles_required(Role.SUPERVISOR)


def _paper_campaigns() -> list[Campaign]:
    stmt = (
        select(Campaign)
        .join(CampaignChannel)
        .where(CampaignChannel.channel == Channel.PAPER, Campaign.status == CampaignStatus.OPEN)
        .order_by(Campaign.id)
    )
    return list(db.session.scalars(stmt))


@bp.route("/")
def index() -> Any:
    open_campaigns = _paper_campaigns()
    keyed = dict(
        db.session.execute(
            select(Response.campaign_id, func.count())
            .where(Response.channel == Channel.PAPER)
            .group_by(Response.campaign_id)
        ).all()
    )
    mine = db.session.scalars(
        select(Batch).where(Batch.enumerator_id == current_user.id).order_by(Batch.id)
    ).all()
    return render_template(
        "entry/index.html",
        campaigns=open_campaigns,
        keyed=keyed,
        my_batches=mine,
        conflicts=len(reconciliation.conflicts()) if current_user.role == Role.SUPERVISOR else 0,
    )


# --- heads-down keying ---------------------------------------------------------------------


@bp.route("/key", methods=["GET", "POST"])
def key_serial() -> Any:
    error = None
    serial = ""
    if request.method == "POST":
        serial = request.form.get("serial", "").strip()
        try:
            form = entry.find_form(serial)
            entry.check_can_key(form, current_user)
        except ServiceError as exc:
            error = str(exc)
        else:
            return redirect(url_for("entry.key_form", serial=form.serial))
    saved = request.args.get("saved", "")
    return render_template(
        "entry/key_serial.html", error=error, serial=serial, saved=saved
    ), 422 if error else 200


def _draft_for(serial: str) -> dict[str, Any] | None:
    draft = session.get(DRAFT_KEY)
    if isinstance(draft, dict) and draft.get("serial") == serial:
        return draft
    return None


def _csrf_ok() -> bool:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (ValidationError, CSRFError):
        return False
    return True


@bp.route("/key/<serial>", methods=["GET", "POST"])
@csrf.exempt  # checked below, so that an expired session keeps the typed answers
def key_form(serial: str) -> Any:
    try:
        form = entry.find_form(serial)
    except ServiceError:
        abort(404)
    qn = form.campaign.questionnaire
    questions = entry.keyed_questions(qn)
    try:
        entry.check_can_key(form, current_user)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("entry.key_serial"))

    if request.method == "GET":
        draft = _draft_for(form.serial)
        if draft is None:
            return render_template(
                "entry/key_form.html", form=form, questions=questions, data={}, problems={}
            )
        session.pop(DRAFT_KEY, None)
        data: dict[str, Any] = dict(draft.get("values", {}))
        step, keystrokes = "review", str(draft.get("keystrokes", ""))
        restored = True
    else:
        data = {q.code: request.form.get(q.code, "") for q in questions}
        step = request.form.get("step", "review")
        keystrokes = request.form.get("keystrokes", "")
        restored = False
        if step == "save" and not _csrf_ok():
            flash(_("Your session was renewed: check the answers and save again."), "info")
            step = "review"
            restored = True

    values, problems = entry.parse_values(qn, data)
    if problems:
        return render_template(
            "entry/key_form.html", form=form, questions=questions, data=data, problems=problems
        ), 422
    if step != "save":
        return render_template(
            "entry/key_review.html",
            form=form,
            questions=questions,
            data=data,
            keystrokes=keystrokes,
            restored=restored,
        )
    strokes = int(keystrokes) if keystrokes.isdigit() and int(keystrokes) < 10_000 else None
    try:
        result = entry.save_keying(form, current_user, values, strokes or len(questions) + 1)
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("entry.key_serial"))
    db.session.commit()
    messages = {
        entry.EntryState.ONCE: _("Form %(serial)s saved: first entry.", serial=form.serial),
        entry.EntryState.FINAL: _(
            "Form %(serial)s saved: both entries agree, the response is final.", serial=form.serial
        ),
        entry.EntryState.CONFLICT: _(
            "Form %(serial)s saved: the entries differ, a verifier will decide.",
            serial=form.serial,
        ),
    }
    flash(messages[result.state], "success")
    return redirect(url_for("entry.key_serial", saved=form.serial))


# --- reconciliation and keyers -------------------------------------------------------------


@bp.route("/reconcile")
@SUPERVISOR
def reconcile_list() -> Any:
    return render_template("entry/reconcile_list.html", forms=reconciliation.conflicts())


@bp.route("/reconcile/<serial>", methods=["GET", "POST"])
@SUPERVISOR
def reconcile_form(serial: str) -> Any:
    try:
        form = entry.find_form(serial)
    except ServiceError:
        abort(404)
    if entry.state(form) != entry.EntryState.CONFLICT:
        flash(_("Form %(serial)s has nothing to reconcile.", serial=form.serial), "info")
        return redirect(url_for("entry.reconcile_list"))
    rows = reconciliation.comparison(form)
    first, second = entry.keyings(form)[:2]
    problems: dict[str, str] = {}
    if request.method == "POST":
        data = {}
        for row in rows:
            if row["differs"]:
                data[row["code"]] = request.form.get(row["code"], "")
            else:
                data[row["code"]] = str(row["first"] or 0)
        values, problems = entry.parse_values(form.campaign.questionnaire, data)
        if not problems:
            reconciliation.resolve(form, values, current_user.id)
            db.session.commit()
            flash(_("Form %(serial)s is final.", serial=form.serial), "success")
            return redirect(url_for("entry.reconcile_list"))
    return render_template(
        "entry/reconcile_form.html",
        form=form,
        rows=rows,
        first=first,
        second=second,
        problems=problems,
    ), 422 if problems else 200


@bp.route("/keyers")
@SUPERVISOR
def keyers() -> Any:
    return render_template("entry/keyers.html", rows=entry.keyer_stats())


# --- frame, draw, batches, fates ----------------------------------------------------------


@bp.route("/frame", methods=["GET", "POST"])
@SUPERVISOR
def frame_view() -> Any:
    problems: list[str] = []
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            problems = [_("Choose a CSV or XLSX file.")]
        else:
            try:
                count = frame.import_frame(upload.read(), upload.filename)
            except ServiceError as exc:
                db.session.rollback()
                problems = getattr(exc, "problems", [str(exc)])
            else:
                db.session.commit()
                flash(_("Imported %(n)d households.", n=count), "success")
                return redirect(url_for("entry.frame_view"))
    return render_template(
        "entry/frame.html", sizes=frame.sizes(), problems=problems
    ), 422 if problems else 200


DEFAULT_PLAN = """seed = 2025

[[stages]]
level = "district"
method = "all"

[[stages]]
level = "commune"
method = "pps"
n = 2

[[stages]]
level = "village"
method = "pps"
n = 1

[[stages]]
level = "household"
method = "srs"
n = 15
reserve = 3
"""


@bp.route("/draws", methods=["GET", "POST"])
@SUPERVISOR
def draws() -> Any:
    campaigns = _paper_campaigns()
    error = None
    plan_text = request.form.get("plan", DEFAULT_PLAN)
    if request.method == "POST":
        campaign = db.session.get(Campaign, request.form.get("campaign", type=int) or 0)
        seed_raw = request.form.get("seed", "").strip()
        try:
            if campaign is None:
                raise ServiceError(_("Choose a campaign."))
            stages, plan_seed = sampling.parse_plan(plan_text)
            seed = int(seed_raw) if seed_raw.isdigit() else plan_seed
            drawn = sampling.draw(campaign, stages, seed, current_user.id)
            made = batches.make_batches(campaign, drawn.id)
        except ServiceError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            db.session.commit()
            flash(
                _(
                    "Draw %(id)d: %(forms)d forms in %(batches)d batches.",
                    id=drawn.id,
                    forms=len(sampling.forms_of(drawn.id)),
                    batches=len(made),
                ),
                "success",
            )
            return redirect(url_for("entry.batches_view"))
    previous = db.session.scalars(select(SampleDraw).order_by(SampleDraw.id.desc())).all()
    counts = dict(
        db.session.execute(select(Form.draw_id, func.count()).group_by(Form.draw_id)).all()
    )
    return render_template(
        "entry/draws.html",
        campaigns=campaigns,
        plan=plan_text,
        error=error,
        draws=previous,
        counts=counts,
    ), 422 if error else 200


@bp.route("/batches", methods=["GET", "POST"])
@SUPERVISOR
def batches_view() -> Any:
    if request.method == "POST":
        batch = db.session.get(Batch, request.form.get("batch", type=int) or 0)
        if batch is None:
            abort(404)
        user_id = request.form.get("enumerator", type=int)
        user = db.session.get(User, user_id) if user_id else None
        if user is not None and user.role not in (Role.ENUMERATOR, Role.SUPERVISOR):
            abort(400)
        batches.assign(batch, user)
        db.session.commit()
        flash(_("Batch %(id)d assigned.", id=batch.id), "success")
        return redirect(url_for("entry.batches_view"))
    campaigns = _paper_campaigns()
    campaign = db.session.get(Campaign, request.args.get("campaign", type=int) or 0) or (
        campaigns[0] if campaigns else None
    )
    all_batches = (
        db.session.scalars(
            select(Batch).where(Batch.campaign_id == campaign.id).order_by(Batch.id)
        ).all()
        if campaign
        else []
    )
    enumerators = db.session.scalars(
        select(User)
        .where(User.role.in_([Role.ENUMERATOR, Role.SUPERVISOR]), User.active.is_(True))
        .order_by(User.username)
    ).all()
    rates = {
        by: batches.response_rates(campaign, by) if campaign else []
        for by in ("village", "enumerator", "batch")
    }
    return render_template(
        "entry/batches.html",
        campaign=campaign,
        campaigns=campaigns,
        batches=all_batches,
        enumerators=enumerators,
        rates=rates,
    )


@bp.route("/batches/<int:batch_id>", methods=["GET", "POST"])
def batch_view(batch_id: int) -> Any:
    batch = db.session.get(Batch, batch_id)
    if batch is None:
        abort(404)
    is_supervisor = current_user.role == Role.SUPERVISOR
    if not is_supervisor and batch.enumerator_id != current_user.id:
        abort(403)
    if request.method == "POST":
        changed = 0
        try:
            for form in batch.forms:
                raw = request.form.get(f"fate-{form.id}")
                if raw and raw != form.fate_now.value:
                    batches.set_fate(form, FormFate(raw))
                    changed += 1
        except (ServiceError, ValueError) as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("%(n)d fates recorded.", n=changed), "success")
        return redirect(url_for("entry.batch_view", batch_id=batch.id))
    states = {f.id: entry.state(f).value for f in batch.forms}
    villages = {f.household.village_id for f in batch.forms}
    draws = sorted({f.draw_id for f in batch.forms})
    reserves = [
        f
        for f in db.session.scalars(
            select(Form)
            .where(Form.reserve.is_(True), Form.draw_id.in_(draws))
            .order_by(Form.serial)
        )
        if f.household.village_id in villages
    ]
    return render_template(
        "entry/batch.html",
        batch=batch,
        fates=list(FormFate),
        states=states,
        reserves=reserves if is_supervisor else [],
    )


@bp.route("/batches/<int:batch_id>/replace/<int:form_id>", methods=["POST"])
@SUPERVISOR
def use_reserve(batch_id: int, form_id: int) -> Any:
    """Bring a reserve household of the batch's village into the sample, in this batch."""
    batch = db.session.get(Batch, batch_id)
    form = db.session.get(Form, form_id)
    if batch is None or form is None:
        abort(404)
    try:
        batches.release_reserve(form, batch)
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(
            _("Form %(serial)s replaces a household of this batch.", serial=form.serial), "success"
        )
    return redirect(url_for("entry.batch_view", batch_id=batch_id))


@bp.route("/batches/<int:batch_id>/print")
def batch_print(batch_id: int) -> Any:
    batch = db.session.get(Batch, batch_id)
    if batch is None:
        abort(404)
    if current_user.role != Role.SUPERVISOR and batch.enumerator_id != current_user.id:
        abort(403)
    return forms_print.render_forms(list(batch.forms), batch)


# --- Excel -------------------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@SUPERVISOR
def import_view() -> Any:
    campaigns = _paper_campaigns()
    problems: list[str] = []
    if request.method == "POST":
        campaign = db.session.get(Campaign, request.form.get("campaign", type=int) or 0)
        upload = request.files.get("file")
        if campaign is None or upload is None or not upload.filename:
            problems = [_("Choose a campaign and an XLSX or CSV file.")]
        else:
            try:
                responses = imports.import_responses(campaign, upload.read(), upload.filename)
            except ServiceError as exc:
                db.session.rollback()
                problems = getattr(exc, "problems", [str(exc)])
            else:
                db.session.commit()
                flash(_("Imported %(n)d responses.", n=len(responses)), "success")
                return redirect(url_for("entry.import_view"))
    return render_template(
        "entry/import.html", campaigns=campaigns, problems=problems
    ), 422 if problems else 200


@bp.route("/import/template/<int:campaign_id>.xlsx")
def import_template(campaign_id: int) -> Any:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return current_app.response_class(
        imports.template(campaign),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename=sipas-template-{campaign.id}.xlsx"},
    )
