"""A household that answers online with its form's invitation stays in the probability sample."""

from __future__ import annotations

import re

from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Channel, Response
from surveyapp.models.sampling import Form


def test_online_answer_keeps_the_forms_design(paper, client) -> None:
    _campaign, draw = paper
    form = db.session.scalars(
        select(Form).where(Form.draw_id == draw.id, Form.reserve.is_(False)).order_by(Form.id)
    ).first()
    url = f"/i/{form.invitation.code}"
    page = client.get(url).get_data(as_text=True)
    nonce = re.search(r'name="nonce"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="nonce"', page
    )
    assert nonce is not None
    response = client.post(url, data={"nonce": nonce.group(1), "q1": "4", "q20": "2"})
    assert response.status_code == 303
    stored = db.session.scalars(select(Response)).one()
    assert stored.channel == Channel.WEB_INVITE
    assert (stored.stratum, stored.psu, stored.ssu) == (form.stratum, form.psu, form.ssu)
    assert stored.weight == form.weight and stored.fpc1 == form.fpc1 and stored.fpc2 == form.fpc2
    assert stored.serial == form.serial
    assert stored.unit_id == form.household.village.parent_id
    db.session.refresh(form)
    assert form.invitation.used_at is not None
