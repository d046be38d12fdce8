"""The Đồng Nai demo: units, desks, the SIPAS instrument, a campaign with the 2025 targets,
users, and simulated responses with a known design.

Generating model (seeded, so every run of the same code gives the same data)
---------------------------------------------------------------------------
* Respondent ``i`` has a latent satisfaction ``η_i = μ + a_d + b_c + u_i`` with ``μ = 0.9``,
  a district effect ``a_d ~ N(0, 0.25²)``, a channel effect ``b_c`` (paper 0, QR +0.25,
  kiosk +0.15: people who choose to rate a desk are a little happier) and ``u_i ~ N(0, 1)``.
* Item ``j`` has an offset ``c_j`` (criterion offset ``N(0, 0.15²)`` plus item noise
  ``N(0, 0.1²)``); the answer is the 1–5 category of ``η_i + c_j + e_ij``, ``e_ij ~ N(0, 1)``,
  cut at −1.6, −0.9, −0.2 and 1.5, which makes about 80% of answers 4 or 5, near the
  province's 2023 results. Each item is left blank with probability 3%.
* Paper channel (the probability sample): strata are the 11 district-level units; in each,
  2 of the 4 communes are drawn by simple random sampling, and 20 households by simple random
  sampling from each drawn commune's household count. The weight is
  ``(N₁/n₁)·(N₂/n₂)`` and ``fpc1 = N₁``, ``fpc2 = N₂`` are stored with every response, so
  ``surveyapp analyze --strata stratum --cluster psu,ssu --fpc fpc1,fpc2`` reproduces R's
  ``svydesign(ids=~psu+ssu, strata=~stratum, fpc=~fpc1+fpc2)``.
* QR and kiosk channels (not a probability sample): each desk gets a Poisson(25) number of
  ratings and a transaction volume for the period; analysis weights them to that volume.
* Population margins, which the report rakes the paper sample to (people aged 18 or more),
  built from the demo's own population so that they describe the province it simulates:
  every commune's adults are its households times ``ADULTS_PER_HOUSEHOLD`` = 2.5 (the 2019
  census counted about 3.5 people per household in Đồng Nai, roughly 70% of them adults),
  rounded; district totals add up its communes, urban/rural follows the communes' status
  (phường and thị trấn are urban), and sex × age group spreads the total by
  ``SEX_AGE_SHARES``, a rounded adult sex-age structure of the 2019 census (men 49.6%;
  18–29 27%, 30–39 23%, 40–49 19%, 50–59 15%, 60+ 16%). They are illustrative, not official
  figures. The simulated respondents' sex and age are drawn from ``DEMOGRAPHIC_PROBS`` (older
  and more female than the margins, as household surveys tend to be) and their area is their
  commune's, so raking mostly corrects sex and age, as it would on real returns. The demo's
  paper responses have no paper form, so no non-response factor applies to them (factor 1).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TypedDict

import numpy as np
from sqlalchemy import func, insert, select

from surveyapp.extensions import db
from surveyapp.models.campaigns import (
    Campaign,
    CampaignChannel,
    CampaignPeriod,
    CampaignStatus,
    Channel,
)
from surveyapp.models.questionnaires import Questionnaire, QuestionType
from surveyapp.models.responses import Answer, Response, ResponseStatus
from surveyapp.models.units import ServicePoint, TransactionVolume, Unit, UnitLevel
from surveyapp.models.users import Role, User
from surveyapp.services import instruments, margins, official, sampling, targets

SEED = 2025
DEMO_PASSWORD = "DongNai@2025"
TARGETS_FILE = Path(__file__).resolve().parent.parent / "instruments" / "dong-nai-targets-2025.csv"
ADULTS_PER_HOUSEHOLD = 2.5
# Adults by sex (1 men, 2 women) × age group (1: 18–29 … 5: 60+); the shares add up to 1.
SEX_AGE_SHARES = {
    (1, 1): 0.139, (1, 2): 0.117, (1, 3): 0.095, (1, 4): 0.073, (1, 5): 0.072,
    (2, 1): 0.131, (2, 2): 0.113, (2, 3): 0.095, (2, 4): 0.077, (2, 5): 0.088,
}  # fmt: skip
MARGINS_SOURCE = (
    "Minh họa: số hộ của khung mẫu mô phỏng × 2,5 người từ 18 tuổi/hộ; cơ cấu giới tính × "
    "nhóm tuổi theo Tổng điều tra dân số 2019 (làm tròn)"
)

# District-level units of Đồng Nai (before the 2025 merger) with four communes or wards each.
# Codes are the demo's own hierarchical codes, not the official statistical codes.
DISTRICTS: list[tuple[str, str, bool, list[str]]] = [
    (
        "731",
        "Thành phố Biên Hòa",
        True,
        ["Phường Tân Phong", "Phường Trảng Dài", "Phường Hố Nai", "Phường Quyết Thắng"],
    ),
    (
        "732",
        "Thành phố Long Khánh",
        True,
        ["Phường Xuân An", "Phường Xuân Trung", "Xã Bảo Quang", "Xã Bình Lộc"],
    ),
    (
        "734",
        "Huyện Tân Phú",
        False,
        ["Thị trấn Tân Phú", "Xã Phú Lâm", "Xã Phú Bình", "Xã Nam Cát Tiên"],
    ),
    (
        "735",
        "Huyện Vĩnh Cửu",
        False,
        ["Thị trấn Vĩnh An", "Xã Thạnh Phú", "Xã Tân An", "Xã Trị An"],
    ),
    (
        "736",
        "Huyện Định Quán",
        False,
        ["Thị trấn Định Quán", "Xã Phú Lợi", "Xã Gia Canh", "Xã La Ngà"],
    ),
    (
        "737",
        "Huyện Trảng Bom",
        False,
        ["Thị trấn Trảng Bom", "Xã Bắc Sơn", "Xã Hố Nai 3", "Xã Bàu Hàm"],
    ),
    (
        "738",
        "Huyện Thống Nhất",
        False,
        ["Thị trấn Dầu Giây", "Xã Gia Tân 1", "Xã Hưng Lộc", "Xã Quang Trung"],
    ),
    (
        "739",
        "Huyện Cẩm Mỹ",
        False,
        ["Thị trấn Long Giao", "Xã Sông Ray", "Xã Xuân Đông", "Xã Thừa Đức"],
    ),
    (
        "740",
        "Huyện Long Thành",
        False,
        ["Thị trấn Long Thành", "Xã An Phước", "Xã Bình Sơn", "Xã Long Đức"],
    ),
    (
        "741",
        "Huyện Xuân Lộc",
        False,
        ["Thị trấn Gia Ray", "Xã Xuân Hiệp", "Xã Suối Cát", "Xã Xuân Bắc"],
    ),
    (
        "742",
        "Huyện Nhơn Trạch",
        False,
        ["Thị trấn Hiệp Phước", "Xã Phú Hội", "Xã Long Tân", "Xã Phước Thiền"],
    ),
]
VILLAGES_PER_COMMUNE = 3
COMMUNES_DRAWN = 2
HOUSEHOLDS_DRAWN = 20
QR_MEAN_PER_DESK = 25
CUTS = np.array([-1.6, -0.9, -0.2, 1.5])
CHANNEL_EFFECT = {Channel.PAPER: 0.0, Channel.QR: 0.25, Channel.KIOSK: 0.15}
DEMOGRAPHIC_PROBS = {
    "sex": [0.48, 0.52],
    "age_group": [0.2, 0.24, 0.22, 0.18, 0.16],
    "ethnicity": [0.92, 0.08],
    "education": [0.15, 0.25, 0.3, 0.15, 0.15],
    "occupation": [0.18, 0.22, 0.25, 0.1, 0.05, 0.15, 0.05],
}


@dataclass(frozen=True)
class DemoSummary:
    campaign_id: int
    units: int
    desks: int
    responses: int
    users: list[tuple[str, str]]


def is_loaded() -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(Unit).where(Unit.code == "75")))


class _Drawn(TypedDict):
    """One simulated response before it is stored, its design fields included."""

    channel: Channel
    unit: Unit
    desk: ServicePoint | None
    district: Unit
    stratum: str | None
    psu: str | None
    ssu: str | None
    weight: float | None
    fpc1: float | None
    fpc2: float | None


def load(today: date | None = None) -> DemoSummary:
    """Add the whole demo to the session and flush it; the caller commits."""
    today = today or date.today()
    rng = np.random.default_rng(SEED)
    province = Unit(code="75", name="Tỉnh Đồng Nai", level=UnitLevel.PROVINCE, urban=None)
    db.session.add(province)
    communes_by_district: dict[Unit, list[Unit]] = {}
    households: dict[int, int] = {}
    for code, name, urban, commune_names in DISTRICTS:
        district = Unit(
            code=f"75-{code}", name=name, level=UnitLevel.DISTRICT, urban=urban, parent=province
        )
        db.session.add(district)
        communes_by_district[district] = []
        for k, commune_name in enumerate(commune_names, start=1):
            is_urban = commune_name.startswith(("Phường", "Thị trấn"))
            commune = Unit(
                code=f"75-{code}-{k:02d}",
                name=commune_name,
                urban=is_urban,
                level=UnitLevel.COMMUNE,
                parent=district,
            )
            db.session.add(commune)
            prefix = "Khu phố" if is_urban else "Ấp"
            for v in range(1, VILLAGES_PER_COMMUNE + 1):
                db.session.add(
                    Unit(
                        code=f"75-{code}-{k:02d}-{v}",
                        name=f"{prefix} {v}",
                        urban=is_urban,
                        level=UnitLevel.VILLAGE,
                        parent=commune,
                    )
                )
            communes_by_district[district].append(commune)
    db.session.flush()
    for communes in communes_by_district.values():
        for commune in communes:
            households[commune.id] = int(rng.integers(1500, 6000))

    desks = [ServicePoint(unit=province, name="Trung tâm Phục vụ hành chính công tỉnh Đồng Nai")]
    for district, communes in communes_by_district.items():
        short = district.name.removeprefix("Thành phố ").removeprefix("Huyện ")
        desks.append(ServicePoint(unit=district, name=f"Bộ phận Một cửa UBND {short}"))
        desks.append(
            ServicePoint(unit=communes[0], name=f"Bộ phận Một cửa UBND {communes[0].name}")
        )
    db.session.add_all(desks)

    qn = instruments.sipas()
    starts, ends = today - timedelta(days=60), today + timedelta(days=60)
    campaign = Campaign(
        name="Khảo sát SIPAS 2025 tỉnh Đồng Nai (dữ liệu mô phỏng)",
        questionnaire=qn,
        status=CampaignStatus.OPEN,
        starts=starts,
        ends=ends,
        units=[province],
        channels=[CampaignChannel(channel=c) for c in Channel],
        periods=[CampaignPeriod(name="Đợt 1", starts=starts, ends=ends)],
    )
    db.session.add(campaign)
    db.session.flush()
    for desk in desks:
        desk.volumes.append(
            TransactionVolume(
                period_start=starts, period_end=ends, transactions=int(rng.integers(800, 6000))
            )
        )
    targets.import_targets_file(campaign, TARGETS_FILE)

    users = []
    for username, role, full_name in [
        ("admin", Role.ADMIN, "Quản trị hệ thống"),
        ("analyst", Role.ANALYST, "Chuyên viên Sở Nội vụ"),
        ("supervisor", Role.SUPERVISOR, "Giám sát viên Bưu điện tỉnh"),
        ("enumerator1", Role.ENUMERATOR, "Điều tra viên 1"),
        ("enumerator2", Role.ENUMERATOR, "Điều tra viên 2"),
    ]:
        user = User(username=username, role=role, full_name=full_name)
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
        users.append((username, role.value))

    count = _simulate(rng, campaign, qn, communes_by_district, households, desks, today)
    margins.import_margins(
        campaign, _margins_csv(communes_by_district, households), "dong-nai-margins-demo.csv"
    )
    sampling.load_demo(campaign)  # the paper channel's frame, draw, batches and keyings
    official.load_demo_history()  # published SIPAS/PAR INDEX/PAPI/PCI the seeds give
    db.session.flush()
    return DemoSummary(
        campaign_id=campaign.id,
        units=db.session.scalar(select(func.count()).select_from(Unit)) or 0,
        desks=len(desks),
        responses=count,
        users=users,
    )


def _margins_csv(communes_by_district: dict[Unit, list[Unit]], households: dict[int, int]) -> bytes:
    """The demo's population margins (see the module docstring) as a margins file."""
    adults = {
        c.id: round(households[c.id] * ADULTS_PER_HOUSEHOLD)
        for communes in communes_by_district.values()
        for c in communes
    }
    total = sum(adults.values())
    urban = sum(adults[c.id] for cs in communes_by_district.values() for c in cs if c.urban)
    sex_age = {k: round(total * share) for k, share in SEX_AGE_SHARES.items()}
    sex_age[(2, 5)] += total - sum(sex_age.values())  # rounding: every margin adds up to total
    rows: list[tuple[str, str, int]] = [("sex_age", f"{s}-{a}", n) for (s, a), n in sex_age.items()]
    rows += [("area", "1", urban), ("area", "2", total - urban)]
    rows += [
        ("district", d.code, sum(adults[c.id] for c in cs))
        for d, cs in communes_by_district.items()
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["variable", "category", "population", "source"])
    writer.writerows([(*row, MARGINS_SOURCE) for row in rows])
    return out.getvalue().encode()


def _answers_for(rng: np.random.Generator, eta: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Likert answers (n × items), 0 where left blank."""
    z = eta[:, None] + offsets[None, :] + rng.standard_normal((eta.size, offsets.size))
    values = 1 + (z[:, :, None] > CUTS[None, None, :]).sum(axis=2)
    blank = rng.random(values.shape) < 0.03
    return np.where(blank, 0, values)


def _simulate(
    rng: np.random.Generator,
    campaign: Campaign,
    qn: Questionnaire,
    communes_by_district: dict[Unit, list[Unit]],
    households: dict[int, int],
    desks: list[ServicePoint],
    today: date,
) -> int:
    likert = [q for q in qn.questions if q.type == QuestionType.LIKERT5]
    demographic = {q.code: q for q in qn.questions if q.type == QuestionType.SINGLE}
    criteria = {n.code: n for n in qn.index_nodes if n.level.value == "criterion"}
    criterion_of = {
        p.question.code: code
        for code, n in criteria.items()
        for p in n.parts
        if p.question is not None
    }
    crit_offset = {code: rng.normal(0, 0.15) for code in sorted(criteria)}
    offsets = np.array([crit_offset[criterion_of[q.code]] + rng.normal(0, 0.1) for q in likert])
    district_effect = {d.id: rng.normal(0, 0.25) for d in communes_by_district}
    period = campaign.periods[0]

    rows: list[_Drawn] = []
    for district, communes in communes_by_district.items():
        n_communes = len(communes)
        drawn = rng.choice(n_communes, size=COMMUNES_DRAWN, replace=False)
        for index in sorted(drawn):
            commune = communes[index]
            n_households = households[commune.id]
            chosen = rng.choice(n_households, size=HOUSEHOLDS_DRAWN, replace=False)
            for h in sorted(chosen):
                rows.append(
                    {
                        "channel": Channel.PAPER,
                        "unit": commune,
                        "desk": None,
                        "district": district,
                        "stratum": district.code,
                        "psu": commune.code,
                        "ssu": f"{commune.code}-H{h + 1:05d}",
                        "weight": (n_communes / COMMUNES_DRAWN) * (n_households / HOUSEHOLDS_DRAWN),
                        "fpc1": float(n_communes),
                        "fpc2": float(n_households),
                    }
                )
    for desk in desks:
        district = desk.unit.ancestor(UnitLevel.DISTRICT) or next(iter(communes_by_district))
        for _ in range(int(rng.poisson(QR_MEAN_PER_DESK))):
            channel = Channel.KIOSK if rng.random() < 0.3 else Channel.QR
            rows.append(
                {
                    "channel": channel,
                    "unit": desk.unit,
                    "desk": desk,
                    "district": district,
                    "stratum": None,
                    "psu": None,
                    "ssu": None,
                    "weight": None,
                    "fpc1": None,
                    "fpc2": None,
                }
            )

    eta = np.array(
        [0.9 + district_effect[r["district"].id] + CHANNEL_EFFECT[r["channel"]] for r in rows]
    ) + rng.standard_normal(len(rows))
    items = _answers_for(rng, eta, offsets)
    span = max((today - period.starts).days, 1)
    responses = []
    for i, row in enumerate(rows):
        day = period.starts + timedelta(days=int(rng.integers(0, span)))
        moment = datetime.combine(day, time(8), tzinfo=UTC) + timedelta(
            minutes=int(rng.integers(0, 9 * 60))
        )
        serial = f"{i + 1:06d}" if row["channel"] == Channel.PAPER else None
        responses.append(
            Response(
                campaign=campaign,
                questionnaire=qn,
                channel=row["channel"],
                status=ResponseStatus.FINAL,
                nonce=f"demo-{SEED}-{i:06d}",
                unit=row["unit"],
                service_point=row["desk"],
                period_id=period.id,
                serial=serial,
                stratum=row["stratum"],
                psu=row["psu"],
                ssu=row["ssu"],
                weight=row["weight"],
                fpc1=row["fpc1"],
                fpc2=row["fpc2"],
                submitted_at=moment,
                flags=[],
            )
        )
    db.session.add_all(responses)
    db.session.flush()

    answer_rows: list[dict[str, object]] = []
    for i, (row, response) in enumerate(zip(rows, responses, strict=True)):
        for j, question in enumerate(likert):
            if items[i, j]:
                answer_rows.append(
                    {
                        "response_id": response.id,
                        "question_id": question.id,
                        "value": int(items[i, j]),
                    }
                )
        for code, question in demographic.items():
            if code == "area":
                value = 1 if row["unit"].urban else 2
            else:
                probs = DEMOGRAPHIC_PROBS[code]
                value = int(rng.choice(len(probs), p=probs)) + 1
            answer_rows.append(
                {"response_id": response.id, "question_id": question.id, "value": value}
            )
    db.session.execute(insert(Answer), answer_rows)
    return len(responses)
