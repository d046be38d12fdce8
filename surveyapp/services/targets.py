"""Importing and editing a campaign's targets (all-or-nothing, audited)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask_babel import gettext as _

from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign, Target
from surveyapp.models.questionnaires import IndexNode
from surveyapp.services import ServiceError, audit
from surveyapp.services.tables import read_table


class TargetImportError(ServiceError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class TargetRow:
    code: str
    target_pct: Decimal
    previous_pct: Decimal | None
    previous_rank: str | None
    target_rank: str | None


def _column(header: list[str], pattern: str) -> str | None:
    return next((h for h in header if re.fullmatch(pattern, h.lower())), None)


def _percent(raw: str, row: int, column: str, problems: list[str]) -> Decimal | None:
    text = raw.replace("%", "").replace(",", ".").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        problems.append(
            _(
                "Row %(row)d, column %(col)s: %(value)r is not a number.",
                row=row,
                col=column,
                value=raw,
            )
        )
        return None
    if not Decimal(0) <= value <= Decimal(100):
        problems.append(
            _(
                "Row %(row)d, column %(col)s: %(value)s is outside 0–100.",
                row=row,
                col=column,
                value=raw,
            )
        )
        return None
    return value.quantize(Decimal("0.01"))


def parse_targets(data: bytes, filename: str, known_codes: set[str]) -> list[TargetRow]:
    table = read_table(data, filename)
    code_col = _column(table.header, r"code|mã")
    target_col = _column(table.header, r"target(_\d{4})?(_pct)?|chỉ tiêu.*")
    if code_col is None or target_col is None:
        raise TargetImportError(
            [_("The file needs a 'code' column and a 'target_YYYY_pct' column.")]
        )
    previous_col = _column(table.header, r"result(_\d{4})?(_pct)?|kết quả.*")
    previous_rank_col = _column(table.header, r"rank(_\d{4})?")
    target_rank_col = _column(table.header, r"target_rank(_\d{4})?")
    problems: list[str] = []
    seen: dict[str, int] = {}
    rows: list[TargetRow] = []
    for number, values in table.rows:
        code = values.get(code_col, "")
        if code not in known_codes:
            problems.append(
                _(
                    "Row %(row)d, column %(col)s: unknown index code %(code)r.",
                    row=number,
                    col=code_col,
                    code=code,
                )
            )
            continue
        if code in seen:
            problems.append(
                _(
                    "Row %(row)d: code %(code)s repeats row %(first)d.",
                    row=number,
                    code=code,
                    first=seen[code],
                )
            )
            continue
        seen[code] = number
        target = _percent(values.get(target_col, ""), number, target_col, problems)
        previous = None
        if previous_col and values.get(previous_col):
            previous = _percent(values[previous_col], number, previous_col, problems)
        if target is None:
            continue
        rows.append(
            TargetRow(
                code=code,
                target_pct=target,
                previous_pct=previous,
                previous_rank=(values.get(previous_rank_col) or None)
                if previous_rank_col
                else None,
                target_rank=(values.get(target_rank_col) or None) if target_rank_col else None,
            )
        )
    if not rows and not problems:
        problems.append(_("The file has no target rows."))
    if problems:
        raise TargetImportError(problems)
    return rows


def _snapshot(target: Target) -> dict[str, object]:
    return {
        "code": target.index_node.code,
        "target_pct": str(target.target_pct),
        "previous_pct": None if target.previous_pct is None else str(target.previous_pct),
        "previous_rank": target.previous_rank,
        "target_rank": target.target_rank,
    }


def _nodes(campaign: Campaign) -> dict[str, IndexNode]:
    return {n.code: n for n in campaign.questionnaire.index_nodes}


def import_targets(campaign: Campaign, data: bytes, filename: str) -> list[Target]:
    """Replace or add the campaign's targets from a file; nothing changes on any error."""
    nodes = _nodes(campaign)
    rows = parse_targets(data, filename, set(nodes))
    existing = {t.index_node.code: t for t in campaign.targets}
    changed = []
    for row in rows:
        target = existing.get(row.code)
        before = _snapshot(target) if target is not None else None
        if target is None:
            target = Target(
                campaign=campaign, index_node=nodes[row.code], target_pct=row.target_pct
            )
            db.session.add(target)
        target.target_pct = row.target_pct
        target.previous_pct = row.previous_pct
        target.previous_rank = row.previous_rank
        target.target_rank = row.target_rank
        db.session.flush()
        audit.record("import", "target", target.id, before=before, after=_snapshot(target))
        changed.append(target)
    return changed


def import_targets_file(campaign: Campaign, path: str | Path) -> list[Target]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ServiceError(str(exc)) from exc
    return import_targets(campaign, data, path.name)


def update_target(target: Target, target_pct: Decimal, target_rank: str | None) -> Target:
    if not Decimal(0) <= target_pct <= Decimal(100):
        raise ServiceError(_("A target must be between 0 and 100."))
    before = _snapshot(target)
    target.target_pct = target_pct.quantize(Decimal("0.01"))
    target.target_rank = target_rank or None
    db.session.flush()
    audit.record("update", "target", target.id, before=before, after=_snapshot(target))
    return target
