"""The one adapter from the database to the analysis package.

Views and reports never read answers themselves: they ask this module for arrays. The heavy
pass over the answers runs in SQL (a GROUP BY per response that pivots the long answer table
into one column per question), so Python receives one row per response, never per answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, case, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign, Channel
from surveyapp.models.questionnaires import Question
from surveyapp.models.responses import Answer, Response, ResponseStatus
from surveyapp.models.units import ServicePoint, TransactionVolume, Unit, UnitLevel

DESIGN_COLUMNS = ["stratum", "psu", "ssu", "weight", "fpc1", "fpc2"]


@dataclass(frozen=True)
class Labels:
    district_of_unit: dict[int, str]
    desk_names: dict[int, str]


def labels() -> Labels:
    """District name of every unit (units above district level map to themselves)."""
    units = {u.id: u for u in db.session.scalars(select(Unit))}
    district: dict[int, str] = {}
    for unit_id, unit in units.items():
        node: Unit | None = unit
        while node is not None and node.level not in (UnitLevel.DISTRICT, UnitLevel.PROVINCE):
            node = units.get(node.parent_id) if node.parent_id else None
        district[unit_id] = node.name if node is not None else unit.name
    desks = {d.id: d.name for d in db.session.scalars(select(ServicePoint))}
    return Labels(district, desks)


def response_frame(
    campaign: Campaign, channels: Iterable[Channel], questions: list[Question]
) -> pd.DataFrame:
    """One row per final response of ``campaign`` on ``channels``.

    Columns: ``response_id``, ``channel``, the design columns, ``unit_id``,
    ``service_point_id``, ``period_id``, ``district``, ``desk`` and one column per question
    code holding the answer value (missing when not answered).
    """
    pivots = [
        func.max(case((Answer.question_id == q.id, Answer.value))).label(q.code) for q in questions
    ]
    keys = [
        Response.id.label("response_id"),
        Response.channel,
        Response.stratum,
        Response.psu,
        Response.ssu,
        Response.weight,
        Response.fpc1,
        Response.fpc2,
        Response.unit_id,
        Response.service_point_id,
        Response.period_id,
    ]
    stmt = (
        select(*keys, *pivots)
        .outerjoin(Answer, Answer.response_id == Response.id)
        .where(
            Response.campaign_id == campaign.id,
            Response.status == ResponseStatus.FINAL,
            Response.channel.in_(list(channels)),
        )
        .group_by(*keys)
        .order_by(Response.id)
    )
    result = db.session.execute(stmt)
    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    frame["channel"] = [c.value if isinstance(c, Channel) else c for c in frame["channel"]]
    for q in questions:
        frame[q.code] = pd.to_numeric(frame[q.code], errors="coerce").astype("float64")
    for col in ("weight", "fpc1", "fpc2"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    names = labels()
    frame["district"] = [
        names.district_of_unit.get(int(u)) if pd.notna(u) else None for u in frame["unit_id"]
    ]
    frame["desk"] = [
        names.desk_names.get(int(d)) if pd.notna(d) else None for d in frame["service_point_id"]
    ]
    return frame


def desk_volumes(campaign: Campaign) -> dict[int, float]:
    """Transactions per desk over the periods that overlap the campaign."""
    stmt = (
        select(TransactionVolume.service_point_id, func.sum(TransactionVolume.transactions))
        .where(
            TransactionVolume.period_start <= campaign.ends,
            TransactionVolume.period_end >= campaign.starts,
        )
        .group_by(TransactionVolume.service_point_id)
    )
    return {desk: float(total) for desk, total in db.session.execute(stmt)}


def volume_weights(frame: pd.DataFrame, volumes: dict[int, float]) -> np.ndarray:
    """Weight every rating by its desk's transactions over its desk's ratings.

    Each desk then counts in proportion to the citizens it served, not to how keen its
    visitors were to scan the code. A desk without a recorded volume gets weight 1 per rating.
    """
    desk = frame["service_point_id"]
    ratings = desk.map(desk.value_counts())
    weights = desk.map(volumes) / ratings
    return weights.fillna(1.0).to_numpy(dtype=np.float64)


BY_SQL = {
    "district": Response.unit_id,
    "desk": Response.service_point_id,
    "channel": Response.channel,
}


def cell_frame(
    campaign: Campaign,
    channels: Iterable[Channel],
    questions: list[Question],
    satisfied: tuple[int, ...],
    *,
    keys: dict[str, Any],
    by: str | None = None,
) -> pd.DataFrame:
    """Sufficient statistics of the analysis package, summed in the database.

    One row per cell (the ``keys`` columns, e.g. stratum, PSU and SSU, plus the ``by``
    level) with ``n`` and ``sw`` (rows and weight sum over all responses) and, for every
    question ``q``, ``q__wy`` (weighted count of satisfied answers), ``q__wr`` (weighted count
    of answers) and ``q__r`` (count of answers): the table
    :func:`surveyapp.analysis.cells_api.analyze_cell_frame` reads. The pass over the answer
    rows is one GROUP BY in SQL; Python only relabels and joins cells.
    """
    key_cols = [expr.label(name) for name, expr in keys.items()]
    if by is not None:
        key_cols.append(BY_SQL[by].label("by_key"))
    weight = func.coalesce(Response.weight, 1.0)
    scope = (
        Response.campaign_id == campaign.id,
        Response.status == ResponseStatus.FINAL,
        Response.channel.in_(list(channels)),
    )
    # One row per response with its answers folded into bit masks (bit k of ``a<j>``: item
    # k of block j answered; of ``s<j>``: answered satisfied). Each (response, question)
    # pair is unique, so the sum of distinct bits is their OR. Two integers per 62 items
    # instead of three sums per item keep both the database's work per answer row and the
    # rows sent to Python small; the weighting and the cell sums are then done in numpy.
    blocks = [questions[i : i + MASK_BITS] for i in range(0, len(questions), MASK_BITS)]
    masks = []
    for j, block in enumerate(blocks):
        bit = case({q.id: literal(1 << k, BigInteger) for k, q in enumerate(block)},
                   value=Answer.question_id)  # fmt: skip
        answered = case((Answer.value.is_not(None), bit))
        good = case((Answer.value.in_(satisfied), bit))
        masks += [_bit_or(answered).label(f"a{j}"), _bit_or(good).label(f"s{j}")]
    group = [Response.id, *(c.element for c in key_cols), Response.weight]
    rows = db.session.execute(
        select(*key_cols, weight.label("w"), *masks)
        .select_from(Response)
        # No question filter in the join: the CASE already ignores other questions, and one
        # range scan of a response's answers beats a lookup per (response, item) pair.
        .outerjoin(Answer, Answer.response_id == Response.id)
        .where(*scope)
        .group_by(*group)
    )
    names = list(rows.keys())
    # Column by column: handed a list of Row objects, pandas probes every row for namedtuple
    # fields (an AttributeError each), which costs ~20 s at a million responses.
    columns = list(zip(*rows.fetchall(), strict=True)) or [()] * len(names)
    per_response = pd.DataFrame(dict(zip(names, columns, strict=True)))
    on = [c.name for c in key_cols]
    cells = _cell_sums(per_response, on, blocks)
    # Build the result in one go: column-by-column inserts fragment a wide frame.
    data: dict[str, Any] = {}
    for col in cells.columns:
        if col == "by_key":
            continue
        numeric = col.endswith(("__wy", "__wr", "__r")) or col in ("n", "sw")
        data[col] = cells[col].astype("float64") if numeric else cells[col]
    if by is not None:
        data[by] = _by_labels(by, cells["by_key"])
    return pd.DataFrame(data)


MASK_BITS = 62  # items per mask: the bits of a signed 64-bit integer, with room to spare


def _bit_or(expr: Any) -> Any:
    """OR of the distinct bits of a group: PostgreSQL's ``bit_or`` stays a bigint (its
    ``sum`` of bigints would be numeric); SQLite has no ``bit_or`` and its integer ``sum`` of
    distinct powers of two is the same number."""
    return _BitOr(expr)


class _BitOr(FunctionElement[int]):
    type = BigInteger()
    inherit_cache = True
    name = "bit_or_masks"


@compiles(_BitOr)
def _bit_or_default(element: _BitOr, compiler: Any, **kw: Any) -> str:
    return f"sum({compiler.process(element.clauses, **kw)})"


@compiles(_BitOr, "postgresql")
def _bit_or_postgresql(element: _BitOr, compiler: Any, **kw: Any) -> str:
    return f"bit_or({compiler.process(element.clauses, **kw)})"


def _cell_sums(
    per_response: pd.DataFrame, on: list[str], blocks: list[list[Question]]
) -> pd.DataFrame:
    """Decode the masks into ``n``, ``sw`` and ``q__wy``/``q__wr``/``q__r`` per response,
    then sum them per cell (the ``on`` columns). A response without answers has no bits."""
    w = per_response["w"].astype("float64").to_numpy()
    data: dict[str, Any] = {name: per_response[name] for name in on}
    data["n"] = np.ones(len(w))
    data["sw"] = w
    for j, block in enumerate(blocks):
        answered = per_response[f"a{j}"].fillna(0).astype("int64").to_numpy()
        good = per_response[f"s{j}"].fillna(0).astype("int64").to_numpy()
        for k, q in enumerate(block):
            r = ((answered >> k) & 1).astype("float64")
            y = ((good >> k) & 1).astype("float64")
            data[f"{q.code}__wy"] = w * y
            data[f"{q.code}__wr"] = w * r
            data[f"{q.code}__r"] = r
    frame = pd.DataFrame(data)
    if frame.empty:
        return frame
    groups = frame.groupby(on, dropna=False, sort=False)
    if groups.ngroups == len(frame):
        # One response per cell (the probability sample's households): nothing to sum.
        return frame
    return groups.sum().reset_index()


def _by_labels(by: str, values: pd.Series) -> list[Any]:
    if by in ("district", "desk"):
        names = labels()
        mapping = names.district_of_unit if by == "district" else names.desk_names
        # One vectorised lookup per cell (a million cells at 1M responses), missing → None.
        named = pd.to_numeric(values, errors="coerce").map(mapping)
        return named.astype(object).where(named.notna(), None).tolist()
    return [v.value if isinstance(v, Channel) else v for v in values]


def population_sizes(
    campaign: Campaign, channels: Iterable[Channel]
) -> tuple[dict[Any, float], dict[tuple[Any, Any], float]]:
    """Stage population sizes stored with the responses: per stratum and per (stratum, PSU)."""
    stmt = (
        select(Response.stratum, Response.psu, func.max(Response.fpc1), func.max(Response.fpc2))
        .where(
            Response.campaign_id == campaign.id,
            Response.status == ResponseStatus.FINAL,
            Response.channel.in_(list(channels)),
        )
        .group_by(Response.stratum, Response.psu)
    )
    stage1: dict[Any, float] = {}
    stage2: dict[tuple[Any, Any], float] = {}
    for stratum, psu, fpc1, fpc2 in db.session.execute(stmt):
        if fpc1 is not None:
            stage1[stratum] = float(fpc1)
        if fpc2 is not None:
            stage2[(stratum, psu)] = float(fpc2)
    return stage1, stage2
