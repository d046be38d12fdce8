"""The desk ratings' running tallies (:mod:`surveyapp.models.tallies`): folding the
journal the database's triggers write, and reading a sample's cells as arrays.

A report calls :func:`cells`, which first folds every journalled change (each response's
recorded contribution out of its old cell, its present one into its cell) and then reads one
row per (desk, channel, unit) cell. The fold is O(changes since the last report), the read
O(cells); neither depends on how many ratings a desk has gathered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, event, insert, select, text
from sqlalchemy.orm import Session

from surveyapp.data import bits
from surveyapp.data.locks import write_lock
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign, Channel
from surveyapp.models.questionnaires import Questionnaire, QuestionType
from surveyapp.models.responses import Answer, Response, ResponseStatus
from surveyapp.models.tallies import TallyCell, TallyJournal, TallyMember

if TYPE_CHECKING:
    from surveyapp.data.queries import Sample

FOLD_CHUNK = 5_000  # journal rows folded per round (bounds each statement's IN list)
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


def counts(channel: str, status: str, held: bool, weight: float | None) -> bool:
    """Whether a response is tallied: final, not held out, a rating or an answer to a
    standalone invitation code (an answer with its form's design weight is read with the
    probability sample)."""
    if status != ResponseStatus.FINAL.value or held:
        return False
    if channel == Channel.WEB_INVITE.value:
        return weight is None
    return channel in (Channel.QR.value, Channel.KIOSK.value)


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
    if session.scalar(select(TallyJournal.id).limit(1)) is None:
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
    while True:
        rows = db.session.execute(
            select(TallyJournal.id, TallyJournal.response_id)
            .order_by(TallyJournal.id)
            .limit(FOLD_CHUNK)
        ).all()
        if not rows:
            return folded
        ids = sorted({rid for _jid, rid in rows})
        _fold(ids)
        db.session.execute(
            delete(TallyJournal).where(TallyJournal.id.in_([jid for jid, _ in rows]))
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


def _fold(ids: Sequence[int]) -> None:
    change, new_members, had_members = _changes(ids)
    if had_members:
        db.session.execute(delete(TallyMember).where(TallyMember.response_id.in_(ids)))
    cell_ids = _apply(change)
    if new_members:
        db.session.execute(
            insert(TallyMember),
            [
                {"response_id": rid, "cell_id": cell_ids[key], "flags": blob}
                for rid, key, blob in new_members
            ],
        )


def _changes(
    ids: Sequence[int],
) -> tuple[dict[int | Key, _Change], list[tuple[int, Key, bytes]], bool]:
    """What folding responses ``ids`` changes: per cell (by id for the contributions taken
    out, by key for those put in) rows and products; the new members; whether any of the
    responses had one."""
    old = db.session.execute(
        select(TallyMember.response_id, TallyMember.cell_id, TallyMember.flags).where(
            TallyMember.response_id.in_(ids)
        )
    ).all()
    current = db.session.execute(
        select(
            Response.id,
            Response.campaign_id,
            Response.questionnaire_id,
            Response.channel,
            Response.status,
            Response.held,
            Response.weight,
            Response.service_point_id,
            Response.unit_id,
        ).where(Response.id.in_(ids))
    ).all()
    counted = [r for r in current if counts(str(r.channel), str(r.status), bool(r.held), r.weight)]
    items = {
        qid: _items(qn)
        for qid in {r.questionnaire_id for r in counted}
        if (qn := db.session.get(Questionnaire, qid)) is not None
    }
    flags = _flags(counted, items)
    groups: dict[int | Key, list[np.ndarray]] = {}
    signs: dict[int | Key, int] = {}
    for _rid, cell_id, blob in old:
        groups.setdefault(int(cell_id), []).append(np.frombuffer(blob, dtype=np.uint8))
        signs[int(cell_id)] = -1
    new_members: list[tuple[int, Key, bytes]] = []
    for r in counted:
        if r.questionnaire_id not in items:
            continue
        key: Key = (
            int(r.campaign_id),
            items[r.questionnaire_id].layout,
            int(r.questionnaire_id),
            str(r.channel),
            NONE if r.service_point_id is None else int(r.service_point_id),
            NONE if r.unit_id is None else int(r.unit_id),
        )
        x = flags[int(r.id)]
        groups.setdefault(key, []).append(x)
        signs[key] = 1
        new_members.append((int(r.id), key, x.tobytes()))
    # One product per cell: X'X over its rows.
    change: dict[int | Key, _Change] = {}
    for target, rows in groups.items():
        matrix = np.vstack(rows).astype(np.int64)
        sign = signs[target]
        change[target] = _Change(sign * len(rows), sign * (matrix.T @ matrix))
    return change, new_members, bool(old)


@dataclass
class _Change:
    n: int
    products: np.ndarray


def _flags(counted: Sequence[Any], items: dict[int, _Items]) -> dict[int, np.ndarray]:
    """Per counted response, its flags ``x``: satisfied, answered per rated item."""
    out: dict[int, np.ndarray] = {}
    of: dict[int, _Items] = {}
    for r in counted:
        spec = items.get(int(r.questionnaire_id))
        if spec is not None:
            out[int(r.id)] = np.zeros(2 * len(spec.codes), dtype=np.uint8)
            of[int(r.id)] = spec
    ids = list(out)
    for start in range(0, len(ids), FOLD_CHUNK):
        chunk = ids[start : start + FOLD_CHUNK]
        for rid, qid, value in db.session.execute(
            select(Answer.response_id, Answer.question_id, Answer.value).where(
                Answer.response_id.in_(chunk), Answer.value.is_not(None)
            )
        ):
            spec = of[int(rid)]
            i = spec.position.get(int(qid))
            if i is None:
                continue
            x = out[int(rid)]
            x[2 * i + 1] = 1
            if value in spec.satisfied:
                x[2 * i] = 1
    return out


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
    if not members:
        return False
    with write_lock():
        db.session.execute(insert(TallyJournal), [{"response_id": rid} for rid in members])
        db.session.commit()
    return True
