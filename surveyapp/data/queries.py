"""The one adapter from the database to the analysis package.

Views and reports never read answers themselves: they ask this module for arrays. The passes
over the answers run in SQL (a GROUP BY per response that pivots the long answer table into
one column per question, or folds it into bit masks kept per response, see
:mod:`surveyapp.data.bits`), so Python receives one row per response, never per answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from surveyapp.data import bits, respondents, tallies
from surveyapp.data.memo import memo
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign, Channel
from surveyapp.models.questionnaires import Question, Questionnaire
from surveyapp.models.regions import UnitRegion
from surveyapp.models.responses import Answer, Response, ResponseBits, ResponseStatus
from surveyapp.models.sampling import Form, Household
from surveyapp.models.tallies import TALLIED_CHANNELS
from surveyapp.models.units import ServicePoint, TransactionVolume, Unit, UnitLevel

# Domain label of the responses a dashboard filter leaves out. They stay in the design (a
# domain is estimated on the full sample, never by dropping rows); only their rows of
# estimates are not shown.
OUTSIDE = "\u2205 outside the filter"
# Domain column of a filtered report without a breakdown.
SUBSET = "_subset"


@dataclass(frozen=True)
class Filters:
    """What an analyst narrowed the dashboard to: a channel, a period, a unit's subtree; and
    a reporting period's submission dates (``submitted_from`` ≤ submitted_at <
    ``submitted_before``, timezone-aware moments, see services.periodic)."""

    channel: Channel | None = None
    period_id: int | None = None
    unit_ids: tuple[int, ...] | None = None
    submitted_from: datetime | None = None
    submitted_before: datetime | None = None

    @property
    def empty(self) -> bool:
        return (
            self.channel is None
            and self.period_id is None
            and self.unit_ids is None
            and self.submitted_from is None
            and self.submitted_before is None
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "channel": self.channel.value if self.channel else None,
            "period_id": self.period_id,
            "unit_ids": list(self.unit_ids) if self.unit_ids is not None else None,
        }
        if self.submitted_from is not None or self.submitted_before is not None:
            out["submitted_from"] = _iso(self.submitted_from)
            out["submitted_before"] = _iso(self.submitted_before)
        return out

    def condition(self) -> Any:
        """The SQL condition a response meets to be inside the filter."""
        parts = []
        if self.channel is not None:
            parts.append(Response.channel == self.channel)
        if self.period_id is not None:
            parts.append(Response.period_id == self.period_id)
        if self.unit_ids is not None:
            parts.append(Response.unit_id.in_(list(self.unit_ids)))
        if self.submitted_from is not None:
            parts.append(Response.submitted_at >= self.submitted_from)
        if self.submitted_before is not None:
            parts.append(Response.submitted_at < self.submitted_before)
        return and_(*parts)

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """The same condition on a :func:`response_frame`."""
        keep = np.ones(len(frame), dtype=bool)
        if self.channel is not None:
            keep &= (frame["channel"] == self.channel.value).to_numpy()
        if self.period_id is not None:
            keep &= (frame["period_id"] == self.period_id).to_numpy()
        if self.unit_ids is not None:
            keep &= frame["unit_id"].isin(list(self.unit_ids)).to_numpy()
        if self.submitted_from is not None or self.submitted_before is not None:
            # Stored in UTC; SQLite hands the moments back naive.
            moments = pd.to_datetime(frame["submitted_at"], utc=True)
            if self.submitted_from is not None:
                keep &= (moments >= pd.Timestamp(self.submitted_from)).to_numpy()
            if self.submitted_before is not None:
                keep &= (moments < pd.Timestamp(self.submitted_before)).to_numpy()
        return keep


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


@dataclass(frozen=True)
class Sample:
    """One of the three samples a campaign's answers fall into, never pooled (DESIGN §4).

    ``designed``: True keeps only answers that carry a design (a weight: every drawn paper
    form has one, and an answer given with a form's invitation copies it), False only those
    that carry none (a standalone invitation code), None both.
    """

    key: str  # "probability", "convenience" or "invited"
    channels: tuple[Channel, ...]
    designed: bool | None = None

    @property
    def probability(self) -> bool:
        return self.key == "probability"

    def condition(self) -> Any:
        """The SQL condition a final response meets to belong to this sample."""
        on_channel = Response.channel.in_(list(self.channels))
        if self.designed is None:
            return on_channel
        if self.designed:
            # A keyed paper form always comes from a draw; an online answer belongs here only
            # when it inherited its form's design.
            return and_(
                on_channel,
                or_(Response.channel != Channel.WEB_INVITE, Response.weight.is_not(None)),
            )
        return and_(on_channel, Response.weight.is_(None))


SAMPLES = {
    "probability": Sample("probability", (Channel.PAPER, Channel.WEB_INVITE), designed=True),
    "convenience": Sample("convenience", (Channel.QR, Channel.KIOSK)),
    # Answers to a code not tied to a drawn form: no design, so descriptive only.
    "invited": Sample("invited", (Channel.WEB_INVITE,), designed=False),
}


def in_sample(key: str, channel: str, weight: Any) -> bool:
    """:meth:`Sample.condition` on one exported row (channel value and design weight)."""
    sample = SAMPLES[key]
    if channel not in {c.value for c in sample.channels}:
        return False
    if sample.designed is None or channel != Channel.WEB_INVITE.value:
        return True
    return (weight is not None) == sample.designed


Selection = Sample | Iterable[Channel]


def final(campaign: Campaign, channels: Selection) -> tuple[Any, ...]:
    """The WHERE conditions of ``campaign``'s final responses in a sample (or on channels),
    less those held out as bursts until an analyst releases them (services.abuse)."""
    where = (
        channels.condition()
        if isinstance(channels, Sample)
        else Response.channel.in_(list(channels))
    )
    return (
        Response.campaign_id == campaign.id,
        Response.status == ResponseStatus.FINAL,
        where,
        Response.held.is_(False),
    )


def answered_with(questionnaire: Questionnaire | None) -> tuple[Any, ...]:
    """The condition that a response answered ``questionnaire`` (none when not given): a
    sample is read with the questionnaire its channels ask, so a linked full survey answered
    on the same channel (another questionnaire) is not read as a desk rating."""
    if questionnaire is None:
        return ()
    return (Response.questionnaire_id == questionnaire.id,)


def unit_subtree(unit_id: int) -> tuple[int, ...]:
    """``unit_id`` and every unit below it."""
    children: dict[int | None, list[int]] = {}
    for uid, parent in db.session.execute(select(Unit.id, Unit.parent_id)):
        children.setdefault(parent, []).append(uid)
    out, todo = [], [unit_id]
    while todo:
        uid = todo.pop()
        out.append(uid)
        todo.extend(children.get(uid, []))
    return tuple(sorted(out))


def unit_subtree_many(unit_ids: Iterable[int]) -> tuple[int, ...]:
    """Every unit at or below any of ``unit_ids``."""
    children: dict[int | None, list[int]] = {}
    for uid, parent in db.session.execute(select(Unit.id, Unit.parent_id)):
        children.setdefault(parent, []).append(uid)
    out: set[int] = set()
    todo = list(unit_ids)
    while todo:
        uid = todo.pop()
        if uid not in out:
            out.add(uid)
            todo.extend(children.get(uid, []))
    return tuple(sorted(out))


def domain_labels(labels: list[Any], inside: np.ndarray) -> list[Any]:
    """Labels of a breakdown within a filter: outside rows share one label."""
    return [label if keep else OUTSIDE for label, keep in zip(labels, inside, strict=True)]


# The breakdown and margin level that is not a unit level: a named group of communes
# (surveyapp.models.regions). Every other level is a unit level (UnitLevel values).
REGION = "region"


@dataclass(frozen=True)
class Node:
    """The unit (or region) at a level that a unit belongs to: its code and its name."""

    code: str
    name: str


def _unit_rows() -> dict[int, tuple[str, str, int | None, str]]:
    """Every unit: id → (code, name, parent id, level value), one query per transaction
    (every breakdown label and level a page shows reads them)."""
    kept = memo("units")
    if "rows" not in kept:
        kept["rows"] = {
            uid: (code, name, parent, UnitLevel(level).value)
            for uid, code, name, parent, level in db.session.execute(
                select(Unit.id, Unit.code, Unit.name, Unit.parent_id, Unit.level)
            )
        }
    rows: dict[int, tuple[str, str, int | None, str]] = kept["rows"]
    return rows


def level_nodes(level: str, strict: bool = False) -> dict[int, Node | None]:
    """The node at ``level`` every unit belongs to.

    A unit level: the unit's nearest ancestor-or-self at that level; a unit with none (one
    above the level, such as the provincial centre's desk) maps to the top of its tree, as
    its own domain (None when ``strict``). :data:`REGION`: the region of the unit's nearest
    ancestor-or-self that a region lists; None without one.
    """
    kept = memo("level_nodes")
    if (level, strict) not in kept:
        kept[(level, strict)] = _level_nodes(level, strict)
    return dict(kept[(level, strict)])


def _level_nodes(level: str, strict: bool) -> dict[int, Node | None]:
    units = _unit_rows()
    regions: dict[int, str] = {}
    if level == REGION:
        regions = dict(db.session.execute(select(UnitRegion.unit_id, UnitRegion.region)).all())
    out: dict[int, Node | None] = {}
    for uid in units:
        node: int | None = uid
        found: Node | None = None
        while node is not None:
            code, name, parent, node_level = units[node]
            if level == REGION:
                if node in regions:
                    found = Node(regions[node], regions[node])
                    break
            elif node_level == level or (parent is None and not strict):
                found = Node(code, name)
                break
            node = parent
        out[uid] = found
    return out


def level_labels(level: str) -> dict[int, str]:
    """Breakdown label at ``level`` of every unit (see :func:`level_nodes`).

    A label is a breakdown's key: two communes (or desks) that share a name (many communes
    are called "Tân Phú") would be pooled into one domain, so a shared name gets its code.
    """
    nodes = level_nodes(level)
    distinct = {n.code: n for n in nodes.values() if n is not None}
    shared = Counter(n.name for n in distinct.values())
    return {
        uid: node.name if shared[node.name] == 1 else f"{node.name} ({node.code})"
        for uid, node in nodes.items()
        if node is not None
    }


def level_codes(level: str) -> dict[int, str]:
    """Code at ``level`` of every unit that has one (a region's code is its name), as
    exports and calibration categories show it."""
    return {uid: n.code for uid, n in level_nodes(level, strict=True).items() if n is not None}


def desk_labels() -> dict[int, str]:
    """Breakdown label of every desk: its name, with its id where names are shared."""
    points = list(db.session.scalars(select(ServicePoint)))
    shared_desk = Counter(d.name for d in points)
    return {d.id: d.name if shared_desk[d.name] == 1 else f"{d.name} (#{d.id})" for d in points}


def unit_levels_above(unit_ids: Iterable[int]) -> list[str]:
    """Levels (coarsest first) of ``unit_ids`` and of their ancestors."""
    units = _unit_rows()
    present: set[str] = set()
    for start in set(unit_ids):
        node: int | None = start
        while node is not None and node in units:
            present.add(units[node][3])
            node = units[node][2]
    return [lv.value for lv in UnitLevel if lv.value in present]


def answered_units(campaign: Campaign) -> list[int]:
    """The units ``campaign``'s responses (or its forms' villages) belong to: the desk
    ratings' from their tallied cells (one row per desk, not per rating), the others' from
    the responses."""
    # Every status and the untallied channels, listed, in a subquery of ids: the (campaign,
    # status, channel) index then reads only those rows ("channel NOT IN" read every rating
    # too, and SQLite reads the whole unit index for a DISTINCT unit_id on the table itself).
    untallied = select(Response.id).where(
        Response.campaign_id == campaign.id,
        Response.status.in_(list(ResponseStatus)),
        Response.channel.in_([c for c in Channel if c.value not in TALLIED_CHANNELS]),
    )
    responses = select(Response.unit_id).where(Response.id.in_(untallied))
    villages = (
        select(Household.village_id)
        .join(Form, Form.household_id == Household.id)
        .where(Form.campaign_id == campaign.id)
    )
    found = (
        set(db.session.scalars(responses.distinct()))
        | set(db.session.scalars(villages.distinct()))
        | tallies.units(campaign)
    )
    return sorted(u for u in found if u is not None)


def regions_of(unit_ids: Iterable[int]) -> list[str]:
    """Names of the regions that list any of ``unit_ids`` (sorted)."""
    ids = list(unit_ids)
    if not ids:
        return []
    stmt = select(UnitRegion.region).where(UnitRegion.unit_id.in_(ids)).distinct()
    return sorted(db.session.scalars(stmt))


def response_frame(
    campaign: Campaign,
    channels: Selection,
    questions: list[Question],
    questionnaire: Questionnaire | None = None,
    levels: Sequence[str] = (),
) -> pd.DataFrame:
    """One row per final response of ``campaign`` on ``channels``.

    Columns: ``response_id``, ``channel``, the design columns, ``unit_id``,
    ``service_point_id``, ``period_id``, ``submitted_at``, one label column per level of
    ``levels`` (e.g. ``commune``, ``region``: see :func:`level_labels`), ``desk`` and one
    column per question
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
        Response.submitted_at,
    ]
    stmt = (
        select(*keys, *pivots)
        .outerjoin(Answer, Answer.response_id == Response.id)
        .where(*final(campaign, channels), *answered_with(questionnaire))
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
    for level in levels:
        names = level_labels(level)
        frame[level] = [names.get(int(u)) if pd.notna(u) else None for u in frame["unit_id"]]
    desks = desk_labels()
    frame["desk"] = [desks.get(int(d)) if pd.notna(d) else None for d in frame["service_point_id"]]
    return frame


def desk_volumes(campaign: Campaign) -> dict[int, float]:
    """Transactions per desk over the periods that overlap the campaign (positive totals)."""
    stmt = (
        select(TransactionVolume.service_point_id, func.sum(TransactionVolume.transactions))
        .where(
            TransactionVolume.period_start <= campaign.ends,
            TransactionVolume.period_end >= campaign.starts,
        )
        .group_by(TransactionVolume.service_point_id)
    )
    # A recorded total of 0 is no volume to weight by (a desk with ratings served someone):
    # such a desk is weighted as one without a record, and named as such.
    return {desk: float(total) for desk, total in db.session.execute(stmt) if total and total > 0}


# Weight of a rating at a desk with no recorded transaction volume: the desk counts as if it
# had served only the citizens who rated it. Not a neutral choice (a desk serving thousands
# then weighs as little as its raters), so every report lists such desks by name
# (:func:`desks_without_volume`, "chưa có số giao dịch") instead of weighting them silently.
NO_VOLUME_WEIGHT = 1.0


def volume_weights(frame: pd.DataFrame, volumes: dict[int, float]) -> np.ndarray:
    """Weight every rating by its desk's transactions over its desk's ratings.

    Each desk then counts in proportion to the citizens it served, not to how keen its
    visitors were to scan the code. A desk without a recorded volume gets
    :data:`NO_VOLUME_WEIGHT` per rating, and is named by :func:`desks_without_volume`.
    """
    desk = frame["service_point_id"]
    ratings = desk.map(desk.value_counts())
    weights = desk.map(volumes) / ratings
    return weights.fillna(NO_VOLUME_WEIGHT).to_numpy(dtype=np.float64)


def desks_without_volume(campaign: Campaign, sample: Sample) -> list[str]:
    """Names of the desks rated in ``sample`` that have no transaction volume recorded for
    the campaign's dates (weighted :data:`NO_VOLUME_WEIGHT` per rating)."""
    volumes = desk_volumes(campaign)
    ids = [d for d in tallies.desks(campaign, sample) if d not in volumes]
    names = desk_labels()
    return sorted(names.get(d, str(d)) for d in ids)


# The response column a breakdown groups by: desks and channels, else the response's unit
# (labelled at the breakdown's level by :func:`level_labels`).
BY_SQL = {"desk": Response.service_point_id, "channel": Response.channel}


def by_sql(by: str) -> Any:
    return BY_SQL.get(by, Response.unit_id)


def cell_frame(
    campaign: Campaign,
    channels: Selection,
    questions: list[Question],
    *,
    keys: dict[str, Any],
    by: str | None = None,
    filters: Filters | None = None,
    joins: Sequence[tuple[Any, Any]] = (),
    values: Sequence[str] = (),
    unweighted: bool = False,
    questionnaire: Questionnaire | None = None,
) -> pd.DataFrame:
    """Sufficient statistics of the analysis package, summed per cell.

    One row per cell (the ``keys`` columns, e.g. stratum, PSU and SSU, plus the ``by``
    level) with ``n`` and ``sw`` (rows and weight sum over all responses) and, for every
    question ``q``, ``q__wy`` (weighted count of satisfied answers), ``q__wr`` (weighted count
    of answers) and ``q__r`` (count of answers): the table
    :func:`surveyapp.analysis.cells_api.analyze_cell_frame` reads. The database sends one
    row per response: its key columns, weight and answers folded into bit masks
    (:mod:`surveyapp.data.bits`, computed once per response); numpy decodes the masks
    and sums the cells.

    With ``filters``, the ``by`` column (or :data:`SUBSET` without ``by``) labels the cells
    outside the filter :data:`OUTSIDE`, so the filter is a domain of the full design.
    ``joins`` are (table, on-clause) pairs outer-joined to the responses so that ``keys`` can
    name their columns (e.g. :func:`calibration_keys`); ``values`` are single-choice
    questions whose answer becomes a key column of that name (e.g. sex and age group for
    calibration); ``unweighted`` adds ``q__y`` (count of satisfied answers), which raking
    needs. ``questionnaire``: the one the sample's channels ask (default: the campaign's);
    only the responses to it are read (the only ones with bits of its layout).
    """
    asked = questionnaire or campaign.questionnaire
    layout = bits.layout_for(asked)
    bits.fill(campaign, layout)
    key_cols = [expr.label(name) for name, expr in keys.items()]
    if by is not None:
        key_cols.append(by_sql(by).label("by_key"))
    filtered = filters is not None and not filters.empty
    if filtered:
        assert filters is not None
        key_cols.append(case((filters.condition(), 1), else_=0).label("inside"))
    weight = func.coalesce(Response.weight, 1.0)
    stmt = select(*key_cols, weight.label("w")).select_from(Response)
    for target, onclause in joins:
        stmt = stmt.outerjoin(target, onclause)
    for j in range(layout.blocks):
        block = aliased(ResponseBits, name=f"bits{j}")
        # Inner join: a response stored after the fill (or, on a read replica, after the
        # primary's last fold) waits for the next report.
        stmt = stmt.join(
            block,
            and_(block.response_id == Response.id, block.layout == layout.id, block.block == j),
        ).add_columns(block.bits.label(f"m{j}"))
    names, columns = _fetch_columns(stmt.where(*final(campaign, channels), *answered_with(asked)))
    per_response = dict(zip(names, columns, strict=True))
    on = [c.name for c in key_cols]
    masks = [np.asarray(per_response.pop(f"m{j}"), dtype=np.int64) for j in range(layout.blocks)]
    keys_frame = pd.DataFrame({name: per_response[name] for name in on})
    for code in values:
        keys_frame[code] = bits.decode_value(layout, masks, code)
    sums = _cell_sums(
        keys_frame,
        np.asarray(per_response["w"], dtype=np.float64),
        layout,
        masks,
        questions,
        unweighted,
    )
    cells = sums.drop(columns=[c for c in ("by_key", "inside") if c in sums.columns])
    labels: dict[str, Any] = {}
    if by is not None:
        labels[by] = by_labels(by, sums["by_key"])
    if filtered:
        inside = sums["inside"].to_numpy() == 1
        column = by or SUBSET
        labels[column] = domain_labels(labels.get(column, ["in"] * len(sums)), inside)
    if labels:
        # One concat: column-by-column inserts fragment a wide frame.
        cells = pd.concat([cells, pd.DataFrame(labels, index=cells.index)], axis=1)
    return cells


def _fetch_columns(stmt: Any) -> tuple[list[str], list[Sequence[Any]]]:
    """Run ``stmt`` and return its column names and values column by column.

    The rows come straight from the driver's cursor: the columns are plain strings and
    numbers (an enum arrives as its stored value), so SQLAlchemy's per-row processing would
    only add ~2 s per million rows. Column by column, since handed a list of rows pandas
    probes every row for namedtuple fields.
    """
    result = db.session.connection().execute(stmt)
    try:
        names = list(result.keys())
        rows = result.cursor.fetchall()
    finally:
        result.close()
    return names, list(zip(*rows, strict=True)) or [()] * len(names)


def domains_nest_in_strata(
    campaign: Campaign,
    channels: Selection,
    stratum: Any,
    by: str,
    filters: Filters | None = None,
) -> bool:
    """Whether every stratum lies within one ``by`` level (and wholly inside or outside
    ``filters``): then the domains' estimates are independent under the design."""
    unfiltered = filters is None or filters.empty
    if (
        isinstance(channels, Sample)
        and not channels.probability
        and stratum is Response.service_point_id
        and unfiltered
    ):
        # The desk ratings' strata are their desks: the tallied cells answer it.
        return tallies.strata_nest(campaign, channels, by)
    # As text, so a unit id, a desk id and a channel name compare alike on both databases.
    key: ColumnElement[str] = func.coalesce(cast(by_sql(by), String), "")
    if filters is not None and not unfiltered:
        key = case((filters.condition(), key), else_=OUTSIDE)
    per_stratum = (
        select(stratum.label("s"))
        .where(*final(campaign, channels))
        .group_by(stratum)
        .having(func.count(func.distinct(key)) > 1)
    )
    return db.session.scalar(select(func.count()).select_from(per_stratum.subquery())) == 0


def _cell_sums(
    keys: pd.DataFrame,
    w: np.ndarray,
    layout: bits.Layout,
    masks: list[np.ndarray],
    questions: list[Question],
    unweighted: bool = False,
) -> pd.DataFrame:
    """Decode the masks into ``n``, ``sw`` and ``q__wy``/``q__wr``/``q__r`` (and ``q__y``
    when ``unweighted``) per response, then sum them per cell (the ``keys`` columns)."""
    r = bits.decode_many(masks, [layout.position(q.code, bits.ANSWERED) for q in questions])
    y = bits.decode_many(masks, [layout.position(q.code, bits.SATISFIED) for q in questions])
    parts = [w[:, None] * y, w[:, None] * r, r, *([y] if unweighted else [])]
    suffixes = ["wy", "wr", "r", *(["y"] if unweighted else [])]
    # One float block (question by question, as the analysis reads them by name): a
    # frame built from a hundred separate columns spends its time stacking them.
    numbers = np.empty((len(w), 2 + len(parts) * len(questions)))
    numbers[:, 0] = 1.0
    numbers[:, 1] = w
    for i, part in enumerate(parts):
        numbers[:, 2 + i :: len(parts)] = part
    names = ["n", "sw", *(f"{q.code}__{sfx}" for q in questions for sfx in suffixes)]
    frame = pd.concat([keys, pd.DataFrame(numbers, columns=names, index=keys.index)], axis=1)
    if frame.empty:
        return frame
    groups = frame.groupby(list(keys.columns), dropna=False, sort=False)
    if groups.ngroups == len(frame):
        # One response per cell (the probability sample's households): nothing to sum.
        return frame
    return groups.sum().reset_index()


def by_labels(by: str, values: pd.Series) -> list[Any]:
    """The ``by`` level's label of each value (desk ids, channels or unit ids)."""
    if by == "channel":
        return [v.value if isinstance(v, Channel) else v for v in values]
    mapping = desk_labels() if by == "desk" else level_labels(by)
    # One vectorised lookup per cell (a million cells at 1M responses), missing → None.
    named = pd.to_numeric(values, errors="coerce").map(mapping)
    return named.astype(object).where(named.notna(), None).tolist()


def unit_psus(campaign: Campaign, channels: Selection) -> list[tuple[int, Any, Any]]:
    """The distinct (unit, stratum, PSU) of ``campaign``'s final responses in a sample: how
    many PSUs of the design a unit's respondents fall in."""
    stmt = (
        select(Response.unit_id, Response.stratum, Response.psu)
        .where(*final(campaign, channels), Response.unit_id.is_not(None))
        .distinct()
    )
    return [(u, s, p) for u, s, p in db.session.execute(stmt) if u is not None]


def population_sizes(
    campaign: Campaign, channels: Selection
) -> tuple[dict[Any, float], dict[tuple[Any, Any], float]]:
    """Stage population sizes stored with the responses: per stratum and per (stratum, PSU)."""
    stmt = (
        select(Response.stratum, Response.psu, func.max(Response.fpc1), func.max(Response.fpc2))
        .where(*final(campaign, channels))
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


def _form_classes(campaign: Campaign) -> Any:
    """Per paper form of ``campaign``: its serial, the village its household lives in (the
    non-response weighting class) and the commune (the unit a response on it belongs to)."""
    return (
        select(
            Form.serial.label("serial"),
            Unit.code.label("village"),
            func.coalesce(Unit.parent_id, Unit.id).label("commune_id"),
        )
        .join(Household, Household.id == Form.household_id)
        .join(Unit, Unit.id == Household.village_id)
        .where(Form.campaign_id == campaign.id)
        .subquery("form_class")
    )


def calibration_keys(campaign: Campaign) -> tuple[dict[str, Any], list[tuple[Any, Any]]]:
    """Key columns (and the joins they need) for a non-response adjusted, calibrated cell table.

    ``nr_class``: the village of the household whose paper form a response answers (matched
    by serial, as the export matches a form's paper or online answer), empty without a form;
    ``unit_id``: the response's unit (the form's commune when the response has none). The
    demographic answers come as :func:`cell_frame` ``values``.
    """
    forms = _form_classes(campaign)
    keys: dict[str, Any] = {
        "nr_class": forms.c.village,
        "unit_id": func.coalesce(Response.unit_id, forms.c.commune_id),
    }
    return keys, [(forms, forms.c.serial == Response.serial)]


def response_classes(campaign: Campaign) -> pd.DataFrame:
    """``response_id``, ``nr_class`` and ``commune_id`` of every final response of
    ``campaign`` that answers one of its paper forms (see :func:`calibration_keys`)."""
    forms = _form_classes(campaign)
    result = db.session.execute(
        select(Response.id.label("response_id"), forms.c.village, forms.c.commune_id)
        .join(forms, forms.c.serial == Response.serial)
        .where(Response.campaign_id == campaign.id, Response.status == ResponseStatus.FINAL)
    )
    return pd.DataFrame(result.fetchall(), columns=["response_id", "nr_class", "commune_id"])


def has_forms(campaign: Campaign) -> bool:
    return (
        db.session.scalar(select(Form.id).where(Form.campaign_id == campaign.id).limit(1))
        is not None
    )


def nonresponse_factors(campaign: Campaign) -> dict[str, float]:
    """Per village (the weighting class): Σ weight of the selected (non-reserve) paper forms
    over Σ weight of those that responded (:mod:`surveyapp.data.respondents`), as the
    export's ``nr_factor``. Villages without a respondent are left out."""
    stmt = (
        select(
            Unit.code,
            func.sum(Form.weight),
            func.sum(case((respondents.responded(campaign.id), Form.weight), else_=0.0)),
        )
        .join(Household, Household.id == Form.household_id)
        .join(Unit, Unit.id == Household.village_id)
        .where(Form.campaign_id == campaign.id, Form.reserve.is_(False))
        .group_by(Unit.code)
    )
    return {
        code: float(selected) / float(got)
        for code, selected, got in db.session.execute(stmt)
        if got is not None and float(got) > 0
    }


# ---------------------------------------------------------------------------------------------
# Reporting-period domains (services.periodic, issue 15 §3). Kept apart from the breakdown
# levels above (BY_SQL): a period is a range of submission moments the report chooses, not a
# column of the response.

#: The cell table's key column naming the period a response was submitted in.
PERIOD = "period"


def period_domain(periods: dict[str, tuple[datetime, datetime]]) -> Any:
    """A key expression for :func:`cell_frame`: the name of the period (``start`` ≤
    submitted_at < ``before``) each response falls in, :data:`OUTSIDE` for the others, so
    that the periods are domains of the campaign's one design."""
    return case(
        *[
            (and_(Response.submitted_at >= start, Response.submitted_at < before), name)
            for name, (start, before) in periods.items()
        ],
        else_=OUTSIDE,
    )
