"""The bulletin drawn as one A4 PDF page (fpdf2, DejaVu Sans for Vietnamese letters).

Every block has a bounded height: names are shrunk, then cut, to one line; comments to three
lines; at most :data:`surveyapp.services.bulletin.MAX_DESKS` desks and five reasons. The page
breaks automatically like any text, so content that did not fit would show as a second
page, which the tests check never happens.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flask_babel import gettext as _

from surveyapp import formatting

if TYPE_CHECKING:
    from fpdf import FPDF

    from surveyapp.services.bulletin import Bulletin

MARGIN = 14.0
WIDTH = 210.0 - 2 * MARGIN
INK = (27, 31, 36)
MUTED = (85, 90, 96)
GOOD = (31, 95, 153)
BAD = (179, 71, 0)
COMMENT_LINES = 3


def _wrap(pdf: FPDF, text: str, width: float, height: float) -> list[str]:
    """The lines ``multi_cell`` would write ``text`` in, in the current font."""
    lines = pdf.multi_cell(width, height, text, dry_run=True, output="LINES")
    assert isinstance(lines, list)
    return [str(line) for line in lines]


def _fit(pdf: FPDF, text: str, width: float, size: float, smallest: float, style: str = "") -> str:
    """Shrink ``text`` from ``size`` to ``smallest`` points to fit ``width``, then cut it."""
    while size > smallest:
        pdf.set_font("DejaVu", style, size)
        if pdf.get_string_width(text) <= width:
            return text
        size -= 0.5
    pdf.set_font("DejaVu", style, smallest)
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _line(
    pdf: FPDF,
    text: str,
    size: float,
    style: str = "",
    color: tuple[int, int, int] = INK,
    height: float | None = None,
    smallest: float | None = None,
) -> None:
    pdf.set_text_color(*color)
    shown = _fit(pdf, text, WIDTH, size, smallest or size, style)
    pdf.cell(WIDTH, height or size * 0.5, shown, new_x="LMARGIN", new_y="NEXT")


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(2.5)
    _line(pdf, text, 11.5, "B", height=6.5)
    pdf.set_draw_color(*MUTED)
    pdf.line(MARGIN, pdf.get_y(), MARGIN + WIDTH, pdf.get_y())
    pdf.ln(1.5)


def _figures(pdf: FPDF, item: Bulletin) -> None:
    share = item.total.share
    boxes = [
        (_("Ratings"), formatting.number(item.total.ratings, 0, lang=item.lang)),
        (_("Good or very good"), formatting.share(share, 1, lang=item.lang)),
        (
            _("Standard"),
            _("above %(share)s", share=formatting.share(item.standard, 0, lang=item.lang)),
        ),
        (_("Difference from the standard"), formatting.points(item.total.gap, 1, lang=item.lang)),
    ]
    top = pdf.get_y() + 1
    box_w = WIDTH / len(boxes)
    for i, (label, value) in enumerate(boxes):
        x = MARGIN + i * box_w
        pdf.set_draw_color(200, 204, 208)
        pdf.rect(x + 1, top, box_w - 2, 19)
        pdf.set_xy(x + 2, top + 1.5)
        pdf.set_text_color(*MUTED)
        pdf.cell(box_w - 4, 4.5, _fit(pdf, label, box_w - 4, 9, 7), align="C")
        pdf.set_xy(x + 2, top + 7.5)
        color = INK
        if i == 1 and share is not None:
            color = GOOD if item.above_standard else BAD
        pdf.set_text_color(*color)
        pdf.cell(box_w - 4, 9, _fit(pdf, value, box_w - 4, 17, 9, "B"), align="C")
    pdf.set_xy(MARGIN, top + 21)
    if item.total.ratings == 0:
        verdict = _("No citizen rated these desks this month.")
    elif item.above_standard:
        verdict = _(
            "Meets the standard of the Đồng Nai plan (more than %(share)s good or very good).",
            share=formatting.share(item.standard, 0, lang=item.lang),
        )
    else:
        verdict = _(
            "Does not meet the standard of the Đồng Nai plan "
            "(more than %(share)s good or very good).",
            share=formatting.share(item.standard, 0, lang=item.lang),
        )
    _line(pdf, verdict, 10, "B", GOOD if item.above_standard else BAD, 5.5, 8)


def _desks(pdf: FPDF, item: Bulletin) -> None:
    columns = [
        (_("Desk"), 104.0, "L"),
        (_("Ratings"), 26.0, "R"),
        (_("Good or very good"), 52.0, "R"),
    ]
    pdf.set_text_color(*MUTED)
    for label, width, align in columns:
        pdf.cell(width, 5, _fit(pdf, label, width - 1, 8.5, 7, "B"), align=align)
    pdf.ln(5)
    pdf.set_text_color(*INK)
    for row in item.desks:
        values = [
            row.name,
            formatting.number(row.ratings, 0, lang=item.lang),
            formatting.share(row.share, 1, lang=item.lang),
        ]
        for (_label, width, align), value in zip(columns, values, strict=True):
            pdf.cell(width, 4.8, _fit(pdf, value, width - 1, 9, 8), align=align)
        pdf.ln(4.8)
    if item.other_desks:
        _line(
            pdf,
            _("and %(n)s more desks (counted in the total).", n=item.other_desks),
            8.5,
            color=MUTED,
            height=4.5,
        )


def _chart(pdf: FPDF, item: Bulletin) -> None:
    top = pdf.get_y() + 1
    left, height, label_h = MARGIN + 12, 34.0, 9.0
    plot_w = WIDTH - 12
    slot = plot_w / len(item.trend)

    def y(share: float) -> float:
        return top + height * (1 - share)

    pdf.set_font("DejaVu", "", 7)
    pdf.set_draw_color(200, 204, 208)
    pdf.set_text_color(*MUTED)
    for tick in (0.0, 0.5, 1.0):
        pdf.line(left, y(tick), left + plot_w, y(tick))
        pdf.set_xy(MARGIN, y(tick) - 2)
        pdf.cell(11, 4, formatting.share(tick, 0, lang=item.lang), align="R")
    for i, point in enumerate(item.trend):
        x = left + i * slot
        if point.share is not None:
            pdf.set_fill_color(*(GOOD if point.share > item.standard else BAD))
            pdf.rect(x + slot * 0.18, y(point.share), slot * 0.64, height * point.share, style="F")
            pdf.set_text_color(*INK)
            pdf.set_xy(x, y(point.share) - 4)
            pdf.cell(slot, 4, formatting.number(point.share * 100, 0, lang=item.lang), align="C")
        pdf.set_text_color(*INK)
        pdf.set_xy(x, top + height + 0.5)
        pdf.cell(slot, 4, f"{point.month.month:02d}/{point.month.year % 100:02d}", align="C")
        pdf.set_text_color(*MUTED)
        pdf.set_xy(x, top + height + 4.5)
        pdf.cell(slot, 4, "n=" + formatting.number(point.ratings, 0, lang=item.lang), align="C")
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.4)
    with pdf.local_context():
        pdf.set_dash_pattern(dash=2, gap=1.5)
        pdf.line(left, y(item.standard), left + plot_w, y(item.standard))
    pdf.set_line_width(0.2)
    pdf.set_font("DejaVu", "B", 7)
    pdf.set_text_color(*INK)
    pdf.set_xy(MARGIN, y(item.standard) - 2)
    pdf.cell(11, 4, formatting.share(item.standard, 0, lang=item.lang), align="R")
    pdf.set_font("DejaVu", "", 7)
    pdf.set_xy(MARGIN, top + height + label_h)
    _line(
        pdf,
        _(
            "Bars: share good or very good per month; dashed line: the %(s)s standard; n: ratings.",
            s=formatting.share(item.standard, 0, lang=item.lang),
        ),
        7.5,
        color=MUTED,
        height=4,
        smallest=6,
    )


def _reasons(pdf: FPDF, item: Bulletin) -> None:
    if not item.reasons:
        _line(pdf, _("No reason was given this month."), 9, color=MUTED, height=5)
        return
    _line(
        pdf,
        _("Among %(n)s ratings of 3 or lower:", n=formatting.number(item.low, 0, lang=item.lang)),
        8.5,
        color=MUTED,
        height=4.5,
    )
    for reason in item.reasons:
        pdf.set_text_color(*INK)
        pdf.cell(140, 5, _fit(pdf, "• " + reason.label, 139, 9.5, 7))
        pdf.cell(
            42,
            5,
            f"{formatting.number(reason.count, 0, lang=item.lang)} "
            f"({formatting.share(reason.share, 0, lang=item.lang)})",
            align="R",
            new_x="LMARGIN",
            new_y="NEXT",
        )


def _comments(pdf: FPDF, item: Bulletin) -> None:
    if not item.comments:
        _line(pdf, _("No comment was written this month."), 9, color=MUTED, height=5)
        return
    for comment in item.comments:
        head = f"{formatting.date(comment.submitted_at, lang=item.lang)} · {comment.desk}"
        if comment.rating is not None:
            head += " · " + _("rating %(n)s/5", n=comment.rating)
        _line(pdf, head, 8, color=MUTED, height=4.2, smallest=6.5)
        pdf.set_font("DejaVu", "", 9.5)
        pdf.set_text_color(*INK)
        lines = _wrap(pdf, comment.text, WIDTH, 4.6)
        if len(lines) > COMMENT_LINES:
            lines = lines[:COMMENT_LINES]
            lines[-1] = _fit(pdf, lines[-1] + "…", WIDTH, 9.5, 9.5)
        for text in lines:
            pdf.cell(WIDTH, 4.6, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)


def convenience_note(item: Bulletin) -> str:
    return _(
        "Ratings by QR code and kiosk come from the citizens who chose to rate: they describe "
        "them, not every visitor. Made by surveyapp on %(day)s.",
        day=formatting.date(item.made, lang=item.lang),
    )


def _cut_lines(pdf: FPDF, text: str, count: int) -> str:
    lines = _wrap(pdf, text, WIDTH, 3.6)
    return "\n".join(lines[:count])


def draw(item: Bulletin, regular: Path, bold: Path) -> bytes:
    """The bulletin as PDF bytes: one A4 page."""
    from fpdf import FPDF

    from surveyapp.services.bulletin import month_label

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(f"{item.unit_name} {month_label(item.month)}")
    pdf.set_creator("surveyapp")
    pdf.set_margins(MARGIN, 12, MARGIN)
    pdf.set_auto_page_break(True, margin=10)
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    pdf.add_page()
    _line(pdf, _("Monthly bulletin of citizen ratings"), 10, color=MUTED, height=5)
    _line(pdf, item.unit_name, 18, "B", height=9, smallest=10)
    sub = _(
        "Month %(month)s · desks: %(n)s · official code %(code)s",
        month=month_label(item.month),
        n=len(item.desks) + item.other_desks,
        code=item.unit_code,
    )
    _line(pdf, sub, 10, color=MUTED, height=5.5, smallest=7)
    _figures(pdf, item)
    _heading(pdf, _("Desks this month"))
    _desks(pdf, item)
    _heading(pdf, _("The last 12 months"))
    _chart(pdf, item)
    _heading(pdf, _("Most frequent reasons for a rating of 3 or lower"))
    _reasons(pdf, item)
    _heading(pdf, _("Recent comments (personal data masked)"))
    _comments(pdf, item)
    pdf.ln(1)
    pdf.set_font("DejaVu", "", 7.5)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(WIDTH, 3.6, _cut_lines(pdf, convenience_note(item), 2))
    return bytes(pdf.output())
