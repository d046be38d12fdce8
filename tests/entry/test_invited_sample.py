"""An online answer with a drawn form's code stays in the probability sample; one with a
standalone code is the invited sample (DESIGN §4), end to end through ``/i/<code>``."""

from __future__ import annotations

import re

from sqlalchemy import select

from surveyapp.data import queries
from surveyapp.extensions import db
from surveyapp.models import Response
from surveyapp.models.sampling import Form
from surveyapp.services import campaigns, exports, invitations

NONCE = re.compile(r'name="nonce"[^>]*value="([^"]+)"')


def _answer(client, code: str) -> None:  # type: ignore[no-untyped-def]
    url = f"/i/{code}"
    nonce = NONCE.search(client.get(url).get_data(as_text=True))
    assert nonce is not None
    assert client.post(url, data={"nonce": nonce.group(1), "q1": "4"}).status_code == 303


def test_form_tied_and_standalone_codes_fall_in_their_own_samples(paper, client) -> None:
    campaign, draw = paper
    form = db.session.scalars(
        select(Form).where(Form.draw_id == draw.id, Form.reserve.is_(False)).order_by(Form.id)
    ).first()
    [standalone] = invitations.create(campaign, 1)
    db.session.commit()
    _answer(client, form.invitation.code)
    _answer(client, standalone.code)

    def count(sample: str) -> int:
        return campaigns.final_counts_by_channel(campaign, queries.SAMPLES[sample])

    assert (count("probability"), count("invited"), count("convenience")) == (1, 1, 0)
    tied = db.session.scalar(select(Response.id).where(Response.serial == form.serial))
    assert [r["response_id"] for r in exports.rows(campaign, sample="probability")] == [tied]
    [row] = exports.rows(campaign, sample="invited")
    assert row["response_id"] != tied and row["weight"] is None and row["fate"] is None
