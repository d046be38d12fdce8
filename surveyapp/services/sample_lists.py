"""The list of sampled households the Ministry of Home Affairs asks provinces for.

Kế hoạch 3184/KH-UBND (shared/seeds, 002) asks departments to "lập danh sách khảo sát sự
hài lòng người dân (SIPAS) theo yêu cầu của Bộ Nội vụ": the households drawn, where to find
them, and the serial of the form each gets. Layout ``moha``, one row per drawn household in
the order the forms were printed (commune, village, serial):

=====  ==============  ==========================================================
col    header          content
=====  ==============  ==========================================================
1      STT             row number (a number)
2      Mã xã           official code of the commune-level unit (xã/phường/đặc khu)
3      Tên xã          its name
4      Thôn, ấp, khu   the village, hamlet or quarter the household lives in
5      Mã hộ           the household's code in the sample frame
6      Họ tên chủ hộ   the household head, as in the frame
7      Địa chỉ         the address, as in the frame
8      Số phiếu        the serial printed on the household's form
9      Dự phòng        "x" for a reserve household (used only to replace a refusal)
=====  ==============  ==========================================================
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.sampling import Form, Household
from surveyapp.models.units import Unit
from surveyapp.services import ServiceError

LAYOUTS = ("moha",)
MOHA_HEADERS = [
    "STT",
    "Mã xã",
    "Tên xã",
    "Thôn, ấp, khu",
    "Mã hộ",
    "Họ tên chủ hộ",
    "Địa chỉ",
    "Số phiếu",
    "Dự phòng",
]


def moha_rows(campaign: Campaign) -> tuple[list[str], list[list[Any]]]:
    """(headers, rows) of the campaign's drawn households in the Ministry's layout."""
    stmt = (
        select(Form)
        .where(Form.campaign_id == campaign.id)
        .options(joinedload(Form.household).joinedload(Household.village).joinedload(Unit.parent))
    )
    forms = list(db.session.scalars(stmt).unique())
    if not forms:
        raise ServiceError(
            "Chiến dịch này chưa có mẫu được chọn: hãy chọn mẫu trước (sample draw)."
        )

    def key(form: Form) -> tuple[str, str, str]:
        village = form.household.village
        commune = village.parent
        return (commune.code if commune else "", village.code, form.serial)

    rows: list[list[Any]] = []
    for number, form in enumerate(sorted(forms, key=key), start=1):
        village = form.household.village
        commune = village.parent
        rows.append(
            [
                number,
                commune.code if commune else "",
                commune.name if commune else "",
                village.name,
                form.household.code,
                form.household.head_name,
                form.household.address,
                form.serial,
                "x" if form.reserve else "",
            ]
        )
    return MOHA_HEADERS, rows


def export(campaign: Campaign, layout: str, fmt: str) -> bytes:
    """The list as CSV (UTF-8 with BOM, for Excel) or XLSX."""
    if layout not in LAYOUTS:
        raise ServiceError(_("--layout: use %(layouts)s", layouts=", ".join(LAYOUTS)))
    headers, rows = moha_rows(campaign)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(headers)
        writer.writerows(rows)
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from surveyapp import xlsx

    book = Workbook()
    sheet = book.active
    sheet.title = "Danh sách khảo sát SIPAS"
    xlsx.append(sheet, [f"Danh sách hộ gia đình được chọn khảo sát – {campaign.name}"])
    sheet["A1"].font = Font(bold=True)
    xlsx.append(sheet, headers)
    for c in sheet[2]:
        c.font = Font(bold=True)
    for row in rows:
        xlsx.append(sheet, row)
    for letter, width in zip("ABCDEFGHI", (6, 10, 28, 24, 14, 28, 40, 14, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
