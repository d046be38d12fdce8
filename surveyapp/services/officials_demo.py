"""The officials' survey in the demo, kept apart from services.demo (which is rewritten
separately): one campaign on the PAR INDEX officials' instrument, a frame of eight agencies
(real agency names of Đồng Nai, fictitious people and e-mail addresses on example.gov.vn),
one code each, and answers from part of each agency, so the completion page has agencies
behind and the results page has estimates. Seeded, so the demo is the same every time.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from importlib import resources

import numpy as np
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign, Channel
from surveyapp.models.questionnaires import QuestionType
from surveyapp.services import officials, submissions

FRAME_FILE = "officials-frame-demo.csv"
NAME = "Điều tra xã hội học cán bộ, công chức lãnh đạo, quản lý (dữ liệu mô phỏng)"
SEED = 20241031
#: Share of each agency's officials who answer in the demo: some agencies fall behind.
ANSWER_RATE = {"SNV": 1.0, "STP": 0.85, "STC": 0.4, "SKHDT": 0.7, "STTTT": 0.9, "VPUB": 0.6,
               "BHOA": 0.8, "LKHANH": 0.5}  # fmt: skip


def load(today: date | None = None) -> Campaign:
    """Add the officials' demo and commit (answers are stored through the submission path,
    which writes on its own connection, so the frame and codes must be committed first).
    A second call returns the existing demo campaign."""
    existing = db.session.scalar(select(Campaign).where(Campaign.name == NAME))
    if existing is not None:
        return existing
    today = today or date.today()
    campaign = officials.create_campaign(
        NAME, today - timedelta(days=20), today + timedelta(days=40)
    )
    data = resources.files("surveyapp.instruments").joinpath(FRAME_FILE).read_bytes()
    officials.import_frame(campaign, data, FRAME_FILE)
    officials.issue_codes(campaign)
    db.session.commit()
    rng = np.random.default_rng(SEED)
    qn = campaign.questionnaire
    rated = [q for q in qn.questions if q.type in (QuestionType.SCALE10, QuestionType.YES_NO)]
    item_effect = {q.code: float(rng.normal(0.0, 0.8)) for q in rated}
    for agency in officials.agencies(campaign):
        level = float(rng.normal(7.2, 0.8))  # the agency's own view of reform, 0–10
        for person in agency.officials:
            invitation = person.invitation
            if invitation is None or rng.random() > ANSWER_RATE.get(agency.code, 0.7):
                continue
            answers: dict[str, int | str] = {"post": int(rng.integers(1, 5))}
            for q in rated:
                if rng.random() < 0.05:
                    continue  # an item left blank now and then
                mean = level + item_effect[q.code]
                if q.type == QuestionType.SCALE10:
                    answers[q.code] = int(np.clip(np.rint(rng.normal(mean, 1.4)), 0, 10))
                else:
                    answers[q.code] = 1 if rng.random() < min(0.98, mean / 10 + 0.15) else 2
            submissions.store(
                submissions.Submission(
                    campaign_id=campaign.id,
                    questionnaire_id=qn.id,
                    channel=Channel.WEB_INVITE,
                    nonce=secrets.token_hex(16),
                    answers=answers,
                    invitation_id=invitation.id,
                )
            )
    db.session.expire_all()
    return campaign
