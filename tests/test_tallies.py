"""The desk ratings' running tallies stay equal to a count from scratch, whatever happens to
the responses, and the report read from them equals the report read from the rows."""

from __future__ import annotations

import random
from collections import defaultdict

import numpy as np
import pytest
from sqlalchemy import insert, select, update

from surveyapp.data import bits, queries, tallies
from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    Campaign,
    Channel,
    Questionnaire,
    QuestionType,
    Response,
    ResponseStatus,
    ServicePoint,
    TallyCell,
)
from surveyapp.services import reports
from surveyapp.services.reports import cells as report_cells


def _current(demo_data) -> Campaign:
    return db.session.get(Campaign, demo_data.current_campaign_id)


def _tallied(r: Response) -> bool:
    """The rule, spelled out: final, not held out, a QR or kiosk rating, or an answer to a
    standalone invitation code (no design weight)."""
    if r.status != ResponseStatus.FINAL or r.held:
        return False
    if r.channel == Channel.WEB_INVITE:
        return r.weight is None
    return r.channel in (Channel.QR, Channel.KIOSK)


def _from_scratch() -> dict[tuple, tuple[int, np.ndarray]]:
    """Every cell counted again from the responses and their answers."""
    out: dict[tuple, list] = {}
    answers: dict[int, dict[int, int]] = defaultdict(dict)
    for rid, qid, value in db.session.execute(
        select(Answer.response_id, Answer.question_id, Answer.value).where(
            Answer.value.is_not(None)
        )
    ):
        answers[rid][qid] = value
    layouts = {}
    for r in db.session.scalars(select(Response)):
        if not _tallied(r):
            continue
        if r.questionnaire_id not in layouts:
            qn = db.session.get(Questionnaire, r.questionnaire_id)
            likert = [q.id for q in qn.questions if q.type == QuestionType.LIKERT5]
            layouts[r.questionnaire_id] = (
                bits.layout_for(qn).id,
                likert,
                {int(v) for v in qn.satisfied_values},
            )
        layout, likert, satisfied = layouts[r.questionnaire_id]
        x = np.zeros(2 * len(likert), dtype=np.int64)
        for i, qid in enumerate(likert):
            value = answers[r.id].get(qid)
            if value is not None:
                x[2 * i + 1] = 1
                x[2 * i] = int(value in satisfied)
        key = (
            r.campaign_id,
            layout,
            r.questionnaire_id,
            str(r.channel),
            r.service_point_id if r.service_point_id is not None else -1,
            r.unit_id if r.unit_id is not None else -1,
        )
        entry = out.setdefault(key, [0, np.zeros((len(x), len(x)), dtype=np.int64)])
        entry[0] += 1
        entry[1] += np.outer(x, x)
    return {k: (n, p) for k, (n, p) in out.items()}


def _stored() -> dict[tuple, tuple[int, np.ndarray]]:
    out = {}
    for c in db.session.scalars(select(TallyCell)):
        size = int(round(len(c.products) / 8) ** 0.5)
        products = np.frombuffer(c.products, dtype=np.int64).reshape(size, size)
        key = (
            c.campaign_id,
            c.layout,
            c.questionnaire_id,
            c.channel,
            c.service_point_id,
            c.unit_id,
        )
        out[key] = (c.n, products)
    return out


def _assert_equal(stored: dict, expected: dict) -> None:
    assert stored.keys() == expected.keys()
    for key, (n, products) in expected.items():
        assert stored[key][0] == n, key
        assert np.array_equal(stored[key][1], products), key


def _new_rating(campaign: Campaign, rng: random.Random, template: Response) -> None:
    desks = db.session.scalars(select(ServicePoint.id)).all()
    response = Response(
        campaign_id=campaign.id,
        questionnaire_id=template.questionnaire_id,
        channel=rng.choice([Channel.QR, Channel.KIOSK]),
        status=ResponseStatus.FINAL,
        nonce=f"tally-{rng.random()}",
        unit_id=template.unit_id,
        service_point_id=rng.choice(desks),
    )
    qn = template.questionnaire
    response.answers = [
        Answer(question_id=q.id, value=rng.choice([None, 1, 2, 3, 4, 5]))
        for q in qn.questions
        if q.type == QuestionType.LIKERT5
    ]
    db.session.add(response)


def _random_change(campaign: Campaign, rng: random.Random) -> str:
    ratings = db.session.scalars(
        select(Response).where(
            Response.campaign_id == campaign.id,
            Response.channel.in_([Channel.QR, Channel.KIOSK, Channel.WEB_INVITE]),
        )
    ).all()
    r = rng.choice(ratings)
    kind = rng.choice(
        [
            "new",
            "void",
            "final",
            "hold",
            "release",
            "delete",
            "answer",
            "drop_answer",
            "desk",
            "channel",
            "weight",
            "bulk_void",
        ]
    )
    if kind == "new":
        _new_rating(campaign, rng, r)
    elif kind == "void":
        r.status = ResponseStatus.VOID
    elif kind == "final":
        r.status = ResponseStatus.FINAL
    elif kind == "hold":
        r.held = True
    elif kind == "release":
        r.held = False
    elif kind == "delete":
        db.session.delete(r)
    elif kind == "answer" and r.answers:
        rng.choice(r.answers).value = rng.choice([None, 1, 2, 3, 4, 5])
    elif kind == "drop_answer" and r.answers:
        db.session.delete(rng.choice(r.answers))
    elif kind == "desk":
        r.service_point_id = rng.choice(db.session.scalars(select(ServicePoint.id)).all())
    elif kind == "channel":
        r.channel = rng.choice([Channel.QR, Channel.KIOSK, Channel.PAPER, Channel.WEB_INVITE])
    elif kind == "weight":
        r.weight = rng.choice([None, 1.5])
    elif kind == "bulk_void":
        # Core, not the ORM: the triggers see every write path.
        db.session.execute(
            update(Response)
            .where(Response.campaign_id == campaign.id, Response.channel == Channel.KIOSK)
            .values(status=ResponseStatus.VOID)
        )
    return kind


@pytest.mark.parametrize("seed", [1, 2])
def test_tallies_equal_a_recount_after_random_changes(app, demo_data, seed: int) -> None:
    campaign = _current(demo_data)
    rng = random.Random(seed)
    tallies.fold()
    _assert_equal(_stored(), _from_scratch())
    kinds = set()
    for _round in range(6):
        for _ in range(rng.randint(1, 8)):
            kinds.add(_random_change(campaign, rng))
            if rng.random() < 0.5:
                db.session.flush()
        db.session.commit()
        tallies.fold()
        _assert_equal(_stored(), _from_scratch())
    assert len(kinds) >= 5


def test_rows_written_without_the_orm_are_tallied(app, demo_data) -> None:
    """The submission path writes with Core statements (on PostgreSQL one statement for the
    response and its answers): the database's triggers journal them all the same."""
    campaign = _current(demo_data)
    tallies.fold()
    template = db.session.scalars(
        select(Response).where(Response.campaign_id == campaign.id, Response.channel == Channel.QR)
    ).first()
    likert = [q.id for q in template.questionnaire.questions if q.type == QuestionType.LIKERT5]
    rid = db.session.execute(
        insert(Response)
        .values(
            campaign_id=campaign.id,
            questionnaire_id=template.questionnaire_id,
            channel=Channel.QR,
            status=ResponseStatus.FINAL,
            nonce="core-insert",
            unit_id=template.unit_id,
            service_point_id=template.service_point_id,
        )
        .returning(Response.id)
    ).scalar_one()
    db.session.execute(
        insert(Answer), [{"response_id": rid, "question_id": q, "value": 5} for q in likert]
    )
    db.session.commit()
    before = _stored()
    assert tallies.fold() == 1
    after = _stored()
    _assert_equal(after, _from_scratch())
    assert sum(n for n, _ in after.values()) == sum(n for n, _ in before.values()) + 1


@pytest.mark.parametrize("by", [None, "desk", "commune", "channel"])
def test_report_from_tallies_equals_report_from_rows(app, demo_data, by) -> None:
    campaign = _current(demo_data)
    sample = reports.SAMPLES["convenience"]
    from_tallies = report_cells.run_cells(campaign, sample, by=by).to_dict()
    frame = report_cells.frame_for(campaign, sample)
    from_rows = report_cells.run(campaign, frame, sample, by=by).to_dict()
    assert from_tallies["design"] == from_rows["design"]
    assert len(from_tallies["estimates"]) == len(from_rows["estimates"]) > 0
    for a, b in zip(from_rows["estimates"], from_tallies["estimates"], strict=True):
        for key, value in a.items():
            if isinstance(value, float):
                assert b[key] == pytest.approx(value, rel=1e-9, abs=1e-12), (a["variable"], key)
            else:
                assert b[key] == value, (a["variable"], key)


def test_a_fold_inside_a_unit_of_work_is_undone_with_it(app, demo_data) -> None:
    """A report read in the middle of someone's unit of work (a level check during an import)
    does not commit that work: the fold joins it, and a rollback undoes both."""
    campaign = _current(demo_data)
    tallies.fold()
    before = _stored()
    rating = db.session.scalars(
        select(Response).where(Response.campaign_id == campaign.id, Response.channel == Channel.QR)
    ).first()
    rating.status = ResponseStatus.VOID
    db.session.flush()  # the caller's own write, not committed
    tallies.fold()
    assert sum(n for n, _ in _stored().values()) == sum(n for n, _ in before.values()) - 1
    db.session.rollback()
    assert db.session.get(Response, rating.id).status == ResponseStatus.FINAL
    _assert_equal(_stored(), before)
    tallies.fold()
    _assert_equal(_stored(), _from_scratch())


def _nest_from_rows(campaign: Campaign, by: str) -> bool:
    """Whether every desk's final, counted QR/kiosk ratings lie in one ``by`` level, from
    the responses themselves."""
    levels: dict[int | None, set] = defaultdict(set)
    for r in db.session.scalars(
        select(Response).where(
            Response.campaign_id == campaign.id,
            Response.status == ResponseStatus.FINAL,
            Response.channel.in_([Channel.QR, Channel.KIOSK]),
            Response.held.is_(False),
        )
    ):
        key = {"desk": r.service_point_id, "channel": str(r.channel)}.get(by, r.unit_id)
        levels[r.service_point_id].add(key)
    return all(len(keys) == 1 for keys in levels.values())


def test_strata_nesting_is_read_from_the_tallies_as_from_the_rows(app, demo_data) -> None:
    campaign = _current(demo_data)
    sample = reports.SAMPLES["convenience"]

    def nested(by: str) -> bool:
        return queries.domains_nest_in_strata(campaign, sample, Response.service_point_id, by)

    for by in ("desk", "channel", "commune"):
        assert nested(by) == _nest_from_rows(campaign, by), by
    assert nested("desk")
    # Every desk in one commune and on one channel: nested; then one rating moved to
    # another commune (and channel) un-nests its desk.
    ratings = db.session.scalars(
        select(Response).where(
            Response.campaign_id == campaign.id,
            Response.channel.in_([Channel.QR, Channel.KIOSK]),
        )
    ).all()
    units = sorted({r.unit_id for r in ratings if r.unit_id is not None})
    assert len(units) >= 2
    for r in ratings:
        r.unit_id = units[(r.service_point_id or 0) % len(units)]
        r.channel = Channel.QR
    db.session.commit()
    assert nested("commune") and nested("channel")
    assert _nest_from_rows(campaign, "commune") and _nest_from_rows(campaign, "channel")
    moved = next(r for r in ratings if r.status == ResponseStatus.FINAL and not r.held)
    moved.unit_id = next(u for u in units if u != moved.unit_id)
    moved.channel = Channel.KIOSK
    db.session.commit()
    assert not nested("commune") and not nested("channel")
    assert not _nest_from_rows(campaign, "commune") and not _nest_from_rows(campaign, "channel")


def test_a_bulk_load_folds_in_chunks_to_the_recount(app, demo_data, monkeypatch) -> None:
    """Thousands of responses written with Core statements, as an import does, folded in
    rounds of a few hundred: new ratings of two questionnaires (the full survey's 33 items
    take more than one 64-bit mask), untallied ones among them, then a bulk change of many
    that already have their contribution recorded."""
    campaign = _current(demo_data)
    tallies.fold()
    monkeypatch.setattr(tallies, "FOLD_CHUNK", 700)
    rng = random.Random(7)
    desk_qn = db.session.scalars(
        select(Response.questionnaire_id).where(
            Response.campaign_id == campaign.id, Response.channel == Channel.QR
        )
    ).first()
    forms = {}
    for qid in {desk_qn, campaign.questionnaire_id}:
        qn = db.session.get(Questionnaire, qid)
        forms[qid] = [q.id for q in qn.questions]
    assert len(forms) == 2
    desks = db.session.scalars(select(ServicePoint.id)).all()
    units = db.session.scalars(
        select(Response.unit_id).where(Response.unit_id.is_not(None)).distinct()
    ).all()
    rows = []
    for i in range(3000):
        qid = desk_qn if i % 3 else campaign.questionnaire_id
        rows.append(
            {
                "campaign_id": campaign.id,
                "questionnaire_id": qid,
                "channel": (
                    rng.choice([Channel.QR, Channel.KIOSK, Channel.PAPER])
                    if qid == desk_qn
                    else Channel.WEB_INVITE
                ),
                "status": rng.choice([ResponseStatus.FINAL] * 9 + [ResponseStatus.VOID]),
                "held": rng.random() < 0.05,
                "weight": rng.choice([None, None, None, 2.0]),
                "nonce": f"bulk-{i}",
                "unit_id": rng.choice([*units, None]),
                "service_point_id": rng.choice([*desks, None]),
            }
        )
    ids = db.session.scalars(insert(Response).returning(Response.id), rows).all()
    answers = []
    for rid, row in zip(ids, rows, strict=True):
        own = forms[row["questionnaire_id"]]
        other = forms[desk_qn if row["questionnaire_id"] != desk_qn else campaign.questionnaire_id]
        # Now and then an answer to the other questionnaire's question: it counts for nothing.
        for qid in own + ([rng.choice(other)] if rng.random() < 0.02 else []):
            if rng.random() < 0.9:
                answers.append(
                    {
                        "response_id": rid,
                        "question_id": qid,
                        "value": rng.choice([None, 1, 2, 3, 4, 5]),
                    }
                )
    db.session.execute(insert(Answer), answers)
    db.session.commit()
    assert tallies.fold() >= sum(row["channel"] != Channel.PAPER for row in rows)
    _assert_equal(_stored(), _from_scratch())

    # Many recorded contributions out again, in one statement each.
    moved = ids[::2]
    db.session.execute(
        update(Response)
        .where(Response.id.in_(moved[: len(moved) // 2]))
        .values(service_point_id=desks[0])
    )
    db.session.execute(
        update(Response)
        .where(Response.id.in_(moved[len(moved) // 2 :]))
        .values(status=ResponseStatus.VOID)
    )
    db.session.execute(update(Answer).where(Answer.response_id.in_(ids[1::4])).values(value=5))
    db.session.commit()
    tallies.fold()
    _assert_equal(_stored(), _from_scratch())
