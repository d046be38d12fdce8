"""The per-response bit masks the dashboard's cell query reads instead of the answer rows."""

from __future__ import annotations

import json

import numpy as np
from sqlalchemy import delete, func, select

from surveyapp.data import bits, queries
from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    Campaign,
    Channel,
    QuestionType,
    Response,
    ResponseBits,
    ResponseStatus,
)
from surveyapp.services import backup, campaigns, reports


def _campaign(demo_data) -> Campaign:
    return db.session.get(Campaign, demo_data.campaign_id)


def _masks(layout: bits.Layout, ids: list[int]) -> list[np.ndarray]:
    """One int64 array per block, in the order of ``ids``."""
    stored = {
        (rid, block): value
        for rid, block, value in db.session.execute(
            select(ResponseBits.response_id, ResponseBits.block, ResponseBits.bits).where(
                ResponseBits.layout == layout.id
            )
        )
    }
    return [
        np.array([stored[(rid, j)] for rid in ids], dtype=np.int64) for j in range(layout.blocks)
    ]


def test_bits_say_what_the_answers_say(demo_data) -> None:
    """Every rated item's answered/satisfied bit and every single-choice answer, decoded from
    the stored masks, equals the answer rows, for every final response of the demo."""
    campaign = _campaign(demo_data)
    qn = campaign.questionnaire
    layout = bits.layout_for(qn)
    # SIPAS: 33 items × 2 bits plus the demographics' options: more than one block.
    assert layout.blocks >= 2
    bits.fill(campaign, layout)
    questions = [q for q in qn.questions if q.type in (QuestionType.LIKERT5, QuestionType.SINGLE)]
    frame = queries.response_frame(campaign, list(Channel), questions)
    # every final response of the campaign
    assert len(frame) == (campaigns.final_counts()[campaign.id])
    masks = _masks(layout, frame["response_id"].tolist())
    satisfied = {int(v) for v in qn.satisfied_values}
    checked = 0
    for q in questions:
        answers = frame[q.code].to_numpy()
        if q.type == QuestionType.LIKERT5:
            answered = bits.decode(masks, layout.position(q.code, bits.ANSWERED))
            good = bits.decode(masks, layout.position(q.code, bits.SATISFIED))
            np.testing.assert_array_equal(answered, ~np.isnan(answers))
            np.testing.assert_array_equal(good, np.isin(answers, list(satisfied)))
        else:
            np.testing.assert_array_equal(bits.decode_value(layout, masks, q.code), answers)
        checked += 1
    assert checked == len(questions) >= 39


def test_fill_folds_each_response_once(demo_data) -> None:
    campaign = _campaign(demo_data)
    layout = bits.layout_for(campaign.questionnaire)
    # Bits do not depend on the status: voided responses are folded too (a void changes
    # nothing stored).
    # The responses to the layout's questionnaire (a desk rating's form has its own).
    responses = db.session.scalar(
        select(func.count())
        .select_from(Response)
        .where(
            Response.campaign_id == campaign.id,
            Response.questionnaire_id == campaign.questionnaire_id,
        )
    )
    assert bits.fill(campaign, layout) == responses
    rows = db.session.scalar(select(func.count()).select_from(ResponseBits))
    assert rows == responses * layout.blocks
    assert bits.fill(campaign, layout) == 0  # nothing left: no duplicate rows, no error
    assert db.session.scalar(select(func.count()).select_from(ResponseBits)) == rows
    # Another layout (another questionnaire, or a change to the bits module) has rows of its
    # own and never reads these.
    other = bits.Layout("0" * 16, layout.bits, layout.satisfied, layout.questionnaire_id)
    assert bits.fill(campaign, other) == responses
    assert db.session.scalar(select(func.count()).select_from(ResponseBits)) == 2 * rows


def test_a_response_committed_late_with_a_lower_id_is_still_folded(app, demo_data) -> None:
    """The process only looks above the last id it folded while the responses below are
    unchanged; a transaction that commits a lower id after a fill must still be found."""
    campaign = _campaign(demo_data)
    layout = bits.layout_for(campaign.questionnaire)
    bits.fill(campaign, layout)
    late = db.session.scalars(
        select(Response).where(Response.campaign_id == campaign.id).order_by(Response.id)
    ).first()
    row = {c.name: getattr(late, c.key) for c in Response.__table__.columns}
    answers = [(a.question_id, a.value, a.text) for a in late.answers]
    db.session.execute(delete(Answer).where(Answer.response_id == late.id))
    db.session.execute(delete(Response).where(Response.id == late.id))
    db.session.commit()
    db.session.expire_all()
    assert bits.fill(campaign, layout) == 0  # nothing new; the process now knows one less
    # The same id comes back, as a late commit would: below the last id folded.
    db.session.execute(Response.__table__.insert().values(**row))
    db.session.execute(
        Answer.__table__.insert(),
        [
            {"response_id": row["id"], "question_id": q, "value": v, "text": t}
            for q, v, t in answers
        ],
    )
    db.session.commit()
    assert bits.fill(campaign, layout) == 1
    stored = db.session.scalar(
        select(func.count()).select_from(ResponseBits).where(ResponseBits.response_id == row["id"])
    )
    assert stored == layout.blocks


def test_a_new_response_is_folded_and_counted_by_the_next_report(demo_data) -> None:
    campaign = _campaign(demo_data)
    sample = reports.SAMPLES["convenience"]
    # A filtered report reads the rows through their bits (an unfiltered one reads the desk
    # tallies, tests/test_tallies.py).
    qr = queries.Filters(channel=Channel.QR)
    before = reports.build(campaign, sample="convenience", filters=qr)
    source = db.session.scalars(
        select(Response).where(Response.campaign_id == campaign.id, Response.channel == Channel.QR)
    ).first()
    assert source is not None
    # A QR rating that is dissatisfied on every rated item it answers.
    clone = Response(
        campaign_id=campaign.id,
        questionnaire_id=source.questionnaire_id,
        channel=Channel.QR,
        status=ResponseStatus.FINAL,
        nonce="bits-test",
        service_point_id=source.service_point_id,
        unit_id=source.unit_id,
        flags=[],
    )
    clone.answers = [
        Answer(question_id=q.id, value=1)
        for q in campaign.questionnaire.questions
        if q.type == QuestionType.LIKERT5
    ]
    db.session.add(clone)
    db.session.commit()
    after = reports.build(campaign, sample="convenience", filters=qr)
    assert after.design["n"] == before.design["n"] + 1
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(ResponseBits)
            .where(ResponseBits.response_id == clone.id)
        )
        == bits.layout_for(campaign.questionnaire).blocks
    )
    old = {r["code"]: r["estimate"] for r in before.rows() if r["level"] == "item"}
    new = {r["code"]: r["estimate"] for r in after.rows() if r["level"] == "item"}
    # Weighted to desk volumes, so not a plain count, but every item's share must fall.
    assert all(new[code] < old[code] for code in old)
    # The SQL cell sums still equal the rows' (the report path the tests pin elsewhere).
    frame = reports.frame_for(campaign, sample)
    rows = reports.run(campaign, frame, sample)
    cells = reports.run_cells(campaign, sample)
    for a, b in zip(rows.estimates, cells.estimates, strict=True):
        assert np.isclose(a.estimate, b.estimate, rtol=1e-9, atol=1e-12)


def test_bits_go_with_their_response(demo_data) -> None:
    campaign = _campaign(demo_data)
    bits.fill(campaign, bits.layout_for(campaign.questionnaire))
    victim = db.session.scalars(
        select(ResponseBits.response_id).where(ResponseBits.block == 0).limit(1)
    ).one()
    db.session.execute(delete(Answer).where(Answer.response_id == victim))
    db.session.execute(delete(Response).where(Response.id == victim))
    db.session.commit()
    left = db.session.scalar(
        select(func.count()).select_from(ResponseBits).where(ResponseBits.response_id == victim)
    )
    assert left == 0


def test_backups_leave_the_cache_out(demo_data) -> None:
    campaign = _campaign(demo_data)
    bits.fill(campaign, bits.layout_for(campaign.questionnaire))
    assert db.session.scalar(select(func.count()).select_from(ResponseBits)) > 0
    # the backup's header lists the tables it holds, with their row counts
    tables = set(json.loads(next(backup.dump_lines()))["tables"])
    assert "response_bits" not in tables and "responses" in tables
