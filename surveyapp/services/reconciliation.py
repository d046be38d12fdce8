"""The verifier's side of double entry: both values per field, a decision, an audit entry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from surveyapp.extensions import db
from surveyapp.models.entry import Keying
from surveyapp.models.responses import Response
from surveyapp.models.sampling import Form
from surveyapp.services import ServiceError, audit
from surveyapp.services.entry import (
    differences,
    final_response,
    finalise,
    keyed_questions,
    keyings,
)


def conflicts(campaign_id: int | None = None) -> list[Form]:
    """Forms keyed twice whose entries differ and that have no final response yet."""
    twice = (
        select(Keying.form_id).group_by(Keying.form_id).having(func.count(Keying.id) >= 2)
    ).subquery()
    stmt = select(Form).where(Form.id.in_(select(twice.c.form_id))).order_by(Form.serial)
    if campaign_id is not None:
        stmt = stmt.where(Form.campaign_id == campaign_id)
    return [f for f in db.session.scalars(stmt) if final_response(f) is None]


def comparison(form: Form) -> list[dict[str, Any]]:
    """One row per keyed item: the two keyers' values and whether they differ."""
    first, second = keyings(form)[:2]
    return [
        {
            "code": q.code,
            "question": q,
            "first": first.values.get(q.code),
            "second": second.values.get(q.code),
            "differs": first.values.get(q.code) != second.values.get(q.code),
        }
        for q in keyed_questions(form.campaign.questionnaire)
    ]


def resolve(form: Form, chosen: Mapping[str, int | None], verifier_id: int | None) -> Response:
    """Make ``chosen`` the final values, count each keyer's errors, audit the decision."""
    db.session.execute(
        update(Form)
        .where(Form.id == form.id)
        .values(entry_version=Form.entry_version + 1)
        .execution_options(synchronize_session=False)
    )
    if final_response(form) is not None:
        raise ServiceError(_("Form %(serial)s is already final.", serial=form.serial))
    entries = keyings(form)
    if len(entries) < 2:
        raise ServiceError(_("Form %(serial)s has not been keyed twice.", serial=form.serial))
    first, second = entries[:2]
    final = dict(chosen)
    for entry in (first, second):
        entry.errors = len(differences(entry.values, final))
    response = finalise(form, final)
    audit.record(
        "reconcile",
        "form",
        form.serial,
        before={
            "keyings": {
                str(first.keyer_id): first.values,
                str(second.keyer_id): second.values,
            },
            "differences": differences(first.values, second.values),
        },
        after={"values": final, "response_id": response.id},
        user_id=verifier_id,
    )
    return response
