"""The registry of published results: import (all or nothing, audited), entry and listing.

What the Ministry (SIPAS, PAR INDEX), UNDP (PAPI) and VCCI (PCI) publish each year, for the
province and for the others (the distribution a rank is forecast against), plus the
province's own-survey figures for years it did not run in this application.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from flask_babel import gettext as _
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models.official import OfficialIndex, OfficialResult, ResultKind
from surveyapp.models.units import Unit, UnitLevel
from surveyapp.services import ServiceError, audit
from surveyapp.services.tables import read_table

COLUMNS = (
    "index",
    "kind",
    "year",
    "province_code",
    "province_name",
    "node",
    "node_name",
    "score",
    "max_score",
    "rank",
    "rank_of",
    "se",
    "source",
)
REQUIRED = ("index", "year", "province_code", "province_name", "node")

#: The PAR INDEX fields' maximum points (Bộ Nội vụ's method since 2022); a file that gives
#: another maximum for one of them is refused, since its percentages would not compare.
PAR_INDEX_MAX = {
    "1": 9.5,
    "2": 10.0,
    "3": 13.0,
    "4": 10.5,
    "5": 15.0,
    "6": 12.0,
    "7": 13.5,
    "8": 16.5,
    "total": 100.0,
}
#: The largest score each index's node can take when no maximum is given.
SCALE_MAX = {
    OfficialIndex.SIPAS: 100.0,
    OfficialIndex.PAR_INDEX: 100.0,
    OfficialIndex.PAPI: 80.0,
    OfficialIndex.PCI: 100.0,
}
_INDEX_NAMES = {
    "sipas": OfficialIndex.SIPAS,
    "par_index": OfficialIndex.PAR_INDEX,
    "par index": OfficialIndex.PAR_INDEX,
    "par": OfficialIndex.PAR_INDEX,
    "chỉ số cải cách hành chính": OfficialIndex.PAR_INDEX,
    "papi": OfficialIndex.PAPI,
    "pci": OfficialIndex.PCI,
}
_KIND_NAMES = {
    "": ResultKind.PUBLISHED,
    "published": ResultKind.PUBLISHED,
    "công bố": ResultKind.PUBLISHED,
    "own_survey": ResultKind.OWN_SURVEY,
    "tự khảo sát": ResultKind.OWN_SURVEY,
}
_NODE = re.compile(r"total|\d{1,2}(\.\d{1,2}){0,2}")
DEMO_FILE = "official-results-demo.csv"


class OfficialImportError(ServiceError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def index_label(index: OfficialIndex | str) -> str:
    return {
        "sipas": "SIPAS",
        "par_index": "PAR INDEX",
        "papi": "PAPI",
        "pci": "PCI",
    }[str(index)]


@dataclass(frozen=True)
class ResultRow:
    """One parsed, checked line of an import."""

    index: OfficialIndex
    kind: ResultKind
    year: int
    province_code: str
    province_name: str
    node: str
    node_name: str
    score: float | None
    max_score: float | None
    rank: int | None
    rank_of: int | None
    se: float | None
    source: str

    @property
    def key(self) -> tuple[str, int, str, str, str]:
        return (self.index.value, self.year, self.province_code, self.node, self.kind.value)


class _Row:
    """Reads one file row, collecting every problem with its row and column."""

    def __init__(self, number: int, values: dict[str, str], problems: list[str]) -> None:
        self.number = number
        self.values = values
        self.problems = problems

    def bad(self, column: str, message: str) -> None:
        self.problems.append(
            _(
                "Row %(row)d, column %(col)s: %(message)s",
                row=self.number,
                col=column,
                message=message,
            )
        )

    def text(self, column: str) -> str:
        return self.values.get(column, "").strip()

    def number_or_none(self, column: str, *, integer: bool = False) -> float | None:
        raw = self.text(column).replace("%", "").replace(",", ".")
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            self.bad(column, _("%(value)r is not a number.", value=self.text(column)))
            return None
        if not math.isfinite(value):
            self.bad(column, _("%(value)r is not a number.", value=self.text(column)))
            return None
        if integer and not value.is_integer():
            self.bad(column, _("%(value)r is not a whole number.", value=self.text(column)))
            return None
        return value


def _parse_row(row: _Row) -> ResultRow | None:
    before = len(row.problems)
    for column in REQUIRED:
        if not row.text(column):
            row.bad(column, _("a value is required."))
    index = _INDEX_NAMES.get(row.text("index").lower())
    if row.text("index") and index is None:
        row.bad("index", _("use SIPAS, PAR INDEX, PAPI or PCI."))
    kind = _KIND_NAMES.get(row.text("kind").lower())
    if kind is None:
        row.bad("kind", _("use published or own_survey."))
    year = row.number_or_none("year", integer=True)
    if year is not None and not 2000 <= year <= 2100:
        row.bad("year", _("%(value)s is not a plausible year.", value=row.text("year")))
    node = row.text("node").lower()
    if node and not _NODE.fullmatch(node):
        row.bad(
            "node",
            _("%(value)r is not a node code such as 1, 2.3 or total.", value=row.text("node")),
        )
    score = row.number_or_none("score")
    max_score = row.number_or_none("max_score")
    rank, rank_of = _parse_rank(row)
    if score is None and rank is None:
        row.bad("score", _("give a score, a rank or both."))
    se = row.number_or_none("se")
    if se is not None and se < 0:
        row.bad("se", _("a standard error cannot be negative."))
    if index is not None:
        _check_score(row, index, node, score, max_score)
    if len(row.problems) > before or index is None or kind is None or year is None:
        return None
    return ResultRow(
        index=index,
        kind=kind,
        year=int(year),
        province_code=row.text("province_code"),
        province_name=row.text("province_name"),
        node=node,
        node_name=row.text("node_name"),
        score=score,
        max_score=max_score,
        rank=None if rank is None else int(rank),
        rank_of=None if rank_of is None else int(rank_of),
        se=se,
        source=row.text("source")[:300],
    )


def _parse_rank(row: _Row) -> tuple[float | None, float | None]:
    """The rank and the number of provinces ranked: ``rank`` may say both ("45/63")."""
    rank_text = row.text("rank")
    rank_of = row.number_or_none("rank_of", integer=True)
    rank: float | None = None
    if "/" in rank_text:  # "45/63", as the plans print it
        left, _sep, right = rank_text.partition("/")
        try:
            rank, of_in_rank = int(left), int(right)
        except ValueError:
            row.bad("rank", _("%(value)r is not a rank such as 45 or 45/63.", value=rank_text))
        else:
            if rank_of is not None and rank_of != of_in_rank:
                row.bad(
                    "rank",
                    _(
                        "the rank says /%(of)d but rank_of is %(given)d.",
                        of=of_in_rank,
                        given=int(rank_of),
                    ),
                )
            rank_of = of_in_rank
    else:
        rank = row.number_or_none("rank", integer=True)
    if rank is not None and rank_of is None:
        row.bad("rank_of", _("a rank needs the number of provinces ranked that year."))
    if rank is not None and rank_of is not None and not 1 <= rank <= rank_of:
        row.bad("rank", _("rank %(rank)d is outside 1–%(of)d.", rank=int(rank), of=int(rank_of)))
    return rank, rank_of


def _check_score(
    row: _Row, index: OfficialIndex, node: str, score: float | None, max_score: float | None
) -> None:
    """The score and its maximum against the index's scale (PAR INDEX fields have their own)."""
    if max_score is not None and max_score <= 0:
        row.bad("max_score", _("the maximum must be positive."))
    if (
        index is OfficialIndex.PAR_INDEX
        and node in PAR_INDEX_MAX
        and max_score is not None
        and not math.isclose(max_score, PAR_INDEX_MAX[node])
    ):
        row.bad(
            "max_score",
            _(
                "PAR INDEX field %(node)s is scored out of %(max)s.",
                node=node,
                max=PAR_INDEX_MAX[node],
            ),
        )
    if score is not None:
        top = max_score if max_score is not None else SCALE_MAX[index]
        if not 0 <= score <= top:
            row.bad("score", _("%(value)s is outside 0–%(max)s.", value=row.text("score"), max=top))


def parse_results(data: bytes, filename: str) -> list[ResultRow]:
    """Every row of a CSV/XLSX file of results, or :class:`OfficialImportError` naming each
    bad cell by row and column (nothing is taken from a file with any problem)."""
    table = read_table(data, filename)
    header = {h.lower() for h in table.header}
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise OfficialImportError(
            [_("The file lacks the column(s): %(columns)s.", columns=", ".join(missing))]
        )
    problems: list[str] = []
    rows: list[ResultRow] = []
    seen: dict[tuple[str, int, str, str, str], int] = {}
    for number, values in table.rows:
        lowered = {k.lower(): v for k, v in values.items()}
        parsed = _parse_row(_Row(number, lowered, problems))
        if parsed is None:
            continue
        if parsed.key in seen:
            problems.append(
                _(
                    "Row %(row)d: the same figure as row %(first)d.",
                    row=number,
                    first=seen[parsed.key],
                )
            )
            continue
        seen[parsed.key] = number
        rows.append(parsed)
    if not rows and not problems:
        problems.append(_("The file has no rows."))
    if problems:
        raise OfficialImportError(problems)
    return rows


def _snapshot(result: OfficialResult) -> dict[str, object]:
    return {
        "index": str(result.index_code),
        "kind": str(result.kind),
        "year": result.year,
        "province": result.province_code,
        "node": result.node,
        "score": result.score,
        "max_score": result.max_score,
        "rank": result.rank,
        "rank_of": result.rank_of,
        "se": result.se,
    }


def _existing(rows: Iterable[ResultRow]) -> dict[tuple[str, int, str, str, str], OfficialResult]:
    years = {r.year for r in rows}
    stmt = select(OfficialResult).where(OfficialResult.year.in_(years))
    return {
        (str(r.index_code), r.year, r.province_code, r.node, str(r.kind)): r
        for r in db.session.scalars(stmt)
    }


def save(rows: list[ResultRow], action: str = "import") -> list[OfficialResult]:
    """Add or replace each figure (keyed by index, year, province, node and kind), audited."""
    existing = _existing(rows)
    changed = []
    for row in rows:
        result = existing.get(row.key)
        before = _snapshot(result) if result is not None else None
        if result is None:
            result = OfficialResult(
                index_code=row.index, kind=row.kind, year=row.year,
                province_code=row.province_code, node=row.node,
            )  # fmt: skip
            db.session.add(result)
        result.province_name = row.province_name
        result.node_name = row.node_name
        result.score = row.score
        result.max_score = row.max_score
        result.rank = row.rank
        result.rank_of = row.rank_of
        result.se = row.se
        result.source = row.source
        db.session.flush()
        audit.record(action, "official_result", result.id, before=before, after=_snapshot(result))
        changed.append(result)
    return changed


def import_results(data: bytes, filename: str) -> list[OfficialResult]:
    """All rows of the file, or none (:class:`OfficialImportError`)."""
    return save(parse_results(data, filename))


def enter(values: dict[str, str]) -> OfficialResult:
    """One figure typed in the admin's form, checked like an imported row."""
    problems: list[str] = []
    parsed = _parse_row(_Row(1, {k: v or "" for k, v in values.items()}, problems))
    if parsed is None:
        # A form has no rows: name the field only.
        raise OfficialImportError([p.split(", ", 1)[-1] for p in problems])
    return save([parsed], action="enter")[0]


def delete(result: OfficialResult) -> None:
    audit.record("delete", "official_result", result.id, before=_snapshot(result))
    db.session.delete(result)
    db.session.flush()


def template() -> bytes:
    """A CSV with the columns and one example row per index (UTF-8 with BOM for Excel)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow(
        [
            "SIPAS",
            "published",
            2023,
            "75",
            "Tỉnh Đồng Nai",
            "1",
            "Lĩnh vực 1",
            80.23,
            "",
            "45/63",
            "",
            "",
            "",
        ]
    )
    writer.writerow(
        [
            "PAR INDEX",
            "published",
            2023,
            "75",
            "Tỉnh Đồng Nai",
            "1",
            "Công tác chỉ đạo điều hành",
            9.07,
            9.5,
            "",
            "",
            "",
            "",
        ]
    )
    writer.writerow(
        [
            "PAPI",
            "published",
            2023,
            "75",
            "Tỉnh Đồng Nai",
            "total",
            "Chỉ số PAPI",
            39.92,
            80,
            "",
            "",
            "",
            "",
        ]
    )
    writer.writerow(
        [
            "PCI",
            "published",
            2023,
            "75",
            "Tỉnh Đồng Nai",
            "total",
            "Chỉ số PCI",
            66.28,
            100,
            "",
            "",
            "",
            "",
        ]
    )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def listing(
    index: OfficialIndex | None = None, province_code: str | None = None
) -> list[OfficialResult]:
    stmt = select(OfficialResult)
    if index is not None:
        stmt = stmt.where(OfficialResult.index_code == index)
    if province_code:
        stmt = stmt.where(OfficialResult.province_code == province_code)
    rows = list(db.session.scalars(stmt))
    rows.sort(
        key=lambda r: (str(r.index_code), -r.year, r.province_code, _node_key(r.node), str(r.kind))
    )
    return rows


def _node_key(node: str) -> tuple[int, ...]:
    if node == "total":
        return (0,)
    return (1, *(int(p) for p in node.split(".")))


def home_province() -> tuple[str, str] | None:
    """The code and name of the province this installation serves (its root unit)."""
    unit = db.session.scalars(
        select(Unit).where(Unit.level == UnitLevel.PROVINCE).order_by(Unit.id)
    ).first()
    return None if unit is None else (unit.code, unit.name)


def load_demo_history() -> int:
    """The demo's history: the Đồng Nai plan's 2023 tables and the Quảng Trị rank history
    (shared/seeds), plus the illustrative rows the file marks as such."""
    data = resources.files("surveyapp.instruments").joinpath(DEMO_FILE).read_bytes()
    return len(import_results(data, DEMO_FILE))
