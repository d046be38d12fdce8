"""The desk ratings' running tallies (:mod:`surveyapp.models.tallies`): folding the
journal the database's triggers write, and reading a sample's cells as arrays.

A report calls :func:`cells`, which first folds every journalled change (each response's
recorded contribution out of its old cell, its present one into its cell) and then reads one
row per (desk, channel, unit) cell. The fold is O(changes since the last report), the read
O(cells); neither depends on how many ratings a desk has gathered.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Integer,
    and_,
    any_,
    case,
    cast,
    delete,
    event,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql import Executable

from surveyapp.data import bits
from surveyapp.data.locks import read_only, write_lock
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign, Channel
from surveyapp.models.questionnaires import Questionnaire, QuestionType
from surveyapp.models.responses import Answer, Response, ResponseStatus
from surveyapp.models.tallies import TallyCell, TallyJournal, TallyMember

if TYPE_CHECKING:
    from surveyapp.data.queries import Sample

# Journal rows folded per round: bounds the memory of a round (its responses' flags).
FOLD_CHUNK = 50_000
# Serialises folds across processes on PostgreSQL (SQLite has its one writer's file lock).
FOLD_LOCK = 7_216_016
NONE = -1  # "no desk" / "no unit" in a cell key

Key = tuple[int, str, int, str, int, int]  # campaign, layout, questionnaire, channel, desk, unit


@dataclass(frozen=True)
class _Items:
    """The rated items of a questionnaire, in its layout's order."""

    layout: str
    position: dict[int, int]  # question id -> item index
    codes: tuple[str, ...]
    satisfied: frozenset[int]


@dataclass(frozen=True)
class Cells:
    """A sample's tallied cells: keys and counts in ``frame`` (``desk_id``, ``unit_id``,
    ``channel``, ``n``), per cell the sums of ``x x'`` in ``products`` (C x K x K), ``x``
    the flags named by ``columns`` (``q__y``, ``q__r`` per rated item)."""

    frame: pd.DataFrame
    products: np.ndarray
    columns: list[str]
    codes: tuple[str, ...]


def _items(qn: Questionnaire) -> _Items:
    layout = bits.layout_for(qn)
    likert = [q for q in qn.questions if q.type == QuestionType.LIKERT5]
    return _Items(
        layout.id,
        {q.id: i for i, q in enumerate(likert)},
        tuple(q.code for q in likert),
        frozenset(layout.satisfied),
    )


def fold() -> int:
    """Fold every journalled change into the cells. Returns the responses folded.

    A caller with no writes of its own: its transaction is ended first (on SQLite a write
    must not upgrade a stale read snapshot) and the fold commits in one of its own, under the
    writers' lock. A caller in the middle of its own unit of work (a report checked during an
    import): the fold joins that transaction, so the caller's commit or rollback keeps or
    undoes both together (a rollback leaves the journal rows for the next fold).

    Journal rows are deleted by the ids read, so a change committed meanwhile keeps its own
    row for the next fold.
    """
    session = db.session
    if session.scalar(select(TallyJournal.id).limit(1)) is None or read_only():
        return 0
    joined = bool(session.info.get(_WROTE) or session.new or session.dirty or session.deleted)
    if joined:
        session.flush()
        return _fold_journal()
    session.commit()
    with write_lock():
        try:
            folded = _fold_journal()
            session.commit()
        except Exception:
            session.rollback()
            raise
    return folded


def _fold_journal() -> int:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": FOLD_LOCK})
    folded = 0
    last = 0
    while True:
        # From past the last id read: the rows deleted by earlier rounds (dead until the
        # commit) are not visited again.
        rows = _fetch(
            select(TallyJournal.id, TallyJournal.response_id)
            .where(TallyJournal.id > last)
            .order_by(TallyJournal.id)
            .limit(FOLD_CHUNK)
        )
        if not rows:
            return folded
        last = rows[-1][0]
        ids = sorted({rid for _jid, rid in rows})
        _fold(ids)
        # Core statements on the tables: no ORM object of theirs is loaded to synchronise.
        db.session.connection().execute(
            delete(TallyJournal.__table__).where(among(TallyJournal.id, [j for j, _ in rows]))
        )
        folded += len(ids)


# Set on a session once it has flushed writes of its own, until its transaction ends.
_WROTE = "surveyapp.tallies.wrote"


@event.listens_for(Session, "after_flush")
def _wrote(session: Session, _context: object) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _ended(session: Session) -> None:
    session.info.pop(_WROTE, None)


def among(column: QueryableAttribute[int], ids: Sequence[int]) -> ColumnElement[bool]:
    """``column`` is one of ``ids`` (sorted). They go as one parameter whatever their
    number, a PostgreSQL array or a JSON array SQLite unpacks (an ``IN`` list of thousands
    of bound parameters costs more to compile than to run, and SQLite caps their number),
    within their range, so that the planner reads an index range, not the table: a bulk
    load's ids are dense."""
    within = column.between(ids[0], ids[-1])
    if db.engine.dialect.name == "postgresql":
        # As text: psycopg adapts a list of ints element by element in Python.
        array = cast(literal("{" + ",".join(map(str, ids)) + "}"), ARRAY(Integer))
        return and_(within, column == any_(array))
    unpacked = select(literal_column("value", Integer)).select_from(
        func.json_each(json.dumps(list(ids)))
    )
    return and_(within, column.in_(unpacked))


def _fetch(stmt: Executable) -> list[Any]:
    """The rows of ``stmt`` straight from the driver: plain numbers, strings and bytes, with
    none of SQLAlchemy's per-row processing (a round reads tens of thousands)."""
    result = db.session.connection().execute(stmt)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def _fold(ids: Sequence[int]) -> None:
    """Fold responses ``ids``: their recorded contributions out, their present ones in."""
    old = _fetch(
        select(TallyMember.cell_id, TallyMember.flags).where(among(TallyMember.response_id, ids))
    )
    change: dict[int | Key, _Change] = {}
    by_cell: dict[int, list[bytes]] = {}
    for cell_id, blob in old:
        by_cell.setdefault(int(cell_id), []).append(bytes(blob))
    for cell_id, blobs in by_cell.items():
        x = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(blobs), len(blobs[0]))
        change[cell_id] = _Change(-len(blobs), -_products(x))
    if old:
        db.session.connection().execute(
            delete(TallyMember.__table__).where(among(TallyMember.response_id, ids))
        )
    new = _present(ids)
    for key, (_rids, x) in new.items():
        change[key] = _Change(len(x), _products(x))
    cell_ids = _apply(change)
    _insert_members(
        [
            (rid, cell_ids[key], blob)
            for key, (rids, x) in new.items()
            for rid, blob in zip(rids, _rows(x), strict=True)
        ]
    )


def _products(x: np.ndarray) -> np.ndarray:
    """X'X of flag rows ``x``, exact (int64)."""
    wide = x.astype(np.int64)
    return np.asarray(wide.T @ wide, dtype=np.int64)


def _rows(x: np.ndarray) -> list[bytes]:
    """Each row of the uint8 matrix ``x`` as the bytes a member stores."""
    blob = np.ascontiguousarray(x, dtype=np.uint8).tobytes()
    k = x.shape[1]
    return [blob[i * k : (i + 1) * k] for i in range(x.shape[0])]


def counted() -> ColumnElement[bool]:
    """Whether a response is tallied: final, not held out, a rating or an answer to a
    standalone invitation code (an answer with its form's design weight is read with the
    probability sample)."""
    return and_(
        Response.status == ResponseStatus.FINAL,
        Response.held.is_(False),
        or_(
            Response.channel.in_([Channel.QR, Channel.KIOSK]),
            and_(Response.channel == Channel.WEB_INVITE, Response.weight.is_(None)),
        ),
    )


# Rated items per mask: each one's satisfied and answered bits, in a signed 64-bit integer.
ITEMS_PER_MASK = 31


def _present(ids: Sequence[int]) -> dict[Key, tuple[list[int], np.ndarray]]:
    """Of responses ``ids``, those tallied, per cell: their ids and flags (one uint8 row
    each). The database folds each response's answers into masks (one row per response,
    not per answer); numpy decodes them."""
    questionnaires = db.session.scalars(
        select(Response.questionnaire_id).where(among(Response.id, ids), counted()).distinct()
    ).all()
    items = {
        qid: _items(qn)
        for qid in questionnaires
        if (qn := db.session.get(Questionnaire, qid)) is not None
    }
    if not items:
        return {}
    blocks = max(-(-len(spec.codes) // ITEMS_PER_MASK) for spec in items.values())
    keys = (
        Response.id,
        Response.campaign_id,
        Response.questionnaire_id,
        Response.channel,
        Response.service_point_id,
        Response.unit_id,
    )
    stmt = (
        select(
            *keys,
            *[func.coalesce(cast(func.sum(_mask(items, b)), BigInteger), 0) for b in range(blocks)],
        )
        .select_from(Response)
        .outerjoin(
            Answer,
            and_(
                Answer.response_id == Response.id,
                # The same range on the answers: read by index, not all of them.
                Answer.response_id.between(ids[0], ids[-1]),
                Answer.value.is_not(None),
            ),
        )
        .where(among(Response.id, ids), counted(), Response.questionnaire_id.in_(list(items)))
        .group_by(*keys)
    )
    rows = _fetch(stmt)
    out: dict[Key, tuple[list[int], np.ndarray]] = {}
    if not rows:
        return out
    columns = list(zip(*rows, strict=True))
    masks = np.array(columns[6:], dtype=np.int64).T.reshape(len(rows), blocks)
    positions: dict[Key, list[int]] = {}
    for i, (_rid, campaign, qid, channel, desk, unit) in enumerate(zip(*columns[:6], strict=True)):
        key: Key = (
            int(campaign),
            items[qid].layout,
            int(qid),
            str(channel),
            NONE if desk is None else int(desk),
            NONE if unit is None else int(unit),
        )
        positions.setdefault(key, []).append(i)
    rids = columns[0]
    for key, where in positions.items():
        size = len(items[key[2]].codes)
        out[key] = ([int(rids[i]) for i in where], _decode(masks[where], size))
    return out


def _mask(items: dict[int, _Items], block: int) -> ColumnElement[int]:
    """One answer's bits in mask ``block``: per rated item of its response's questionnaire
    (items ``31 * block`` on) bit ``2j`` satisfied, ``2j + 1`` answered (the join keeps only
    answered rows; a question of another questionnaire adds nothing)."""
    per_questionnaire = {}
    for qid, spec in items.items():
        whens = {}
        for question, i in spec.position.items():
            b, j = divmod(i, ITEMS_PER_MASK)
            if b != block:
                continue
            whens[question] = literal(1 << (2 * j + 1), BigInteger) + case(
                (Answer.value.in_(sorted(spec.satisfied)), literal(1 << (2 * j), BigInteger)),
                else_=literal(0, BigInteger),
            )
        if whens:
            per_questionnaire[qid] = case(whens, value=Answer.question_id, else_=0)
    if not per_questionnaire:
        return literal(0, BigInteger)
    return case(per_questionnaire, value=Response.questionnaire_id, else_=0)


def _decode(masks: np.ndarray, size: int) -> np.ndarray:
    """The flags (responses x 2 ``size``: satisfied, answered per item) in ``masks``."""
    shifts = np.arange(2 * ITEMS_PER_MASK, dtype=np.int64)
    x = np.empty((len(masks), 2 * size), dtype=np.uint8)
    for b in range(-(-size // ITEMS_PER_MASK)):
        width = 2 * min(ITEMS_PER_MASK, size - b * ITEMS_PER_MASK)
        start = 2 * ITEMS_PER_MASK * b
        x[:, start : start + width] = (masks[:, b, None] >> shifts[:width]) & 1
    return x


def _insert_members(rows: list[tuple[int, int, bytes]]) -> None:
    """Insert (response id, cell id, flags) members in the session's transaction: by one
    COPY on PostgreSQL, one prepared statement run for every row on SQLite."""
    if not rows:
        return
    connection = db.session.connection()
    if db.engine.dialect.name == "postgresql":
        # COPY's text format, built at once (psycopg's write_row costs ~10 µs a row); a
        # bytea in hex, its backslash escaped.
        data = "".join(f"{rid}\t{cell}\t\\\\x{blob.hex()}\n" for rid, cell, blob in rows)
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy("COPY tally_members (response_id, cell_id, flags) FROM STDIN") as copy:
            copy.write(data)
        return
    connection.exec_driver_sql(
        "INSERT INTO tally_members (response_id, cell_id, flags) VALUES (?, ?, ?)", rows
    )


@dataclass
class _Change:
    n: int
    products: np.ndarray


def _apply(change: dict[int | Key, _Change]) -> dict[Key, int]:
    """Add the changes to their cells (new cells made, emptied ones removed); the cell id of
    every key a new member goes to."""
    pending: list[tuple[TallyCell, _Change]] = []
    by_id = {k: v for k, v in change.items() if isinstance(k, int)}
    if by_id:
        for cell in db.session.scalars(select(TallyCell).where(TallyCell.id.in_(list(by_id)))):
            pending.append((cell, by_id[cell.id]))
    keyed: dict[Key, TallyCell] = {}
    wanted = [key for key in change if isinstance(key, tuple)]
    # The cells of the campaigns concerned, in one statement (a campaign has one per desk,
    # channel and unit): a bulk fold touches hundreds of them per round.
    existing: dict[Key, TallyCell] = {}
    if wanted:
        for cell in db.session.scalars(
            select(TallyCell).where(TallyCell.campaign_id.in_({k[0] for k in wanted}))
        ):
            existing[
                (
                    cell.campaign_id,
                    cell.layout,
                    cell.questionnaire_id,
                    cell.channel,
                    cell.service_point_id,
                    cell.unit_id,
                )
            ] = cell
    for key in wanted:
        entry = change[key]
        campaign, layout, qn, channel, desk, unit = key
        found = existing.get(key)
        if found is None:
            found = TallyCell(
                campaign_id=campaign,
                layout=layout,
                questionnaire_id=qn,
                channel=channel,
                service_point_id=desk,
                unit_id=unit,
                n=0,
                products=np.zeros_like(entry.products).tobytes(),
            )
            db.session.add(found)
        keyed[key] = found
        pending.append((found, entry))
    for cell, entry in pending:
        size = entry.products.shape[0]
        products = np.frombuffer(cell.products, dtype=np.int64).reshape(size, size)
        cell.n = int(cell.n) + entry.n
        cell.products = (products + entry.products).tobytes()
    db.session.flush()
    out = {key: cell.id for key, cell in keyed.items()}
    for cell in {id(c): c for c, _ in pending}.values():
        if cell.n == 0:
            db.session.delete(cell)
    db.session.flush()
    return out


def cells(campaign: Campaign, sample: Sample, qn: Questionnaire) -> Cells:
    """The tallied cells of ``sample`` (its channels, questionnaire ``qn``), after a fold."""
    fold()
    spec = _items(qn)
    if _layout_changed(campaign, qn, spec.layout):
        fold()
    rows = db.session.execute(
        select(
            TallyCell.service_point_id,
            TallyCell.unit_id,
            TallyCell.channel,
            TallyCell.n,
            TallyCell.products,
        ).where(
            TallyCell.campaign_id == campaign.id,
            TallyCell.layout == spec.layout,
            TallyCell.questionnaire_id == qn.id,
            TallyCell.channel.in_([c.value for c in sample.channels]),
        )
    ).all()
    size = 2 * len(spec.codes)
    products = np.zeros((len(rows), size, size), dtype=np.float64)
    for i, row in enumerate(rows):
        products[i] = np.frombuffer(row.products, dtype=np.int64).reshape(size, size)
    frame = pd.DataFrame(
        {
            "desk_id": [int(r.service_point_id) for r in rows],
            "unit_id": [None if r.unit_id == NONE else int(r.unit_id) for r in rows],
            "channel": [str(r.channel) for r in rows],
            "n": np.array([float(r.n) for r in rows], dtype=np.float64),
        }
    )
    columns = [f"{code}__{m}" for code in spec.codes for m in ("y", "r")]
    return Cells(frame, products, columns, spec.codes)


def units(campaign: Campaign) -> set[int]:
    """The units of ``campaign``'s tallied responses: those of its cells and of the responses
    journalled since the last fold. Read only (no fold): callers check levels in the middle
    of their own unit of work, which a fold's commit would end."""
    found = set(
        db.session.scalars(
            select(TallyCell.unit_id).where(TallyCell.campaign_id == campaign.id).distinct()
        )
    )
    found |= set(
        db.session.scalars(
            select(Response.unit_id)
            .where(
                Response.id.in_(select(TallyJournal.response_id)),
                Response.campaign_id == campaign.id,
            )
            .distinct()
        )
    )
    return {int(u) for u in found if u is not None and u != NONE}


def desks(campaign: Campaign, sample: Sample) -> list[int]:
    """The desks rated in ``sample``, as of the last fold (a report has just folded)."""
    found = db.session.scalars(
        select(TallyCell.service_point_id)
        .where(
            TallyCell.campaign_id == campaign.id,
            TallyCell.channel.in_([c.value for c in sample.channels]),
        )
        .distinct()
    )
    return sorted(int(d) for d in found if d != NONE)


def strata_nest(campaign: Campaign, sample: Sample, by: str) -> bool:
    """Whether every desk's tallied ratings in ``sample`` lie in one ``by`` level (the desk
    itself, the channel, or else the unit), after a fold: read from the cells, one row per
    (desk, channel, unit), where the rows' GROUP BY read every rating."""
    fold()
    rows = db.session.execute(
        select(TallyCell.service_point_id, TallyCell.channel, TallyCell.unit_id)
        .where(
            TallyCell.campaign_id == campaign.id,
            TallyCell.channel.in_([c.value for c in sample.channels]),
            TallyCell.n > 0,
        )
        .distinct()
    ).all()
    levels: dict[int, set[object]] = {}
    for desk, channel, unit in rows:
        key = desk if by == "desk" else channel if by == "channel" else unit
        levels.setdefault(int(desk), set()).add(key)
    return all(len(keys) == 1 for keys in levels.values())


def _layout_changed(campaign: Campaign, qn: Questionnaire, layout: str) -> bool:
    """Cells of ``qn`` under another layout (its rated items changed since): journal their
    responses so the next fold moves them to the present layout."""
    stale = select(TallyCell.id).where(
        TallyCell.campaign_id == campaign.id,
        TallyCell.questionnaire_id == qn.id,
        TallyCell.layout != layout,
    )
    members = db.session.scalars(
        select(TallyMember.response_id).where(TallyMember.cell_id.in_(stale))
    ).all()
    if not members or read_only():
        return False
    with write_lock():
        db.session.execute(insert(TallyJournal), [{"response_id": rid} for rid in members])
        db.session.commit()
    return True
