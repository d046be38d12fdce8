"""A campaign with a small desk-style questionnaire (ratings, a "why?" reasons question, a
free comment) and helpers to store responses through the real submission path."""

from __future__ import annotations

import uuid
from typing import Any

from support import open_campaign

from surveyapp.extensions import db
from surveyapp.models import (
    Channel,
    ServicePoint,
    Unit,
    UnitLevel,
)
from surveyapp.services import instruments, submissions

# No show_if here (it is the desk branch's): the reasons are found by the code convention
# "...reasons" and linked to every 1-5 rating of the form.
DESK_TOML = """
[questionnaire]
code = "desk-test"
version = 1
title.vi = "Đánh giá nhanh"
title.en = "Quick rating"

[[option_sets]]
code = "likert5"
options = [
  { value = 1, vi = "Rất không hài lòng", en = "Very dissatisfied" },
  { value = 2, vi = "Không hài lòng", en = "Dissatisfied" },
  { value = 3, vi = "Bình thường", en = "Neutral" },
  { value = 4, vi = "Hài lòng", en = "Satisfied" },
  { value = 5, vi = "Rất hài lòng", en = "Very satisfied" },
]

[[option_sets]]
code = "reasons"
options = [
  { value = 1, vi = "Chờ lâu", en = "Long wait" },
  { value = 2, vi = "Thái độ của cán bộ chưa tốt", en = "Unfriendly staff" },
  { value = 3, vi = "Hồ sơ phải bổ sung nhiều lần", en = "Had to complete the file several times" },
]

[[sections]]
code = "R"
title.vi = "Đánh giá"
title.en = "Rating"

[[questions]]
code = "d_overall"
section = "R"
type = "likert5"
options = "likert5"
text.vi = "Nhìn chung, ông/bà hài lòng thế nào?"
text.en = "Overall, how satisfied are you?"

[[questions]]
code = "d_staff"
section = "R"
type = "likert5"
options = "likert5"
text.vi = "Công chức"
text.en = "Staff"

[[questions]]
code = "d_reasons"
section = "R"
type = "multi"
options = "reasons"
text.vi = "Lý do"
text.en = "Reasons"

[[questions]]
code = "d_why"
section = "R"
type = "text"
text.vi = "Ông/bà có thể nói thêm?"
text.en = "Tell us more?"

[[indices]]
code = "overall"
level = "overall"
rule = "designated"
parts = ["d_overall"]
name.vi = "Hài lòng chung"
name.en = "Overall"
"""


def desk_campaign() -> dict[str, Any]:
    qn = instruments.load(DESK_TOML)
    province = Unit(code="75", name="Tỉnh Đồng Nai", level=UnitLevel.PROVINCE)
    a = Unit(code="26041", name="Phường Trấn Biên", level=UnitLevel.COMMUNE, parent=province)
    b = Unit(code="26068", name="Xã Long Thành", level=UnitLevel.COMMUNE, parent=province)
    desk_a = ServicePoint(unit=a, name="Một cửa Trấn Biên")
    desk_b = ServicePoint(unit=b, name="Một cửa Long Thành")
    item = open_campaign("Đánh giá tại quầy", qn, province)
    db.session.add_all([province, a, b, desk_a, desk_b, item])
    db.session.commit()
    return {"campaign": item, "qn": qn, "units": (a, b), "desks": (desk_a, desk_b)}


def rate(
    ctx: dict[str, Any],
    desk: ServicePoint,
    overall: int,
    staff: int,
    reasons: str | None = None,
    comment: str | None = None,
) -> int:
    answers: dict[str, int | str] = {"d_overall": overall, "d_staff": staff}
    if reasons is not None:
        answers["d_reasons"] = reasons
    if comment is not None:
        answers["d_why"] = comment
    stored = submissions.store(
        submissions.Submission(
            campaign_id=ctx["campaign"].id,
            questionnaire_id=ctx["qn"].id,
            channel=Channel.QR,
            nonce=uuid.uuid4().hex,
            answers=answers,
            unit_id=desk.unit_id,
            service_point_id=desk.id,
        )
    )
    assert stored.response_id is not None
    return stored.response_id
