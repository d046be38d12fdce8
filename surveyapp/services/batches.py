"""Batches of forms per enumerator, each form's fate, and live response rates."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import String, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from surveyapp.data import queries, respondents
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.entry import Keying
from surveyapp.models.invitations import Invitation
from surveyapp.models.responses import Response
from surveyapp.models.sampling import Batch, Form, FormFate, Household, fate_now
from surveyapp.models.units import Unit
from surveyapp.models.users import User
from surveyapp.services import ServiceError, audit, levels
from surveyapp.services.entry import nonce_for

RESPONDED = (FormFate.RETURNED, FormFate.ANSWERED_ONLINE)


BATCH_NAME_LENGTH: int = cast(String, Batch.__table__.c.name.type).length or 100


def make_batches(campaign: Campaign, draw_id: int, per_batch: int = 20) -> list[Batch]:
    """Bundle a draw's unbatched main forms by village, at most ``per_batch`` forms each."""
    forms = db.session.scalars(
        select(Form)
        .join(Household)
        .where(Form.draw_id == draw_id, Form.batch_id.is_(None), Form.reserve.is_(False))
        .options(selectinload(Form.household).selectinload(Household.village))
        .order_by(Form.serial)
    ).all()
    by_village: dict[str, list[Form]] = defaultdict(list)
    for form in forms:
        by_village[form.household.village.code].append(form)
    batches = []
    for code in sorted(by_village):
        group = by_village[code]
        village = group[0].household.village
        for start in range(0, len(group), per_batch):
            # A village's name may fill its own 200-character column; the batch's label is
            # shorter, so it is cut to fit (the code at its start keeps it unique).
            name = f"{code} {village.name}"[:BATCH_NAME_LENGTH]
            batch = Batch(campaign=campaign, name=name)
            batch.forms = group[start : start + per_batch]
            batches.append(batch)
    db.session.add_all(batches)
    db.session.flush()
    return batches


def assign(batch: Batch, enumerator: User | None) -> None:
    before = batch.enumerator.username if batch.enumerator else None
    batch.enumerator = enumerator
    for form in batch.forms:
        if enumerator is not None and form.fate == FormFate.PRINTED:
            form.set_fate(FormFate.HANDED_OUT)
    audit.record(
        "assign",
        "batch",
        batch.id,
        before={"enumerator": before},
        after={"enumerator": enumerator.username if enumerator else None},
    )


def set_fate(form: Form, fate: FormFate) -> None:
    if form.fate_now == FormFate.ANSWERED_ONLINE and fate != FormFate.ANSWERED_ONLINE:
        raise ServiceError(_("This household answered online."))
    if fate == FormFate.ANSWERED_ONLINE and (form.invitation is None or not form.invitation.used):
        raise ServiceError(_("The invitation of this form has not been used online."))
    if form.fate == fate:
        return
    audit.record(
        "fate", "form", form.serial, before={"fate": form.fate.value}, after={"fate": fate.value}
    )
    form.set_fate(fate)


def release_reserve(form: Form, batch: Batch | None = None) -> None:
    """Bring a reserve household into the sample (replacing one that could not be reached),
    optionally into a batch, handed out if the batch has an enumerator."""
    if not form.reserve:
        raise ServiceError(_("Form %(serial)s is not a reserve.", serial=form.serial))
    form.reserve = False
    if batch is not None:
        form.batch = batch
        if batch.enumerator_id is not None and form.fate == FormFate.PRINTED:
            form.set_fate(FormFate.HANDED_OUT)
    audit.record(
        "release",
        "form",
        form.serial,
        before={"reserve": True},
        after={"reserve": False, "batch": batch.id if batch else None},
    )


def response_rates(
    campaign: Campaign, by: str, unit_ids: tuple[int, ...] | None = None
) -> list[dict[str, Any]]:
    """Per village, enumerator, batch or administrative level (``by`` a level of
    :mod:`.levels`: ``commune``, ``region``, ``district`` on the historical structure):
    forms by fate and the response rate.

    ``unit_ids`` keeps the forms of households in those villages only.

    A form responded when its household's response is in (:mod:`surveyapp.data.respondents`)
    or its fate says so before the answers are (returned, not keyed yet; answered online).
    """
    village = aliased(Unit)
    # One row per form, the columns only: read on every dashboard view, and ORM objects for
    # a few thousand forms with their households, villages, batches and invitations cost
    # more than the whole report's estimation.
    stmt = (
        select(
            Form.id,
            Form.fate,
            Invitation.used_at,
            Household.village_id,
            village.code,
            village.name,
            Batch.id,
            Batch.name,
            User.username,
        )
        .join(Household, Household.id == Form.household_id)
        .join(village, village.id == Household.village_id)
        .outerjoin(Invitation, Invitation.id == Form.invitation_id)
        .outerjoin(Batch, Batch.id == Form.batch_id)
        .outerjoin(User, User.id == Batch.enumerator_id)
        .where(Form.campaign_id == campaign.id, Form.reserve.is_(False))
    )
    if unit_ids is not None:
        stmt = stmt.where(Household.village_id.in_(unit_ids))
    forms = db.session.execute(stmt).all()
    responded = respondents.responded_form_ids(campaign.id)
    places = queries.level_labels(by) if by not in ("village", "enumerator", "batch") else {}
    groups: dict[str, dict[str, Any]] = {}
    for form_id, fate, used_at, village_id, code, name, batch_id, batch, username in forms:
        if by == "village":
            key = f"{code} {name}"
        elif by == "enumerator":
            key = username or "–"
        elif by == "batch":
            key = f"{batch_id}. {batch}" if batch_id is not None else "–"
        else:
            key = places.get(village_id, "–")
        row = groups.setdefault(
            key, {"key": key, "selected": 0, "responded": 0, **{f.value: 0 for f in FormFate}}
        )
        row["selected"] += 1
        now = fate_now(FormFate(fate), used_at)
        answered = form_id in responded or now in RESPONDED
        if form_id in responded and now in (FormFate.PRINTED, FormFate.HANDED_OUT):
            now = FormFate.RETURNED
        row[now.value] += 1
        row["responded"] += answered
    out = sorted(groups.values(), key=lambda r: r["key"])
    for row in out:
        row["rate"] = row["responded"] / row["selected"] if row["selected"] else None
    return out


def response_rate_summary(
    campaign: Campaign, unit_ids: tuple[int, ...] | None = None, by: str | None = None
) -> dict[str, Any]:
    """Response rates of the paper sample per ``by`` level (default: the campaign's
    breakdown level, :func:`levels.default`) and in total, for the dashboard.

    The rate is responded / selected main-sample forms (reserves released into the sample
    count once they are); forms still out in the field count as not yet responded.
    """
    by = by or levels.default(campaign)
    rows = response_rates(campaign, by, unit_ids) if by else []
    total: dict[str, Any] = {"key": None}
    for row in rows:
        for name, value in row.items():
            if name not in ("key", "rate"):
                total[name] = total.get(name, 0) + value
    selected = total.get("selected", 0)
    total["rate"] = total.get("responded", 0) / selected if selected else None
    return {"rows": rows, "total": total, "by": by, "without_form": _without_form(campaign)}


def _without_form(campaign: Campaign) -> int:
    """Final paper-sample responses that match no form drawn here (keyed from an outside
    fieldwork or imported before its draw): they count in the estimates but
    cannot count in a response rate."""
    serials = select(Form.serial).where(Form.campaign_id == campaign.id)
    stmt = select(func.count()).where(
        # The probability sample only: a standalone invitation's answer has no form to
        # match and is not in the estimates either (it is the invited sample).
        *queries.final(campaign, queries.SAMPLES["probability"]),
        or_(Response.serial.is_(None), Response.serial.not_in(serials)),
    )
    return int(db.session.scalar(stmt) or 0)


FORM_COLUMNS = [
    "serial",
    "batch",
    "batch_name",
    "enumerator",
    "village",
    "household",
    "reserve",
    "fate",
    "keyed",
    "entry",
]


def form_rows(campaign: Campaign, batch_id: int | None = None) -> list[dict[str, Any]]:
    """The campaign's printed forms (or one batch's), for a supervisor: serial, batch and its
    enumerator, the household, the fate, whether it is keyed (has its final response) and
    its double-entry state (open, once, conflict, final).

    Raises :class:`ServiceError` when ``batch_id`` is not a batch of the campaign.
    """
    stmt = (
        select(Form)
        .where(Form.campaign_id == campaign.id)
        .options(
            selectinload(Form.household).selectinload(Household.village),
            selectinload(Form.batch).selectinload(Batch.enumerator),
            selectinload(Form.invitation),
        )
        .order_by(Form.serial)
    )
    if batch_id is not None:
        batch = db.session.get(Batch, batch_id)
        if batch is None or batch.campaign_id != campaign.id:
            raise ServiceError(
                _(
                    "Campaign %(campaign)d has no batch %(batch)d.",
                    campaign=campaign.id,
                    batch=batch_id,
                )
            )
        stmt = stmt.where(Form.batch_id == batch_id)
    forms = db.session.scalars(stmt).all()
    final = set(
        db.session.scalars(
            select(Response.nonce).where(
                Response.campaign_id == campaign.id, Response.nonce.like("paper-%")
            )
        )
    )
    entries = dict(
        db.session.execute(
            select(Keying.form_id, func.count())
            .join(Form, Form.id == Keying.form_id)
            .where(Form.campaign_id == campaign.id)
            .group_by(Keying.form_id)
        ).all()
    )
    rows = []
    for form in forms:
        keyed = nonce_for(form.serial) in final
        n = entries.get(form.id, 0)
        enumerator = form.batch.enumerator if form.batch else None
        rows.append(
            {
                "serial": form.serial,
                "batch": form.batch_id,
                "batch_name": form.batch.name if form.batch else None,
                "enumerator": enumerator.username if enumerator else None,
                "village": form.household.village.code,
                "household": form.household.code,
                "reserve": form.reserve,
                "fate": form.fate_now.value,
                "keyed": keyed,
                "entry": "final" if keyed else ("open", "once")[n] if n < 2 else "conflict",
            }
        )
    return rows
