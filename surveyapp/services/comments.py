"""Citizens' comments and reasons, read, searched, counted, masked and moderated.

Which questions are read, for any questionnaire a campaign's responses used:

- **comments**: every free-text question (``type = "text"``), e.g. SIPAS's ``comment`` or the
  desk form's ``d_why``;
- **reasons**: every multiple-choice question (``type = "multi"``) that is linked to ratings:
  either by a ``show_if`` condition on earlier ratings (the desk instrument's ``d_reasons``) or,
  for an instrument without conditions, by the code convention ``…reasons`` (the question's
  code ends with ``reasons``). A multiple-choice answer is stored as its values, e.g. ``"1,3"``;
- **the rating a reason explains**: the lowest of the linked ratings (the questions its
  ``show_if`` names; without one, every 1–5 rating of the questionnaire). A rating is *low* at
  3 or below, when the desk form asks "why?".

Search is accent-insensitive through :func:`fold`, stored per comment in ``comment_states``
the first time the page reads it (answers never change), so the database filters with a
plain ``LIKE`` on both SQLite and PostgreSQL and never folds 100k texts per request.
Every text leaving this module for display or export goes through :func:`mask`; only
:func:`raw_comment` (an admin's view of one comment) returns the text as entered.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, and_, exists, func, literal, or_, select

from surveyapp import localtime
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign, Channel
from surveyapp.models.comments import CommentState
from surveyapp.models.questionnaires import Question, QuestionType, text_in
from surveyapp.models.responses import Answer, Response, ResponseStatus
from surveyapp.models.units import ServicePoint, Unit
from surveyapp.services import ServiceError, audit

LOW = 3  # a rating of 3 or lower is "not satisfied": the desk form asks why
PAGE_SIZE = 50
MULTI_SEPARATOR = ","

# ---------------------------------------------------------------------------------------------
# Folding and masking.

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """``text`` without accents, lower case, đ → d and spaces collapsed: "Chờ  LÂU" → "cho lau"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", bare).strip().lower()


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Plates: province code, series (one or two letters, maybe a digit), then 4 or 5 digits
# (123.45 / 12345 / 1234): 60A-123.45, 51F1-234.56, 29-B1 123.45, 30A 1234.
_PLATE = re.compile(
    r"(?<![\w.])\d{2}\s?-?\s?[A-Za-z]{1,2}\d?\s?[-.]?\s?(?:\d{3}\.?\d{2}|\d{4})(?![\w])"
)
# A run of digits that may be split by single spaces, dots or dashes (how phone numbers are
# written), optionally after +; classified by its digits below.
_NUMBER = re.compile(r"(?<![\w.+])\+?\d(?:[ .\-]?\d)+(?![\w])")


def _number_kind(token: str) -> str | None:
    digits = re.sub(r"\D", "", token)
    contiguous = token.lstrip("+").isdigit()
    if token.startswith("+84") or (digits.startswith("84") and len(digits) == 11):
        return "phone" if len(digits) in (11, 12) else None
    # Mobile 0xxx xxx xxx (10 digits); landline 02xx xxxx xxx (11 digits).
    if digits.startswith("0") and (
        (len(digits) == 10 and digits[1] in "35789") or (len(digits) == 11 and digits[1] == "2")
    ):
        return "phone"
    # CCCD (12 digits) and the old CMND (9 digits) are written without separators; a
    # spaced or dotted figure of that length is more likely money (150.000.000).
    if contiguous and len(digits) in (9, 12):
        return "id"
    return None


def mask(text: str) -> str:
    """``text`` with phone numbers, ID numbers, e-mail addresses and plates replaced."""
    labels = {
        "phone": _("[phone number]"),
        "id": _("[ID number]"),
        "email": _("[e-mail]"),
        "plate": _("[plate number]"),
    }
    out = _EMAIL.sub(labels["email"], text)
    out = _PLATE.sub(labels["plate"], out)

    def number(match: re.Match[str]) -> str:
        token = match.group(0)
        kind = _number_kind(token)
        if kind is None:
            # A run glued from two figures ("năm 2025 0912345678") is looked at piece by piece.
            parts = re.split(r"(\s)", token)
            if len(parts) > 1:
                return "".join(_NUMBER.sub(number, p) if p.strip() else p for p in parts)
            return token
        return labels[kind]

    return _NUMBER.sub(number, out)


# ---------------------------------------------------------------------------------------------
# Which questions are comments, reasons and the ratings they explain.


@dataclass(frozen=True)
class Layout:
    """A campaign's comment, reason and rating questions (over all its questionnaires)."""

    comment_ids: tuple[int, ...]
    reason_ids: tuple[int, ...]
    rating_ids: tuple[int, ...]  # ratings that reasons explain (the lowest one is shown)
    # reason value -> label, per language (first reason question's option set wins a clash)
    reason_labels: dict[int, dict[str, str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.comment_ids and not self.reason_ids


def _linked_codes(show_if: Any) -> set[str]:
    """The question codes a ``show_if`` condition names, at any depth."""
    if isinstance(show_if, dict):
        found = {show_if["question"]} if isinstance(show_if.get("question"), str) else set()
        for value in show_if.values():
            found |= _linked_codes(value)
        return found
    if isinstance(show_if, list):
        return set().union(*(_linked_codes(v) for v in show_if)) if show_if else set()
    return set()


def is_reason_question(question: Question) -> bool:
    if question.type != QuestionType.MULTI or question.option_set is None:
        return False
    return bool(getattr(question, "show_if", None)) or question.code.endswith("reasons")


def layout(campaign: Campaign) -> Layout:
    qn_ids = set(
        db.session.scalars(
            select(Response.questionnaire_id).where(Response.campaign_id == campaign.id).distinct()
        )
    )
    qn_ids.add(campaign.questionnaire_id)
    questions = db.session.scalars(
        select(Question).where(Question.questionnaire_id.in_(qn_ids)).order_by(Question.id)
    ).all()
    comments: list[Any] = []
    reasons: list[Any] = []
    ratings: set[int] = set()
    labels: dict[int, dict[str, str]] = {}
    by_qn: dict[int, list[Question]] = defaultdict(list)
    for q in questions:
        by_qn[q.questionnaire_id].append(q)
    for qn_questions in by_qn.values():
        codes = {q.code: q for q in qn_questions}
        for q in qn_questions:
            if q.type == QuestionType.TEXT:
                comments.append(q.id)
            elif is_reason_question(q):
                reasons.append(q.id)
                linked = _linked_codes(getattr(q, "show_if", None))
                rated = [codes[c] for c in linked if c in codes] or [
                    x for x in qn_questions if x.type == QuestionType.LIKERT5
                ]
                ratings.update(x.id for x in rated if x.type == QuestionType.LIKERT5)
                assert q.option_set is not None
                for option in q.option_set.options:
                    labels.setdefault(option.value, dict(option.label))
    return Layout(tuple(comments), tuple(reasons), tuple(sorted(ratings)), labels)


# ---------------------------------------------------------------------------------------------
# The search column, written the first time a comment is read.


def index_comments(campaign: Campaign, lay: Layout) -> int:
    """Write the folded text of this campaign's comments not yet indexed; return how many."""
    if not lay.comment_ids:
        return 0
    rows = db.session.execute(
        select(Answer.id, Answer.response_id, Answer.text)
        .join(Response, Response.id == Answer.response_id)
        .outerjoin(CommentState, CommentState.answer_id == Answer.id)
        .where(
            Response.campaign_id == campaign.id,
            Answer.question_id.in_(lay.comment_ids),
            Answer.text.is_not(None),
            CommentState.answer_id.is_(None),
        )
    ).all()
    if rows:
        db.session.execute(
            CommentState.__table__.insert(),
            [
                {"answer_id": a, "response_id": r, "folded": fold(t or "")[:2000], "hidden": False}
                for a, r, t in rows
            ],
        )
        db.session.commit()
    return len(rows)


# ---------------------------------------------------------------------------------------------
# Filters and the page's rows.


@dataclass(frozen=True)
class CommentFilters:
    unit_ids: tuple[int, ...] | None = None
    desk_id: int | None = None
    period_id: int | None = None
    channel: Channel | None = None
    rating: int | None = None  # the lowest linked rating equals this
    reason: int | None = None
    search: str = ""
    desk_ids: tuple[int, ...] | None = None  # a commune centre's desks (the bulletin)
    since: datetime | None = None  # submitted at or after (an aware UTC instant)
    until: datetime | None = None  # submitted before
    # False: leave out the ratings held back by abuse detection (services.abuse) until
    # released, as every count of ratings does (the bulletin). The analysts' page lists them.
    include_held: bool = True


@dataclass(frozen=True)
class Row:
    response_id: int
    answer_id: int | None  # the comment's answer (None: reasons only)
    submitted_at: datetime
    channel: str
    unit: str
    desk: str
    rating: int | None
    reasons: list[str]
    comment: str  # masked


def _lowest_rating(lay: Layout) -> Any:
    if not lay.rating_ids:
        return literal(None)
    return (
        select(func.min(Answer.value))
        .where(Answer.response_id == Response.id, Answer.question_id.in_(lay.rating_ids))
        .scalar_subquery()
    )


def _visible_comment() -> Any:
    """The comment answer of a response that is shown: not empty and not hidden."""
    return and_(
        CommentState.response_id == Response.id,
        CommentState.hidden.is_(False),
        CommentState.folded != "",
    )


def _has_reason(lay: Layout, value: int | None = None) -> Any:
    condition = and_(
        Answer.response_id == Response.id,
        Answer.question_id.in_(lay.reason_ids),
        Answer.text.is_not(None),
        Answer.text != "",
    )
    if value is not None:
        wrapped = literal(MULTI_SEPARATOR) + Answer.text + literal(MULTI_SEPARATOR)
        condition = and_(condition, wrapped.like(f"%{MULTI_SEPARATOR}{value}{MULTI_SEPARATOR}%"))
    return exists().where(condition)


def _narrow(stmt: Select[Any], f: CommentFilters) -> Select[Any]:
    """The filters the page and the reason counts share: where, when and by which channel."""
    if f.unit_ids is not None:
        stmt = stmt.where(Response.unit_id.in_(f.unit_ids))
    if f.desk_id is not None:
        stmt = stmt.where(Response.service_point_id == f.desk_id)
    if f.desk_ids is not None:
        stmt = stmt.where(Response.service_point_id.in_(f.desk_ids))
    if f.period_id is not None:
        stmt = stmt.where(Response.period_id == f.period_id)
    if f.channel is not None:
        stmt = stmt.where(Response.channel == f.channel)
    if f.since is not None:
        stmt = stmt.where(Response.submitted_at >= f.since)
    if f.until is not None:
        stmt = stmt.where(Response.submitted_at < f.until)
    if not f.include_held:
        stmt = stmt.where(Response.held.is_(False))
    return stmt


def _base(campaign: Campaign, lay: Layout, f: CommentFilters) -> Select[Any]:
    """The filtered responses that have a visible comment or a reason."""
    has_comment = exists().where(_visible_comment())
    stmt = select(Response.id).where(
        Response.campaign_id == campaign.id,
        Response.status == ResponseStatus.FINAL,
    )
    if lay.reason_ids:
        stmt = stmt.where(or_(has_comment, _has_reason(lay)))
    else:
        stmt = stmt.where(has_comment)
    stmt = _narrow(stmt, f)
    if f.rating is not None:
        stmt = stmt.where(_lowest_rating(lay) == f.rating)
    if f.reason is not None:
        stmt = stmt.where(_has_reason(lay, f.reason))
    if f.search:
        needle = fold(f.search)
        stmt = stmt.where(
            exists().where(
                _visible_comment(), CommentState.folded.contains(needle, autoescape=True)
            )
        )
    return stmt


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int
    page: int
    pages: int
    hidden: int  # hidden comments in the campaign (not only in the filter)


def _rows(campaign: Campaign, lay: Layout, ids: list[int], lang: str) -> list[Row]:
    if not ids:
        return []
    info = db.session.execute(
        select(
            Response.id,
            Response.submitted_at,
            Response.channel,
            Unit.name,
            ServicePoint.name,
            _lowest_rating(lay),
        )
        .outerjoin(Unit, Unit.id == Response.unit_id)
        .outerjoin(ServicePoint, ServicePoint.id == Response.service_point_id)
        .where(Response.id.in_(ids))
    ).all()
    comments: dict[int, tuple[int | None, str]] = {}
    for first_id, response_id, text in db.session.execute(
        select(Answer.id, Answer.response_id, Answer.text)
        .join(CommentState, CommentState.answer_id == Answer.id)
        .where(
            Answer.response_id.in_(ids),
            CommentState.hidden.is_(False),
            CommentState.folded != "",
        )
        .order_by(Answer.id)
    ):
        previous = comments.get(response_id)
        joined = f"{previous[1]}\n{text}" if previous else (text or "")
        comments[response_id] = (previous[0] if previous else first_id, joined)
    reasons: dict[int, list[str]] = defaultdict(list)
    if lay.reason_ids:
        for response_id, text in db.session.execute(
            select(Answer.response_id, Answer.text).where(
                Answer.response_id.in_(ids), Answer.question_id.in_(lay.reason_ids)
            )
        ):
            for value in _values(text):
                reasons[response_id].append(text_in(lay.reason_labels.get(value), lang))
    by_id = {r[0]: r for r in info}
    out = []
    for rid in ids:
        _id, at, channel, unit, desk, rating = by_id[rid]
        answer_id, comment = comments.get(rid, (None, ""))
        out.append(
            Row(
                response_id=rid,
                answer_id=answer_id,
                submitted_at=at,
                channel=str(channel.value if isinstance(channel, Channel) else channel),
                unit=unit or "",
                desk=desk or "",
                rating=rating,
                reasons=reasons.get(rid, []),
                comment=mask(comment),
            )
        )
    return out


def _values(text: str | None) -> list[int]:
    out = []
    for part in (text or "").split(MULTI_SEPARATOR):
        part = part.strip()
        if part.isdigit():
            out.append(int(part))
    return out


def hidden_count(campaign: Campaign) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(CommentState)
            .join(Response, Response.id == CommentState.response_id)
            .where(Response.campaign_id == campaign.id, CommentState.hidden.is_(True))
        )
        or 0
    )


def page(campaign: Campaign, f: CommentFilters, number: int, lang: str) -> Page:
    lay = layout(campaign)
    index_comments(campaign, lay)
    base = _base(campaign, lay, f)
    total = int(db.session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(1, number), pages)
    ids = list(
        db.session.scalars(
            base.order_by(Response.submitted_at.desc(), Response.id.desc())
            .limit(PAGE_SIZE)
            .offset((number - 1) * PAGE_SIZE)
        )
    )
    return Page(_rows(campaign, lay, ids, lang), total, number, pages, hidden_count(campaign))


def all_rows(campaign: Campaign, f: CommentFilters, lang: str) -> Iterator[Row]:
    """Every filtered row (masked), newest first, read in chunks for an export."""
    lay = layout(campaign)
    index_comments(campaign, lay)
    ids = list(
        db.session.scalars(
            _base(campaign, lay, f).order_by(Response.submitted_at.desc(), Response.id.desc())
        )
    )
    for start in range(0, len(ids), 1000):
        yield from _rows(campaign, lay, ids[start : start + 1000], lang)


# ---------------------------------------------------------------------------------------------
# Reason counts.


@dataclass(frozen=True)
class ReasonCount:
    group: str  # desk or unit name
    low: int  # responses with a low rating (<= LOW) in the group
    counts: dict[int, int]  # reason value -> responses with a low rating that gave it

    def share(self, value: int) -> float | None:
        return self.counts.get(value, 0) / self.low if self.low else None


@dataclass(frozen=True)
class ReasonCounts:
    reasons: list[tuple[int, str]]  # (value, label) in option order
    by_desk: list[ReasonCount]
    by_unit: list[ReasonCount]
    total: ReasonCount


def reason_counts(campaign: Campaign, f: CommentFilters, lang: str) -> ReasonCounts | None:
    """Per desk and per unit: how many low ratings gave each reason, and their share.

    The base is every final response in the filters whose lowest linked rating is 3 or lower
    (the responses asked "why?"); a response that ticked no reason counts in the base only.
    The search, rating and reason filters of the page do not narrow the counts. Ratings held
    back by abuse detection are not counted until released (the page still lists them).
    """
    lay = layout(campaign)
    if not lay.reason_ids or not lay.rating_ids:
        return None
    lowest = _lowest_rating(lay).label("lowest")
    stmt = (
        select(Response.id, Unit.name, ServicePoint.name, lowest)
        .outerjoin(Unit, Unit.id == Response.unit_id)
        .outerjoin(ServicePoint, ServicePoint.id == Response.service_point_id)
        .where(
            Response.campaign_id == campaign.id,
            Response.status == ResponseStatus.FINAL,
            Response.held.is_(False),
        )
    )
    stmt = _narrow(stmt, f)
    low = select(stmt.subquery()).subquery()
    rows = db.session.execute(select(low).where(low.c.lowest <= LOW)).all()
    reasons_of: dict[int, set[int]] = defaultdict(set)
    ids = [r[0] for r in rows]
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for response_id, text in db.session.execute(
            select(Answer.response_id, Answer.text).where(
                Answer.response_id.in_(chunk), Answer.question_id.in_(lay.reason_ids)
            )
        ):
            reasons_of[response_id].update(_values(text))
    desks: dict[str, tuple[int, Counter[int]]] = {}
    units: dict[str, tuple[int, Counter[int]]] = {}
    total_counter: Counter[int] = Counter()
    for rid, unit, desk, _lowest in rows:
        given = reasons_of.get(rid, set())
        total_counter.update(given)
        for groups, key in ((desks, desk or _("(no desk)")), (units, unit or _("(no unit)"))):
            n, counter = groups.get(key, (0, Counter()))
            counter.update(given)
            groups[key] = (n + 1, counter)

    def listing(groups: dict[str, tuple[int, Counter[int]]]) -> list[ReasonCount]:
        return [ReasonCount(k, n, dict(c)) for k, (n, c) in sorted(groups.items())]

    return ReasonCounts(
        reasons=[(v, text_in(label, lang)) for v, label in sorted(lay.reason_labels.items())],
        by_desk=listing(desks),
        by_unit=listing(units),
        total=ReasonCount(_("All"), len(rows), dict(total_counter)),
    )


# ---------------------------------------------------------------------------------------------
# Exports.

COLUMNS = ("response_id", "submitted_at", "channel", "unit", "desk", "rating", "reasons", "comment")


def _export_values(row: Row) -> list[Any]:
    return [
        str(row.response_id),
        # The local clock a person reads (stored in UTC), e.g. 06:30 on 1 December.
        localtime.as_utc(row.submitted_at).astimezone(localtime.zone()).strftime("%Y-%m-%d %H:%M"),
        row.channel,
        row.unit,
        row.desk,
        "" if row.rating is None else str(row.rating),
        "; ".join(row.reasons),
        row.comment,
    ]


def export_csv(campaign: Campaign, f: CommentFilters, lang: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in all_rows(campaign, f, lang):
        writer.writerow(_export_values(row))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def export_xlsx(campaign: Campaign, f: CommentFilters, lang: str) -> bytes:
    from openpyxl import Workbook

    from surveyapp import xlsx

    book = Workbook(write_only=True)
    sheet = book.create_sheet("comments")
    xlsx.append(sheet, COLUMNS)
    for row in all_rows(campaign, f, lang):
        xlsx.append(sheet, _export_values(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Admins: the text as entered, and moderation.


def _comment_state(campaign: Campaign, answer_id: int) -> tuple[CommentState, Answer]:
    found = db.session.execute(
        select(CommentState, Answer)
        .join(Answer, Answer.id == CommentState.answer_id)
        .join(Response, Response.id == Answer.response_id)
        .where(CommentState.answer_id == answer_id, Response.campaign_id == campaign.id)
    ).first()
    if found is None:
        raise ServiceError(_("This campaign has no comment %(id)s.", id=answer_id))
    return found[0], found[1]


def raw_comment(campaign: Campaign, answer_id: int) -> tuple[CommentState, str]:
    """The comment as the citizen typed it, unmasked (for admins only)."""
    state, answer = _comment_state(campaign, answer_id)
    return state, answer.text or ""


def set_hidden(campaign: Campaign, answer_id: int, hidden: bool, user_id: int) -> bool:
    """Hide or show a comment, audited; returns False if it already was so (no entry)."""
    state, _answer = _comment_state(campaign, answer_id)
    if state.hidden == hidden:
        return False
    state.hidden = hidden
    state.hidden_at = datetime.now().astimezone() if hidden else None
    state.hidden_by_id = user_id if hidden else None
    audit.record(
        "hide" if hidden else "unhide",
        "comment",
        answer_id,
        before={"hidden": not hidden},
        after={"hidden": hidden},
        user_id=user_id,
    )
    db.session.commit()
    return True


def hidden_comments(campaign: Campaign, limit: int = 200) -> list[tuple[int, str]]:
    """The campaign's hidden comments (answer id, masked text), newest hide first, for admins
    to find one to show again."""
    rows = db.session.execute(
        select(Answer.id, Answer.text)
        .join(CommentState, CommentState.answer_id == Answer.id)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.campaign_id == campaign.id, CommentState.hidden.is_(True))
        .order_by(CommentState.hidden_at.desc(), Answer.id.desc())
        .limit(limit)
    ).all()
    return [(a, mask(t or "")) for a, t in rows]
