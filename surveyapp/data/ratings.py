"""Desk ratings as arrays: one row per rating, for the desk standard, alerts and bulletins.

A rating is one final response of the convenience sample (QR code, kiosk) at a desk. Its
score is the answer to the questionnaire's ``overall`` question when the questionnaire has
one (the desk instrument does); a SIPAS form, which has none, scores the respondent's mean
over its 1–5 rating items, rounded half up. The rating is "good or very good" when that
score is one of the questionnaire's ``satisfied_values`` (top-2-box, 4 or 5 for both
instruments): the codes are the instrument's data, never written here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from surveyapp import localtime
from surveyapp.data.queries import SAMPLES
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.questionnaires import Questionnaire, QuestionType
from surveyapp.models.responses import Answer, Response, ResponseStatus
from surveyapp.models.units import TransactionVolume

# The question code a questionnaire marks its single overall rating with.
OVERALL_CODE = "overall"
COLUMNS = ["response_id", "service_point_id", "unit_id", "submitted_at", "score", "good"]


def _scored_questions(qn: Questionnaire) -> list[int]:
    overall = qn.question(OVERALL_CODE)
    if overall is not None:
        return [overall.id]
    return [q.id for q in qn.questions if q.type == QuestionType.LIKERT5]


def rating_frame(
    campaign: Campaign | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    after_id: int | None = None,
    service_point_id: int | None = None,
) -> pd.DataFrame:
    """Desk ratings, oldest first: :data:`COLUMNS`, ``good`` a bool.

    ``campaign`` None reads every campaign (alerts follow a desk, not a campaign);
    ``since``/``until`` bound ``submitted_at`` (half-open), ``after_id`` keeps ratings with a
    larger response id (the incremental alert check).
    """
    where: list[Any] = [
        Response.status == ResponseStatus.FINAL,
        SAMPLES["convenience"].condition(),
        Response.service_point_id.is_not(None),
        # A burst held out of the estimates (services.abuse) is no rating until released.
        Response.held.is_(False),
    ]
    if campaign is not None:
        where.append(Response.campaign_id == campaign.id)
    if since is not None:
        where.append(Response.submitted_at >= since)
    if until is not None:
        where.append(Response.submitted_at < until)
    if after_id is not None:
        where.append(Response.id > after_id)
    if service_point_id is not None:
        where.append(Response.service_point_id == service_point_id)
    used = db.session.scalars(select(Response.questionnaire_id).where(*where).distinct()).all()
    frames = []
    for qn_id in used:
        qn = db.session.get(Questionnaire, qn_id)
        assert qn is not None
        scored = _scored_questions(qn)
        keys = [
            Response.id.label("response_id"),
            Response.service_point_id,
            Response.unit_id,
            Response.submitted_at,
        ]
        # Values outside 1–5 (0 is "left blank" on a keyed form) are not ratings.
        stmt = (
            select(*keys, func.avg(Answer.value).label("score"))
            .join(Answer, Answer.response_id == Response.id)
            .where(
                *where,
                Response.questionnaire_id == qn_id,
                Answer.question_id.in_(scored),
                Answer.value.between(1, 5),
            )
            .group_by(*keys)
        )
        result = db.session.execute(stmt).fetchall()
        part = pd.DataFrame(result, columns=COLUMNS[:-1])
        satisfied = {int(v) for v in qn.satisfied_values}
        score = np.floor(pd.to_numeric(part["score"]).to_numpy(dtype=np.float64) + 0.5)
        part["score"] = score
        part["good"] = np.isin(score, sorted(satisfied))
        frames.append(part)
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    frame = pd.concat(frames, ignore_index=True).sort_values("response_id", kind="stable")
    return frame.reset_index(drop=True)


def transactions_between(start: date, end: date) -> dict[int, float]:
    """Transactions per desk between ``start`` and ``end`` (inclusive days).

    A recorded period that only partly overlaps counts pro rata to the days it shares with
    the window: volumes are recorded per month or quarter, windows are rolling.
    """
    stmt = select(
        TransactionVolume.service_point_id,
        TransactionVolume.period_start,
        TransactionVolume.period_end,
        TransactionVolume.transactions,
    ).where(TransactionVolume.period_start <= end, TransactionVolume.period_end >= start)
    out: dict[int, float] = {}
    for desk, p_start, p_end, transactions in db.session.execute(stmt):
        days = (p_end - p_start).days + 1
        shared = (min(p_end, end) - max(p_start, start)).days + 1
        out[desk] = out.get(desk, 0.0) + transactions * shared / days
    return out


def last_rating_day(campaign: Campaign) -> date | None:
    """The local day of ``campaign``'s latest desk rating (None without any)."""
    stmt = select(func.max(Response.submitted_at)).where(
        Response.campaign_id == campaign.id,
        Response.status == ResponseStatus.FINAL,
        SAMPLES["convenience"].condition(),
    )
    latest = db.session.scalar(stmt)
    return localtime.local_date(latest) if latest is not None else None


__all__ = ["COLUMNS", "OVERALL_CODE", "last_rating_day", "rating_frame", "transactions_between"]
