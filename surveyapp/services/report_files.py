"""Report files: XLSX in the layout of the provincial plans, and printable HTML.

Tables are built first as (headers, rows), then written, so the XLSX, the HTML and the tests
read the same numbers.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import render_template
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from surveyapp import formatting, xlsx
from surveyapp.services import reports

if TYPE_CHECKING:
    from surveyapp.services.reports import Report

PERCENT = "0.00%"
# A sample without a design (desk ratings, standalone invitations) gets intervals computed as
# if its respondents were a random sample; the header says so, and there is no target, verdict
# or design effect to show.
LOW_IF_RANDOM = "Khoảng 95% – cận dưới (chỉ đúng nếu người trả lời là mẫu ngẫu nhiên)"
HIGH_IF_RANDOM = "Khoảng 95% – cận trên (chỉ đúng nếu người trả lời là mẫu ngẫu nhiên)"
PERCENT_COLUMNS = frozenset(
    {
        "Kết quả kỳ trước",
        "Chỉ tiêu",
        "Kết quả ước lượng",
        "KTC 95% – cận dưới",
        "KTC 95% – cận trên",
        LOW_IF_RANDOM,
        HIGH_IF_RANDOM,
    }
)
# Whole numbers read as numbers (sortable, summable), the design effect with two decimals.
NUMBER_FORMATS = {"STT": "0", "Số phiếu (n)": "#,##0", "Hiệu ứng thiết kế": "0.00"}
OVERALL_VI = "Chỉ số chung"


def note(row: dict[str, Any]) -> str:
    """Why a verdict is inconclusive beyond an interval that holds the target (a zero SE, a
    small sample), and whether the row judges another node's estimate against its own target."""
    parts = []
    reason = row.get("verdict_reason")
    if reason and reason != "ci_contains_target":
        reasons = reports.vietnamese(reports.VERDICT_REASON_LABELS)
        parts.append("Chưa kết luận: " + reasons.get(reason, reason))
    if row.get("note"):
        parts.append(row["note"])
    return "; ".join(parts)


def _index_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["level"] != "item"]


def row_number(row: dict[str, Any]) -> int | str | None:
    """The plans' STT: fields are numbered 1, 2 (a number), criteria 1.1 … (text, since 1.10
    is not 1.1), items keep their question code, and the overall index has no number: its
    name says what it is."""
    code = str(row["code"])
    if row["level"] == "overall":
        return None
    return int(code) if code.isdigit() else code


def row_name(row: dict[str, Any]) -> str:
    return row["name"] or (OVERALL_VI if row["level"] == "overall" else str(row["code"]))


def province_block(report: Report) -> tuple[list[str], list[list[Any]]]:
    """The province's previous result and target per index node, written once above the
    by-unit table instead of on each unit's row (they are the same for every unit)."""
    headers = ["STT", "Lĩnh vực/Tiêu chí", "Kết quả kỳ trước", "Chỉ tiêu"]
    rows = [
        [row_number(r), row_name(r), r.get("previous"), r["target"]]
        for r in _index_rows(report.rows())
    ]
    return headers, rows


def table(
    report: Report, *, by_domain: bool = False, items: bool = False
) -> tuple[list[str], list[list[Any]]]:
    """The plans' table: one row per index node (and item), shares as fractions.

    The by-unit table leaves out the province's previous result and target: they are the
    same on every row, so ``province_block`` gives them once. A descriptive sample (no
    design) has no target, verdict or design effect columns, and its interval columns say
    they hold only for a random sample of respondents."""
    if report.descriptive:
        return _descriptive_table(report, by_domain=by_domain, items=items)
    headers = [
        "STT",
        "Lĩnh vực/Tiêu chí",
        "Kết quả kỳ trước",
        "Chỉ tiêu",
        "Kết quả ước lượng",
        "KTC 95% – cận dưới",
        "KTC 95% – cận trên",
        "Đánh giá",
        "Số phiếu (n)",
        "Hiệu ứng thiết kế",
        "Ghi chú",
    ]
    if by_domain:
        headers = ["Đơn vị", *(h for h in headers if h not in ("Kết quả kỳ trước", "Chỉ tiêu"))]
    out: list[list[Any]] = []
    domains = report.domains() if by_domain else [None]
    verdicts = reports.vietnamese(reports.VERDICT_LABELS)
    for domain in domains:
        rows = report.rows(domain)
        for row in rows if items else _index_rows(rows):
            kept = [] if by_domain else [row.get("previous"), row["target"]]
            line = [
                row_number(row),
                row_name(row),
                *kept,
                row["estimate"],
                row["ci_low"],
                row["ci_high"],
                verdicts.get(row["verdict"] or "", ""),
                row["n"],
                row["deff"],
                note(row),
            ]
            out.append([domain, *line] if by_domain else line)
    return headers, out


def _descriptive_table(
    report: Report, *, by_domain: bool, items: bool
) -> tuple[list[str], list[list[Any]]]:
    headers = ["STT", "Lĩnh vực/Tiêu chí", "Kết quả ước lượng", LOW_IF_RANDOM, HIGH_IF_RANDOM]
    headers.append("Số phiếu (n)")
    if by_domain:
        headers = ["Đơn vị", *headers]
    out: list[list[Any]] = []
    for domain in report.domains() if by_domain else [None]:
        rows = report.rows(domain)
        for row in rows if items else _index_rows(rows):
            line = [
                row_number(row),
                row_name(row),
                row["estimate"],
                row["ci_low"],
                row["ci_high"],
                row["n"],
            ]
            out.append([domain, *line] if by_domain else line)
    return headers, out


def _formats(headers: list[str]) -> dict[int, str]:
    formats = {i + 1: PERCENT for i, h in enumerate(headers) if h in PERCENT_COLUMNS}
    formats.update({i + 1: NUMBER_FORMATS[h] for i, h in enumerate(headers) if h in NUMBER_FORMATS})
    return formats


def _write_rows(ws: Any, headers: list[str], rows: list[list[Any]]) -> int:
    """A bold header line and the rows under it, each column in its number format; returns
    the header's row number."""
    xlsx.append(ws, headers)
    header_row = int(ws.max_row)
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F0")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    formats = _formats(headers)
    # Rows go one under another: counted here (``ws.max_row`` scans every cell, so asking it
    # per row made a thousand-row sheet quadratic).
    for current, row in enumerate(rows, start=header_row + 1):
        xlsx.append(ws, row)
        for col, number_format in formats.items():
            ws.cell(current, col).number_format = number_format
    return header_row


def _write_sheet(
    wb: Workbook,
    title: str,
    caption: str,
    headers: list[str],
    rows: list[list[Any]],
    block: tuple[list[str], list[list[Any]]] | None = None,
) -> None:
    ws = wb.create_sheet(title=title[:31])
    xlsx.append(ws, [caption])
    ws["A1"].font = Font(bold=True, size=13)
    if block is not None:
        xlsx.append(ws, ["Kết quả kỳ trước và chỉ tiêu của tỉnh (chung cho mọi đơn vị):"])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
        # The block's columns sit under the table's own STT and name columns.
        _write_rows(ws, [""] + block[0], [[None, *r] for r in block[1]])
        xlsx.append(ws, [])
    header_row = _write_rows(ws, headers, rows)
    if block is None:
        ws.freeze_panes = ws.cell(header_row + 1, 1)
    else:
        # Frozen under the block, the header would fill the screen; a filter on the unit
        # column serves the by-unit table better.
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(headers))}{ws.max_row}"
    widths = {"Lĩnh vực/Tiêu chí": 70, "Đơn vị": 28, "STT": 8, "Ghi chú": 50}
    for i, h in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = widths.get(h, 14)


def to_xlsx(sections: Sequence[tuple[str, Report]], small_area: Any = None) -> bytes:
    """One sheet for the whole sample and one per breakdown of every report section, and the
    small-area estimates (a :class:`surveyapp.services.sae.SmallAreaReport`) when given."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, report in sections:
        label = sample_label(report)
        caption = f"{report.campaign['name']} – {label} – {computed_label(report)}"
        if held_label(report):
            caption += f" – {held_label(report)}"
        headers, rows = table(report, items=True)
        _write_sheet(wb, title, caption, headers, rows)
        if report.by:
            headers, rows = table(report, by_domain=True)
            _write_sheet(
                wb,
                f"{title} theo {BY_VI[report.by]}",
                caption,
                headers,
                rows,
                block=None if report.descriptive else province_block(report),
            )
    if small_area is not None:
        from surveyapp.services import sae

        sae.write_sheet(wb, small_area)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


class _Names(dict[str, str]):
    """Names by key; an unknown key names itself (a level added to the units later)."""

    def __missing__(self, key: str) -> str:
        return key


# What a report file's breakdown is called in its (Vietnamese) sheet titles: every level the
# units can have (UnitLevel values), regions, desks and channels.
BY_VI = _Names(
    {
        "province": "tỉnh",
        "district": "huyện",
        "commune": "xã",
        "village": "thôn, ấp",
        "region": "vùng",
        "desk": "bộ phận",
        "channel": "kênh",
    }
)


def sample_label(report: Report) -> str:
    if report.sample == "probability":
        weighting: str | None = report.design.get("weighting")
        if weighting:  # which adjustments the weights carry, in words
            return _("Probability sample (paper forms)") + " – " + weighting
        return _("Probability sample (paper forms), design-weighted")
    if report.sample == "invited":
        return _("Invited sample (standalone invitation codes)") + " – " + _("descriptive only")
    label = _("Non-probability sample (QR code and counter tablet), weighted to desk volume")
    label += "; " + _("no verdicts; intervals hold only if the raters were a random sample")
    missing = report.design.get("desks_without_volume")
    if missing:
        label += "; " + _(
            "no transaction count yet (each rating counts once): %(names)s",
            names=", ".join(missing),
        )
    return label


def held_label(report: Report) -> str:
    """The burst-flagged responses the estimates leave out, or "" when there are none."""
    held = int(report.campaign.get("held_out") or 0)
    if not held:
        return ""
    return _(
        "%(n)d burst-flagged responses held out of the estimates (an analyst can release them).",
        n=held,
    )


def computed_label(report: Report) -> str:
    """When the figures were computed and from how many responses: a file taken while
    fieldwork goes on is a snapshot, and says which."""
    if report.computed_at is None:
        return _("%(n)s responses", n=formatting.number(report.design.get("n", 0)))
    return _(
        "computed at %(time)s from %(n)s responses",
        time=formatting.datetime(report.computed_at),
        n=formatting.number(report.design.get("n", 0)),
    )


def to_html(sections: Sequence[tuple[str, Report]], small_area: Any = None) -> str:
    from surveyapp.services import sae

    stylesheet = (Path(__file__).resolve().parent.parent / "static/css/report.css").read_text()
    return render_template(
        "reports/report.html",
        stylesheet=stylesheet,
        sections=sections,
        table=table,
        province_block=province_block,
        by_names=BY_VI,
        sample_label=sample_label,
        percent_headers=PERCENT_COLUMNS,
        # the verdict cell's class, by the label the table shows
        verdict_classes={
            label: code.replace("_", "-")
            for code, label in reports.vietnamese(reports.VERDICT_LABELS).items()
        },
        computed_label=computed_label,
        held_label=held_label,
        small_area=small_area,
        small_area_headers=sae.REPORT_HEADERS,
        small_area_rows=sae.report_rows,
        small_area_caption=sae.report_caption,
    )
