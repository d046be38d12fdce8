"""Each response's answers folded into bit masks, kept in ``response_bits``.

The dashboard's cell query needs, per response, which rated items were answered, which were
answered satisfied, and the demographic answers calibration uses. Read from the long
``answers`` table that is a pass over ~40 rows per response on every cold report (8 s at
100,000 responses on SQLite). Answers never change once stored, so the pass is made once
per response: the first report after a response arrives folds its answers into a few 62-bit
integers (one row per block) and later reports read those.

A :class:`Layout` says which bit means what: per rated item "answered" and "satisfied", per
single-choice question one bit per option value. Its id hashes that list, so another
questionnaire, or a change to this module, gets rows of its own and never reads stale ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    Integer,
    and_,
    case,
    exists,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, Insert
from sqlalchemy.sql.functions import FunctionElement

from surveyapp.data.locks import read_only, write_lock
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.questionnaires import Questionnaire, QuestionType
from surveyapp.models.responses import Answer, Response, ResponseBits

BLOCK_BITS = 62  # bits per mask: a signed 64-bit integer, with room to spare
ANSWERED, SATISFIED, VALUE = "answered", "satisfied", "value"


@dataclass(frozen=True)
class Bit:
    """One yes/no fact about a response: ``question`` answered, answered satisfied, or
    answered ``value``."""

    question_id: int
    code: str
    kind: str
    value: int | None = None


@dataclass(frozen=True)
class Layout:
    """What each bit of a response's masks means, for the responses to questionnaire
    ``questionnaire_id`` (the only ones a report reads with it)."""

    id: str
    bits: tuple[Bit, ...]
    satisfied: tuple[int, ...]
    questionnaire_id: int

    @property
    def blocks(self) -> int:
        return -(-len(self.bits) // BLOCK_BITS)

    def position(self, code: str, kind: str, value: int | None = None) -> int:
        for i, bit in enumerate(self.bits):
            if bit.code == code and bit.kind == kind and bit.value == value:
                return i
        raise KeyError(f"{code} {kind} {value}: not in the layout")

    def values(self, code: str) -> list[tuple[int, int]]:
        """(value, position) of every option bit of question ``code``."""
        return [
            (bit.value, i)
            for i, bit in enumerate(self.bits)
            if bit.code == code and bit.kind == VALUE and bit.value is not None
        ]


def layout_for(qn: Questionnaire) -> Layout:
    """The layout of ``qn``: its rated items (answered, satisfied) in order, then its
    single-choice questions, one bit per option value."""
    satisfied = tuple(sorted(int(v) for v in qn.satisfied_values))
    bits: list[Bit] = []
    for q in qn.questions:
        if q.type == QuestionType.LIKERT5:
            bits += [Bit(q.id, q.code, ANSWERED), Bit(q.id, q.code, SATISFIED)]
    for q in qn.questions:
        if q.type == QuestionType.SINGLE and q.option_set is not None:
            values = sorted({o.value for o in q.option_set.options})
            bits += [Bit(q.id, q.code, VALUE, v) for v in values]
    digest = hashlib.sha256(repr((qn.id, satisfied, bits)).encode()).hexdigest()[:16]
    return Layout(digest, tuple(bits), satisfied, qn.id)


def _block_expression(layout: Layout, block: int) -> object:
    """One answer row's bits of ``block``: a CASE on its question, each question's facts
    as distinct powers of two (added, since they never overlap)."""
    start = block * BLOCK_BITS
    per_question: dict[int, list[tuple[Bit, int]]] = {}
    for k, bit in enumerate(layout.bits[start : start + BLOCK_BITS]):
        per_question.setdefault(bit.question_id, []).append((bit, k))
    whens = {}
    for qid, facts in per_question.items():
        parts: list[ColumnElement[Any]] = []
        options = {}
        for bit, k in facts:
            power = literal(1 << k, BigInteger)
            if bit.kind == ANSWERED:
                parts.append(case((Answer.value.is_not(None), power), else_=0))
            elif bit.kind == SATISFIED:
                parts.append(case((Answer.value.in_(layout.satisfied), power), else_=0))
            else:
                options[bit.value] = power
        if options:
            parts.append(case(options, value=Answer.value, else_=0))
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        whens[qid] = total
    return case(whens, value=Answer.question_id, else_=0)


FILL_CHUNK = 50_000  # responses folded per statement: bounds each statement's work
EXTENSION = "surveyapp.response_bits"


@dataclass(frozen=True)
class _Filled:
    """Every response of a campaign with an id up to ``max_id`` had bits when there were
    ``count`` of them with ids summing to ``id_sum`` (kept per app process)."""

    max_id: int
    count: int
    id_sum: int


def fill(campaign: Campaign, layout: Layout) -> int:
    """Fold the answers of ``campaign``'s responses to the layout's questionnaire that have
    no bits yet; commit. (A campaign's desk ratings answer another questionnaire than its
    paper forms: folding them into the paper layout would write zeros nobody reads.)

    Returns how many responses were folded. Bits do not depend on a response's status, so
    the set of responses up to a given id only grows (ids are never reused). The process
    remembers up to which id every response had bits; when the responses up to there are
    still as many (and their ids sum the same), only the ids above can be missing, which
    an index range finds at once. Otherwise (the first fill in a process, or a transaction
    that committed a lower id late) every response is checked. Missing ones are then folded
    by ranges of ids, so the database reads only their answers.

    Ends the session's transaction first (on SQLite a write must not upgrade a stale read
    snapshot) and takes the same writers' lock as a submission. Two processes filling at
    once: the loser's rows collide on the primary key, so it rolls back and tries once more
    (finding nothing left to do).
    """
    if not layout.blocks:
        return 0
    from flask import current_app

    memo: dict[tuple[int, str], _Filled] = current_app.extensions.setdefault(EXTENSION, {})
    known = memo.get((campaign.id, layout.id))
    has_bits = exists().where(
        ResponseBits.response_id == Response.id, ResponseBits.layout == layout.id
    )
    ours = and_(
        Response.campaign_id == campaign.id, Response.questionnaire_id == layout.questionnaire_id
    )
    if known is not None and _stats(ours, Response.id <= known.max_id)[:2] == (
        known.count,
        known.id_sum,
    ):
        newer = db.session.execute(
            select(Response.id, has_bits).where(ours, Response.id > known.max_id)
        ).all()
        missing = sorted(rid for rid, done in newer if not done)
        ids = [rid for rid, _done in newer]
        filled = _Filled(
            max(ids, default=known.max_id), known.count + len(ids), known.id_sum + sum(ids)
        )
    else:
        # Counted before the check: a response committed after it is found by the next fill.
        count, id_sum, max_id = _stats(ours)
        missing = sorted(
            db.session.scalars(select(Response.id).where(ours, Response.id <= max_id, ~has_bits))
        )
        filled = _Filled(max_id, count, id_sum)
    if missing and read_only():
        # A read replica: the primary folds them (`surveyapp fold`); the report reads the
        # responses that have bits, as of the primary's last fold.
        return 0
    if missing:
        # Only before writing: a commit also expires every object the caller has loaded.
        db.session.commit()
    for start in range(0, len(missing), FILL_CHUNK):
        ids = missing[start : start + FILL_CHUNK]
        stmt = _fill_statement(layout, (ours, ~has_bits, Response.id.between(ids[0], ids[-1])))
        for attempt in (1, 2):
            try:
                with write_lock():
                    db.session.execute(stmt)
                    db.session.commit()
                break
            except IntegrityError:
                db.session.rollback()
                if attempt == 2:
                    raise
    memo[(campaign.id, layout.id)] = filled
    return len(missing)


def _stats(*where: ColumnElement[bool]) -> tuple[int, int, int]:
    """Count, sum and largest of the ids of the responses ``where`` selects."""
    count, id_sum, max_id = db.session.execute(
        select(func.count(), func.sum(Response.id), func.max(Response.id)).where(*where)
    ).one()
    return int(count), int(id_sum or 0), int(max_id or 0)


def _fill_statement(layout: Layout, where: tuple[ColumnElement[bool], ...]) -> Insert:
    """INSERT the bits of the responses ``where`` selects: one pass over their answers
    (a materialised CTE), one row per block."""
    per_response = (
        select(
            Response.id.label("rid"),
            *[
                func.coalesce(_bit_or(_block_expression(layout, j)), 0).label(f"b{j}")
                for j in range(layout.blocks)
            ],
        )
        .select_from(Response)
        .outerjoin(Answer, Answer.response_id == Response.id)
        .where(*where)
        .group_by(Response.id)
        # Read once whatever the number of blocks (both databases honour the hint).
        .cte("per_response")
        .prefix_with("MATERIALIZED")
    )
    rows = union_all(
        *[
            select(
                per_response.c.rid,
                literal(layout.id),
                literal(j, Integer),
                per_response.c[f"b{j}"],
            )
            for j in range(layout.blocks)
        ]
    )
    return ResponseBits.__table__.insert().from_select(
        ["response_id", "layout", "block", "bits"], rows
    )


def decode(masks: Sequence[np.ndarray], position: int) -> np.ndarray:
    """Bit ``position`` of every response as 0.0/1.0 (``masks``: one int64 array per
    block, 0 for a response without answers)."""
    block, k = divmod(position, BLOCK_BITS)
    return ((masks[block] >> k) & 1).astype(np.float64)


def decode_many(masks: Sequence[np.ndarray], positions: Sequence[int]) -> np.ndarray:
    """Bits ``positions`` of every response as a (responses × positions) 0.0/1.0 array."""
    n = len(masks[0]) if masks else 0
    out = np.empty((n, len(positions)))
    for i, position in enumerate(positions):
        out[:, i] = decode(masks, position)
    return out


def decode_value(layout: Layout, masks: Sequence[np.ndarray], code: str) -> np.ndarray:
    """The answer to single-choice question ``code`` per response (NaN when unanswered)."""
    out = np.full(len(masks[0]) if masks else 0, np.nan)
    for value, position in layout.values(code):
        out[decode(masks, position) == 1.0] = value
    return out


def _bit_or(expr: object) -> object:
    """OR of the distinct bits of a group: PostgreSQL's ``bit_or`` stays a bigint (its
    ``sum`` of bigints would be numeric); SQLite has no ``bit_or`` and its integer ``sum`` of
    distinct powers of two is the same number."""
    return _BitOr(expr)


class _BitOr(FunctionElement[int]):
    type = BigInteger()
    inherit_cache = True
    name = "bit_or_masks"


@compiles(_BitOr)
def _bit_or_default(element: _BitOr, compiler: object, **kw: object) -> str:
    return f"sum({compiler.process(element.clauses, **kw)})"  # type: ignore[attr-defined]


@compiles(_BitOr, "postgresql")
def _bit_or_postgresql(element: _BitOr, compiler: object, **kw: object) -> str:
    return f"bit_or({compiler.process(element.clauses, **kw)})"  # type: ignore[attr-defined]
