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
from flask_babel import format_datetime
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from surveyapp.services import reports

if TYPE_CHECKING:
    from surveyapp.services.reports import Report

PERCENT = "0.00%"


def verdict_label(verdict: str | None) -> str:
    return reports.VERDICT_VI.get(verdict or "", "")


def _index_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["level"] != "item"]


def table(
    report: Report, *, by_domain: bool = False, items: bool = False
) -> tuple[list[str], list[list[Any]]]:
    """The plans' table: one row per index node (and item), shares as fractions."""
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
    ]
    if by_domain:
        headers = ["Đơn vị", *headers]
    out: list[list[Any]] = []
    domains = report.domains() if by_domain else [None]
    for domain in domains:
        rows = report.rows(domain)
        for row in rows if items else _index_rows(rows):
            line = [
                row["code"],
                row["name"],
                row.get("previous"),
                row["target"],
                row["estimate"],
                row["ci_low"],
                row["ci_high"],
                verdict_label(row["verdict"]),
                row["n"],
                row["deff"],
            ]
            out.append([domain, *line] if by_domain else line)
    return headers, out


def _write_sheet(
    wb: Workbook, title: str, caption: str, headers: list[str], rows: list[list[Any]]
) -> None:
    ws = wb.create_sheet(title=title[:31])
    ws.append([caption])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(headers)
    header_row = 2
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F0")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    pct_cols = {
        i + 1
        for i, h in enumerate(headers)
        if h
        in {
            "Kết quả kỳ trước",
            "Chỉ tiêu",
            "Kết quả ước lượng",
            "KTC 95% – cận dưới",
            "KTC 95% – cận trên",
        }
    }
    for row in rows:
        ws.append(row)
        current = ws.max_row
        for col in pct_cols:
            ws.cell(current, col).number_format = PERCENT
        ws.cell(current, len(headers)).number_format = "0.00"
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    widths = {"Lĩnh vực/Tiêu chí": 70, "Đơn vị": 28, "STT": 8}
    for i, h in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = widths.get(h, 14)


def to_xlsx(sections: Sequence[tuple[str, Report]]) -> bytes:
    """One sheet for the whole sample and one per breakdown of every report section."""
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
            _write_sheet(wb, f"{title} theo {BY_VI[report.by]}", caption, headers, rows)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


BY_VI = {"district": "huyện", "desk": "bộ phận", "channel": "kênh"}


def sample_label(report: Report) -> str:
    if report.sample == "probability":
        weighting = report.design.get("weighting")
        if weighting:  # which adjustments the weights carry, in words
            return _("Probability sample (paper forms)") + " – " + weighting
        return _("Probability sample (paper forms), design-weighted")
    return _("Non-probability sample (QR code and counter tablet), weighted to desk volume")


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
        return _("%(n)s responses", n=report.design.get("n", 0))
    return _(
        "computed at %(time)s from %(n)s responses",
        time=format_datetime(report.computed_at, "HH:mm dd/MM/yyyy"),
        n=report.design.get("n", 0),
    )


def to_html(sections: Sequence[tuple[str, Report]]) -> str:
    stylesheet = (Path(__file__).resolve().parent.parent / "static/css/report.css").read_text()
    return render_template(
        "reports/report.html",
        stylesheet=stylesheet,
        sections=sections,
        table=table,
        sample_label=sample_label,
        computed_label=computed_label,
        held_label=held_label,
    )
