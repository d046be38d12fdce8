"""The demo leaves a drawn paper sample with at least 20 printed forms not yet keyed."""

from __future__ import annotations

from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Form, Household, Keying, Response
from surveyapp.services import campaigns, entry, reconciliation


def test_demo_has_frame_draw_batches_and_unkeyed_forms(demo_data) -> None:
    assert db.session.scalar(select(func.count()).select_from(Household)) > 5000
    forms = db.session.scalars(select(Form).where(Form.reserve.is_(False))).all()
    assert len(forms) == 11 * 2 * 3
    open_forms = [f for f in forms if entry.state(f) == entry.EntryState.OPEN]
    assert len(open_forms) >= 20
    assert all(f.batch is not None and f.batch.enumerator is not None for f in forms)
    assert db.session.scalar(select(func.count()).select_from(Keying)) == 5
    assert len(reconciliation.conflicts()) == 1
    summary = {c["id"]: c for c in campaigns.summaries()}[demo_data.campaign_id]
    assert summary["responses"] == demo_data.responses
    assert (
        db.session.scalar(
            select(func.count()).select_from(Response).where(Response.nonce.like("paper-%"))
        )
        == 0
    )
