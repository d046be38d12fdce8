"""Which household responded: the one rule, in SQL.

A selected household responded when a final response of its campaign belongs to its form:
the response carries the form's serial (keyed on paper by
:func:`surveyapp.services.entry.finalise`, which the paper import calls too; answered online,
the submission copies the form's serial and design) or it is the response its invitation
recorded. Held responses are left out as the report leaves them out (only desk ratings are
ever held, so no household's is).

The export (which form a row belongs to, ``nr_factor``, the non-respondent rows), the
report's non-response factors (:func:`surveyapp.data.queries.nonresponse_factors`) and the
fieldwork response rates (:func:`surveyapp.services.batches.response_rates`) all read it
from here.
"""

from __future__ import annotations

from sqlalchemy import CompoundSelect, select, union
from sqlalchemy.sql import ColumnElement

from surveyapp.extensions import db
from surveyapp.models.invitations import Invitation
from surveyapp.models.responses import Response, ResponseStatus
from surveyapp.models.sampling import Form


def form_responses(campaign_id: int) -> CompoundSelect[int, int]:
    """``(form_id, response_id)`` of every final response that belongs to a form."""
    final = (
        Response.campaign_id == campaign_id,
        Response.status == ResponseStatus.FINAL,
        Response.held.is_(False),
    )
    by_serial = (
        select(Form.id.label("form_id"), Response.id.label("response_id"))
        .join(Response, Response.serial == Form.serial)
        # Implied by the join, but written out: SQLite uses the partial index
        # ix_responses_serial only when the query states its predicate.
        .where(Form.campaign_id == campaign_id, Response.serial.is_not(None), *final)
    )
    by_invitation = (
        select(Form.id.label("form_id"), Response.id.label("response_id"))
        .join(Invitation, Invitation.id == Form.invitation_id)
        .join(Response, Response.id == Invitation.response_id)
        .where(Form.campaign_id == campaign_id, *final)
    )
    return union(by_serial, by_invitation)


def responded(campaign_id: int) -> ColumnElement[bool]:
    """SQL condition on :class:`~surveyapp.models.sampling.Form`: its household responded."""
    pairs = form_responses(campaign_id).subquery()
    return Form.id.in_(select(pairs.c.form_id))


def responded_form_ids(campaign_id: int) -> set[int]:
    """Ids of the campaign's forms whose household responded."""
    pairs = form_responses(campaign_id).subquery()
    return set(db.session.scalars(select(pairs.c.form_id).distinct()))


def form_of_response(campaign_id: int) -> dict[int, int]:
    """Form id by response id, for the final responses that belong to a form."""
    return {
        response_id: form_id
        for form_id, response_id in db.session.execute(form_responses(campaign_id)).all()
    }


__all__ = ["form_of_response", "form_responses", "responded", "responded_form_ids"]
