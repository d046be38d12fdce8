"""A keyed paper form falls in the wave of the local day it is keyed on (issue 14): keyed at
06:30 on a wave's first day in Đồng Nai, 23:30 UTC the day before, it is that wave's, and the
dashboard's period filter counts it there."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from paper_support import answers

from surveyapp import localtime
from surveyapp.extensions import db
from surveyapp.models import CampaignPeriod
from surveyapp.services import entry, sampling


@pytest.mark.parametrize(
    ("offset", "wave"),
    [(timedelta(hours=6, minutes=30), "Đợt 2"), (-timedelta(seconds=1), "Đợt 1")],
)
def test_a_form_keyed_around_local_midnight_is_in_that_day_s_wave(
    paper, monkeypatch, offset, wave
) -> None:
    campaign, draw = paper
    second = campaign.starts + timedelta(days=5)
    first_wave = CampaignPeriod(
        campaign_id=campaign.id,
        name="Đợt 1",
        starts=campaign.starts,
        ends=second - timedelta(days=1),
    )
    second_wave = CampaignPeriod(
        campaign_id=campaign.id, name="Đợt 2", starts=second, ends=campaign.ends
    )
    db.session.add_all([first_wave, second_wave])
    db.session.commit()
    moment = localtime.day_start(second) + offset
    assert moment.tzinfo is UTC and (offset < timedelta(0) or moment.date() < second)
    monkeypatch.setattr(entry, "utcnow", lambda: moment)
    form = next(f for f in sampling.forms_of(draw.id) if not f.reserve)
    response = entry.finalise(form, answers(campaign.questionnaire, 4))
    db.session.commit()
    expected = second_wave if wave == "Đợt 2" else first_wave
    assert response.period_id == expected.id
