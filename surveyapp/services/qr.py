"""Printable QR sheets per desk: the desk's name, a short Vietnamese instruction, the QR code
and the short URL under it, on A4 or A5, as PNG, SVG or PDF.

The QR encodes the absolute URL ``BASE_URL/s/<desk token>``. SVG needs no font (the viewer
draws the text); PNG (Pillow) and PDF (fpdf2, pure Python, embeds a subset of the font) need
a TrueType font with Vietnamese letters: DejaVu Sans from Debian's ``fonts-dejavu-core``, or
the files named by the ``QR_FONT`` and ``QR_FONT_BOLD`` settings.
"""

from __future__ import annotations

import io
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import segno
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from surveyapp.hygiene import clean_text
from surveyapp.models.units import ServicePoint
from surveyapp.services import ServiceError, links

FORMATS = ("png", "svg", "pdf")
PAPERS = {"A4": (210.0, 297.0), "A5": (148.0, 210.0)}
MIME = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts"),
)


def survey_url(desk: ServicePoint) -> str:
    return links.desk_url(desk.token)


def qr_code(url: str) -> segno.QRCode:
    # Level M survives a crease or a smudge on a printed sheet and keeps the code small.
    return segno.make(url, error="m", micro=False)


@dataclass(frozen=True)
class SheetText:
    heading: str
    desk: str
    unit: str
    instruction: str
    url_label: str
    url: str


def sheet_text(desk: ServicePoint) -> SheetText:
    """The sheet's words, always in Vietnamese (it hangs in a Vietnamese office)."""
    with force_locale("vi"):
        return SheetText(
            heading=_("Rate our service"),
            # Names stored before input was filtered (or written by a script) may hold a
            # control character, which the PNG text layout cannot draw: one clean line each.
            desk=clean_text(desk.name, multiline=False),
            unit=clean_text(desk.unit.name, multiline=False) if desk.unit else "",
            instruction=_(
                "Scan this code with your phone's camera to tell us how satisfied you are "
                "with the service you received today. It takes about two minutes; no name "
                "or login is needed."
            ),
            url_label=_("Or open this address:"),
            url=survey_url(desk),
        )


def filename(desk: ServicePoint, fmt: str) -> str:
    return f"qr-desk-{desk.id:03d}.{fmt}"


def render(desk: ServicePoint, fmt: str, paper: str | None = None) -> bytes:
    paper = (paper or current_app.config.get("QR_PAPER") or "A4").upper()
    if fmt not in FORMATS:
        raise ServiceError(f"Unknown format {fmt!r}: use png, svg or pdf.")
    if paper not in PAPERS:
        raise ServiceError(f"Unknown paper size {paper!r}: use A4 or A5.")
    text = sheet_text(desk)
    return {"png": _png, "svg": _svg, "pdf": _pdf}[fmt](text, paper)


# ---------------------------------------------------------------------------------------------


def font_path(bold: bool) -> Path:
    """The TrueType font with Vietnamese letters for PNG and PDF (QR sheets, bulletins)."""
    configured = current_app.config.get("QR_FONT_BOLD" if bold else "QR_FONT")
    candidates = [Path(configured)] if configured else []
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    candidates += [d / name for d in FONT_DIRS]
    for path in candidates:
        if path.is_file():
            return path
    raise ServiceError(
        "No TrueType font with Vietnamese letters was found for PNG/PDF sheets: install "
        "Debian's fonts-dejavu-core or set SURVEYAPP_QR_FONT and SURVEYAPP_QR_FONT_BOLD "
        "(SVG sheets need no font)."
    )


def _qr_size(top: float, height: float, k: float) -> float:
    """As large as fits between the text above and the address below (in mm)."""
    return max(40 * k, min(125 * k, height - top - 32 * k))


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width=width, break_long_words=False) or [""]


def _svg(text: SheetText, paper: str) -> bytes:
    width, height = PAPERS[paper]
    k = width / 210.0  # everything scales with the paper
    qr = qr_code(text.url)
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", xmldecl=False, svgns=True, nl=False, border=4, scale=1)
    qr_svg = buffer.getvalue().decode()
    modules = qr.symbol_size(scale=1, border=4)[0]
    lines: list[str] = []
    y = 28 * k

    def line(s: str, size: float, weight: str = "normal", fill: str = "#1b1f24") -> None:
        nonlocal y
        lines.append(
            f'<text x="{width / 2:.2f}" y="{y:.2f}" font-size="{size * k:.2f}" '
            f'font-weight="{weight}" fill="{fill}" text-anchor="middle">{escape(s)}</text>'
        )
        y += size * k * 1.35

    line(text.heading.upper(), 11, "bold", "#0b4f8a")
    for part in _wrap(text.desk, 34):
        line(part, 9, "bold")
    if text.unit:
        line(text.unit, 6.5)
    y += 3 * k
    for part in _wrap(text.instruction, 58):
        line(part, 5.5)
    qr_y = y
    qr_size = _qr_size(qr_y, height, k)
    qr_x = (width - qr_size) / 2
    nested = re.sub(
        r'^<svg xmlns="http://www.w3.org/2000/svg" width="\d+" height="\d+"',
        f'<svg x="{qr_x:.2f}" y="{qr_y:.2f}" width="{qr_size:.2f}" height="{qr_size:.2f}" '
        f'viewBox="0 0 {modules} {modules}"',
        qr_svg,
    )
    y = qr_y + qr_size + 10 * k
    line(text.url_label, 5)
    line(text.url, 5.6, "bold")
    body = "".join(lines)
    svg = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Noto Sans, Arial, sans-serif">'
        f"<title>{escape(text.desk)}</title>"
        f'<rect width="{width}" height="{height}" fill="#fff"/>'
        f"{body}{nested}</svg>\n"
    )
    return svg.encode()


def _png(text: SheetText, paper: str, dpi: int = 150) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    width_mm, height_mm = PAPERS[paper]
    px = dpi / 25.4
    width, height = round(width_mm * px), round(height_mm * px)
    k = width_mm / 210.0
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    regular, bold = font_path(False), font_path(True)

    def font(size_mm: float, heavy: bool = False) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(bold if heavy else regular), max(8, round(size_mm * k * px)))

    y = 18 * k * px

    def line(s: str, size: float, heavy: bool = False, fill: str = "#1b1f24") -> None:
        nonlocal y
        f = font(size, heavy)
        draw.text((width / 2, y), s, font=f, fill=fill, anchor="ma")
        y += size * k * px * 1.35

    line(text.heading.upper(), 11, True, "#0b4f8a")
    for part in _wrap(text.desk, 34):
        line(part, 9, True)
    if text.unit:
        line(text.unit, 6.5)
    y += 3 * k * px
    for part in _wrap(text.instruction, 58):
        line(part, 5.5)
    qr_y = round(y)
    qr_size = round(_qr_size(y / px, height_mm, k) * px)
    qr_png = io.BytesIO()
    qr = qr_code(text.url)
    modules = qr.symbol_size(scale=1, border=4)[0]
    qr.save(qr_png, kind="png", scale=max(1, qr_size // modules), border=4)
    qr_image = Image.open(io.BytesIO(qr_png.getvalue())).convert("RGB")
    qr_image = qr_image.resize((qr_size, qr_size), Image.Resampling.NEAREST)
    image.paste(qr_image, ((width - qr_size) // 2, qr_y))
    y = qr_y + qr_size + 6 * k * px
    line(text.url_label, 5)
    line(text.url, 5.6, True)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi), optimize=True)
    return out.getvalue()


def _pdf(text: SheetText, paper: str) -> bytes:
    from fpdf import FPDF

    width, height = PAPERS[paper]
    k = width / 210.0
    pdf = FPDF(orientation="P", unit="mm", format=PAPERS[paper])
    pdf.set_title(text.desk)
    pdf.set_creator("surveyapp")
    pdf.set_auto_page_break(False)
    pdf.add_font("DejaVu", "", str(font_path(False)))
    pdf.add_font("DejaVu", "B", str(font_path(True)))
    pdf.add_page()
    margin = 15 * k
    usable = width - 2 * margin
    pt = 72 / 25.4  # font sizes are given in mm of cap height-ish, converted to points

    def block(
        s: str, size: float, style: str = "", rgb: tuple[int, int, int] = (27, 31, 36)
    ) -> None:
        pdf.set_font("DejaVu", style, size * k * pt)
        pdf.set_text_color(*rgb)
        pdf.set_x(margin)
        pdf.multi_cell(usable, size * k * 1.35, s, align="C", new_x="LMARGIN", new_y="NEXT")

    pdf.set_y(14 * k)
    block(text.heading.upper(), 11, "B", (11, 79, 138))
    block(text.desk, 9, "B")
    if text.unit:
        block(text.unit, 6.5)
    pdf.ln(3 * k)
    block(text.instruction, 5.5)
    qr = qr_code(text.url)
    qr_png = io.BytesIO()
    qr.save(qr_png, kind="png", scale=10, border=4)
    qr_y = pdf.get_y() + 2 * k
    qr_size = _qr_size(qr_y, height, k)
    pdf.image(io.BytesIO(qr_png.getvalue()), x=(width - qr_size) / 2, y=qr_y, w=qr_size, h=qr_size)
    pdf.set_y(qr_y + qr_size + 6 * k)
    block(text.url_label, 5)
    block(text.url, 5.6, "B")
    return bytes(pdf.output())
