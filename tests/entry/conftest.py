"""Paper-channel fixtures: a generated frame under the ``campaign`` fixture's province."""

from __future__ import annotations

import pytest
from paper_support import PLAN, build_units, frame_csv

from surveyapp.extensions import db


@pytest.fixture(autouse=True)
def request_context(app, request):  # type: ignore[no-untyped-def]
    """Services translate their messages, which needs a request (Vietnamese by default).
    Command-line tests run without one, as the real command line does."""
    if "runner" in request.fixturenames:
        yield
        return
    with app.test_request_context():
        yield


@pytest.fixture
def frame_units(campaign):  # type: ignore[no-untyped-def]
    villages = build_units(campaign.units[0])
    db.session.commit()
    return villages


@pytest.fixture
def paper(campaign, frame_units):  # type: ignore[no-untyped-def]
    """The campaign with a frame, a draw (PLAN) and batches; returns (campaign, draw)."""
    from surveyapp.services import batches, frame, sampling

    frame.import_frame(frame_csv(frame_units), "frame.csv")
    stages, seed = sampling.parse_plan(PLAN)
    draw = sampling.draw(campaign, stages, seed)
    batches.make_batches(campaign, draw.id)
    db.session.commit()
    return campaign, draw
