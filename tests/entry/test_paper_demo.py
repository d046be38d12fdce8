"""The demo's paper sample: drawn, batched, partly keyed, with at least 20 printed forms not
yet keyed."""

from __future__ import annotations

from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import (
    Channel,
    Form,
    FormFate,
    Household,
    Keying,
    Response,
    Unit,
    UnitLevel,
)
from surveyapp.services import campaigns, demo, entry, reconciliation


def test_demo_has_frame_draw_batches_and_unkeyed_forms(demo_data) -> None:
    # Every village has a household list of at least the demo's smallest size (the sizes
    # themselves are drawn at random).
    villages = db.session.scalars(select(Unit).where(Unit.level == UnitLevel.VILLAGE)).all()
    least = sum(
        (demo.NEW_FRAME_HOUSEHOLDS if v.valid_from else demo.FRAME_HOUSEHOLDS)[0] for v in villages
    )
    assert villages and db.session.scalar(select(func.count()).select_from(Household)) >= least
    forms = db.session.scalars(select(Form).where(Form.reserve.is_(False))).all()
    assert forms and all(f.fate != FormFate.PRINTED for f in forms)
    open_forms = [f for f in forms if entry.state(f) == entry.EntryState.OPEN]
    assert len(open_forms) >= 20
    assert all(f.batch is not None and f.batch.enumerator is not None for f in forms)
    # Three forms keyed once (enumerator2 can finish them) and one conflict to reconcile.
    once = [f for f in forms if entry.state(f) == entry.EntryState.ONCE]
    assert len(once) == 3 and all(entry.keyings(f)[0].keyer.username == "enumerator1" for f in once)
    assert len(reconciliation.conflicts()) == 1
    assert sum(c["responses"] for c in campaigns.summaries()) == demo_data.responses
    # Every paper response is a form's final response, some by double entry, some imported.
    paper = db.session.scalars(select(Response).where(Response.channel == Channel.PAPER)).all()
    assert paper and all(r.nonce == entry.nonce_for(r.serial) for r in paper)
    double = {k.form_id for k in db.session.scalars(select(Keying))}
    finals = [f for f in forms if entry.state(f) == entry.EntryState.FINAL]
    assert any(f.id in double for f in finals) and any(f.id not in double for f in finals)
