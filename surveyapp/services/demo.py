"""The Đồng Nai demo, as the province is since 1 July 2025: units before and after the
reorganisation with the crosswalk between them, desks, the SIPAS instrument, two campaigns with
the 2025 targets, users, a household frame, drawn paper samples whose returned forms are keyed
(double entry and import), and simulated desk ratings.

The province and its two structures
-----------------------------------
* Today's Đồng Nai (code 75): the old Đồng Nai and Bình Phước provinces merged by Resolution
  202/2025/QH15, about 4.4 million people, with the 95 commune-level units (23 wards, 72
  communes) that Resolution 1662/NQ-UBTVQH15 gave it on 1 July 2025, under their official
  names and codes (``COMMUNES_FILE``, from the shared administrative-units dataset). Each has
  three hamlets or neighbourhoods (``Ấp 1`` … / ``Khu phố 1`` …: illustrative names) and a
  public-administration service centre (the desk citizens rate), besides the provincial centre.
* The old structure, kept as historical units (valid until 30/06/2025): the old Đồng Nai's 11
  district-level units (real names, their statistical codes 731–742) with four real communes
  or wards each, whose codes (``75-731-01`` …) are the demo's own, and their one-stop desks
  (closed since). The old Bình Phước province is listed too, merged whole.
* The crosswalk old → new (``CROSSWALK_FILE``) is illustrative: which new commune each old
  commune went to and the populations are the demo's assumptions (the file and the crosswalk
  page say so), with a few old communes split between two new ones by population share.

Two campaigns
-------------
* 2024, on the old structure (closed): the paper sample stratified by the old districts,
  double entry, the population margins by district, and ratings at the old one-stop desks.
* This year's (open), on the new structure: a paper sample stratified by commune (every
  commune a stratum, two hamlets by PPS, three households each), fieldwork still under way
  (a form out in every fourth batch, some keyed once, one conflict), margins scaled to the
  new province, and ratings at the 96 service centres.

The published 2023 figures the seeds give are in the registry of published results
(``official.load_demo_history``); the 2025 targets go with both campaigns.

Generating model (seeded, so every run of the same code gives the same data)
---------------------------------------------------------------------------
* Respondent ``i`` has a latent satisfaction ``η_i = μ + a_d + b_c + u_i`` with ``μ = 0.9``,
  an area effect ``a_d``: ``N(0, 0.25²)`` per old district; a new commune takes the
  share-weighted effect of the old districts its crosswalk names plus ``TREND`` = 0.1 (service
  improved from 2024), or ``N(0, 0.25²)`` where it has no old Đồng Nai part; a channel
  effect ``b_c`` (paper 0, QR +0.25, kiosk +0.15: people who choose to rate a desk are a
  little happier) and ``u_i ~ N(0, 1)``.
* Item ``j`` has an offset ``c_j`` (criterion offset ``N(0, 0.15²)`` plus item noise
  ``N(0, 0.1²)``); the answer is the 1–5 category of ``η_i + c_j + e_ij``, ``e_ij ~ N(0, 1)``,
  cut at −1.6, −0.9, −0.2 and 1.5, which makes about 80% of answers 4 or 5, near the
  province's 2023 results. Each item is left blank with probability 3%.
* Paper channel (the probability sample), entered as a real fieldwork is:
  a household frame lists 60–239 households in every old village (30–119 in a new hamlet);
  :data:`DRAW_PLAN` draws the 2024 sample (:data:`DRAW_PLAN_2026` this year's)
  through :func:`surveyapp.services.sampling.draw` (every district a stratum, two communes
  and then one village by PPS, ``HOUSEHOLDS_DRAWN`` households by simple random sampling
  plus reserves), the forms are bundled into one batch per village and handed to the two
  demo enumerators. Each household then answers with probability ``P_RESPOND`` (lower in
  towns); one that does not is a refusal (40%) or not at home. In a village with someone
  not at home the supervisor releases one reserve household, which answers. A returned
  form is keyed by both enumerators through :func:`surveyapp.services.entry.save_keying`
  (double entry), which makes its final response. ``IN_FIELD_PER_BATCH`` forms of every
  batch are still out, so at least 20 printed forms are not keyed (an import can be tried
  at once); of those, three are keyed once by enumerator1 (enumerator2 can key them again
  to see double entry finalise them) and one twice with a difference, for the supervisor
  to reconcile. Response rates, form fates and the non-response factors of the report are
  therefore the ones this fieldwork gives.
* QR and kiosk channels (not a probability sample): each desk gets a Poisson(25) number of
  ratings and a transaction volume for the period; analysis weights them to that volume.
* Population margins, which the report rakes the paper sample to (people aged 18 or more),
  built from the demo's own frame so that they describe the province it simulates:
  every commune's adults are its frame households times ``ADULTS_PER_HOUSEHOLD`` = 2.5 (the
  2019 census counted about 3.5 people per household in Đồng Nai, roughly 70% of them
  adults), rounded (this year: scaled to the new province's ``ADULTS_2026``); district
  totals add up its communes (2024 only; there are no districts since), urban/rural
  follows the communes' status (phường and thị trấn are urban), and sex × age group spreads
  the total by ``SEX_AGE_SHARES``, a rounded adult sex-age structure of the 2019 census (men 49.6%;
  18–29 27%, 30–39 23%, 40–49 19%, 50–59 15%, 60+ 16%). They are illustrative, not official
  figures. The simulated respondents' sex and age are drawn from ``DEMOGRAPHIC_PROBS`` (older
  and more female than the margins, as household surveys tend to be) and their area is their
  commune's, so raking mostly corrects sex and age, as it would on real returns.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import func, insert, select

from surveyapp.data import tallies
from surveyapp.extensions import db
from surveyapp.models.campaigns import (
    Campaign,
    CampaignChannel,
    CampaignPeriod,
    CampaignStatus,
    Channel,
)
from surveyapp.models.questionnaires import Question, Questionnaire, QuestionType
from surveyapp.models.responses import Answer, Response, ResponseStatus
from surveyapp.models.sampling import Form, FormFate, Household, SampleDraw
from surveyapp.models.units import ServicePoint, TransactionVolume, Unit, UnitLevel
from surveyapp.models.users import Role, User
from surveyapp.services import (
    batches,
    crosswalk,
    entry,
    imports,
    instruments,
    margins,
    official,
    sampling,
    targets,
)

SEED = 2025
DRAW_SEED = 2026
DEMO_PASSWORD = "DongNai@2025"
INSTRUMENTS = Path(__file__).resolve().parent.parent / "instruments"
TARGETS_FILE = INSTRUMENTS / "dong-nai-targets-2025.csv"
COMMUNES_FILE = INSTRUMENTS / "dong-nai-communes-2025.csv"
CROSSWALK_FILE = INSTRUMENTS / "dong-nai-crosswalk-2025-demo.csv"
REORGANISED = date(2025, 7, 1)
OLD_UNTIL = date(2025, 6, 30)
OLD_CAMPAIGN = (date(2024, 9, 3), date(2024, 11, 29))
#: People aged 18 or more in the new province: about 4.4 million people, ~70% adults.
ADULTS_2026 = 3_080_000
TREND = 0.1
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
FRAME_HOUSEHOLDS = (60, 240)  # households per village: at least 60, fewer than 240
HOUSEHOLDS_DRAWN = 20
RESERVES_DRAWN = 2
DRAW_PLAN = [
    sampling.Stage("district", "all", 0),
    sampling.Stage("commune", "pps", 2),  # two PSUs per stratum: no lonely PSU in the analysis
    sampling.Stage("village", "pps", 1),
    sampling.Stage("household", "srs", HOUSEHOLDS_DRAWN, reserve=RESERVES_DRAWN),
]
NEW_FRAME_HOUSEHOLDS = (30, 120)
HOUSEHOLDS_DRAWN_2026 = 3
DRAW_PLAN_2026 = [
    sampling.Stage("commune", "all", 0),  # every commune a stratum
    sampling.Stage("village", "pps", 2),
    sampling.Stage("household", "srs", HOUSEHOLDS_DRAWN_2026, reserve=1),
]
QR_MEAN_PER_DESK_2026 = 6
IN_FIELD_EVERY_2026 = 4  # this year's fieldwork: one form out in every fourth batch
P_RESPOND = {True: 0.78, False: 0.88}  # by the commune's urban status
P_REFUSED = 0.4  # of the households that do not answer; the others are not at home
IN_FIELD_PER_BATCH = 2
ON_SCREEN_BATCHES = 4  # keyed by double entry; the other batches are imported
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
    #: The 2024 campaign, on the old structure (districts): the district breakdowns use it.
    campaign_id: int
    #: This year's campaign, on the structure since 1 July 2025 (communes).
    current_campaign_id: int
    units: int
    desks: int
    responses: int
    users: list[tuple[str, str]]


def is_loaded() -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(Unit).where(Unit.code == "75")))


def load(today: date | None = None) -> DemoSummary:
    """Add the whole demo to the session and flush it; the caller commits."""
    today = today or date.today()
    rng = np.random.default_rng(SEED)
    province, communes_by_district = _old_units()
    new_communes = _new_units(province)
    crosswalk.import_crosswalk(CROSSWALK_FILE.read_bytes(), CROSSWALK_FILE.name)
    old_desks, new_desks = _desks(province, communes_by_district, new_communes)
    qn = instruments.sipas()
    old_campaign = _campaign(
        f"Khảo sát SIPAS {OLD_CAMPAIGN[0].year} tỉnh Đồng Nai, địa giới trước 01/7/2025 "
        "(dữ liệu mô phỏng)",
        qn, province, *OLD_CAMPAIGN, CampaignStatus.CLOSED,
    )  # fmt: skip
    starts, ends = today - timedelta(days=60), today + timedelta(days=60)
    campaign = _campaign(
        f"Khảo sát SIPAS {today.year} tỉnh Đồng Nai (dữ liệu mô phỏng)",
        qn, province, starts, ends, CampaignStatus.OPEN,
    )  # fmt: skip
    for item, desks in ((old_campaign, old_desks), (campaign, new_desks)):
        for desk in desks:
            desk.volumes.append(
                TransactionVolume(
                    period_start=item.starts,
                    period_end=item.ends,
                    transactions=int(rng.integers(800, 6000)),
                )
            )

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
    db.session.flush()

    model = _Model(rng, qn, communes_by_district, new_communes)
    households = _frame(rng)
    keyers = list(
        db.session.scalars(
            select(User).where(User.role == Role.ENUMERATOR).order_by(User.username)
        ).all()
    )
    ratings = _desk_ratings(rng, model, old_campaign, old_desks, OLD_CAMPAIGN[1], QR_MEAN_PER_DESK)
    ratings += _desk_ratings(rng, model, campaign, new_desks, today, QR_MEAN_PER_DESK_2026)
    _desk_questionnaire_on_desks(campaign)
    margins.import_margins(
        old_campaign,
        _margins_csv(communes_by_district, households),
        "dong-nai-margins-2024-demo.csv",
    )
    margins.import_margins(
        campaign, _margins_csv_2026(new_communes, households), "dong-nai-margins-demo.csv"
    )
    official.load_demo_history()  # published SIPAS/PAR INDEX/PAPI/PCI the seeds give
    ids = old_campaign.id, campaign.id
    n_desks = len(old_desks) + len(new_desks)
    paper = _fieldwork(
        rng, model, old_campaign, DRAW_PLAN, DRAW_SEED, keyers, OLD_CAMPAIGN[1],
        in_field_per_batch=0, on_screen_batches=ON_SCREEN_BATCHES,
    )  # fmt: skip
    paper += _fieldwork(  # last: it empties the session
        rng, model, db.session.get_one(Campaign, ids[1]), DRAW_PLAN_2026, DRAW_SEED + 1,
        keyers, today, in_field_per_batch=1, on_screen_batches=0,
        in_field_every=IN_FIELD_EVERY_2026,
    )  # fmt: skip
    # The ratings' tallies folded now, in the caller's transaction: the demo's first view
    # (and every test that copies the demo) starts from folded cells.
    tallies.fold()
    return DemoSummary(
        campaign_id=ids[0],
        current_campaign_id=ids[1],
        units=db.session.scalar(select(func.count()).select_from(Unit)) or 0,
        desks=n_desks,
        responses=paper + ratings,
        users=users,
    )


def _campaign(
    name: str,
    qn: Questionnaire,
    province: Unit,
    starts: date,
    ends: date,
    status: CampaignStatus,
) -> Campaign:
    campaign = Campaign(
        name=name,
        questionnaire=qn,
        status=status,
        starts=starts,
        ends=ends,
        units=[province],
        channels=[CampaignChannel(channel=c) for c in Channel],
        periods=[CampaignPeriod(name="Đợt 1", starts=starts, ends=ends)],
    )
    db.session.add(campaign)
    db.session.flush()
    targets.import_targets_file(campaign, TARGETS_FILE)
    return campaign


def _kind(name: str) -> str | None:
    lowered = name.lower()
    for kind in ("thành phố", "thị trấn", "thị xã", "đặc khu", "huyện", "phường", "xã", "tỉnh"):
        if lowered.startswith(kind + " "):
            return kind
    return None


def _villages(commune: Unit, is_urban: bool, **validity: date) -> None:
    prefix = "Khu phố" if is_urban else "Ấp"
    for v in range(1, VILLAGES_PER_COMMUNE + 1):
        db.session.add(
            Unit(
                code=f"{commune.code}-{v}",
                name=f"{prefix} {v}",
                kind=prefix.lower(),
                urban=is_urban,
                level=UnitLevel.VILLAGE,
                parent=commune,
                **validity,
            )
        )


def _old_units() -> tuple[Unit, dict[Unit, list[Unit]]]:
    """The province, the old Bình Phước, and the old Đồng Nai's districts, their communes and
    villages (valid until 30/06/2025); communes by district."""
    province = Unit(
        code="75", name="Tỉnh Đồng Nai", level=UnitLevel.PROVINCE, kind="tỉnh", urban=None
    )
    db.session.add(province)
    db.session.add(
        Unit(
            code="70",
            name="Tỉnh Bình Phước",
            level=UnitLevel.PROVINCE,
            kind="tỉnh",
            valid_to=OLD_UNTIL,
        )
    )
    communes_by_district: dict[Unit, list[Unit]] = {}
    for code, name, urban, communes in DISTRICTS:
        district = Unit(
            code=f"75-{code}",
            name=name,
            level=UnitLevel.DISTRICT,
            kind=_kind(name),
            urban=urban,
            parent=province,
            valid_to=OLD_UNTIL,
        )
        db.session.add(district)
        communes_by_district[district] = []
        for k, commune_name in enumerate(communes, start=1):
            is_urban = commune_name.startswith(("Phường", "Thị trấn"))
            commune = Unit(
                code=f"75-{code}-{k:02d}",
                name=commune_name,
                kind=_kind(commune_name),
                urban=is_urban,
                level=UnitLevel.COMMUNE,
                parent=district,
                valid_to=OLD_UNTIL,
            )
            db.session.add(commune)
            _villages(commune, is_urban, valid_to=OLD_UNTIL)
            communes_by_district[district].append(commune)
    db.session.flush()
    return province, communes_by_district


def _new_units(province: Unit) -> list[Unit]:
    """The 95 commune-level units since 1 July 2025, directly under the province."""
    with COMMUNES_FILE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    communes = []
    for row in rows:
        is_urban = row["kind"] == "phường"
        commune = Unit(
            code=row["code"],
            name=row["name"],
            kind=row["kind"],
            urban=is_urban,
            level=UnitLevel.COMMUNE,
            parent=province,
            valid_from=REORGANISED,
        )
        db.session.add(commune)
        _villages(commune, is_urban, valid_from=REORGANISED)
        communes.append(commune)
    db.session.flush()
    return communes


def _desks(
    province: Unit, communes_by_district: dict[Unit, list[Unit]], new_communes: list[Unit]
) -> tuple[list[ServicePoint], list[ServicePoint]]:
    """The old one-stop desks (closed since the districts went) and today's: the provincial
    public-administration service centre and one centre per commune-level unit."""
    old = []
    for district, communes in communes_by_district.items():
        short = district.name.removeprefix("Thành phố ").removeprefix("Huyện ")
        old.append(ServicePoint(unit=district, name=f"Bộ phận Một cửa UBND {short}", active=False))
        old.append(
            ServicePoint(
                unit=communes[0], name=f"Bộ phận Một cửa UBND {communes[0].name}", active=False
            )
        )
    new = [ServicePoint(unit=province, name="Trung tâm Phục vụ hành chính công tỉnh Đồng Nai")]
    for commune in new_communes:
        kind = commune.kind or ""
        has_kind = bool(kind) and commune.name.lower().startswith(kind + " ")
        label = f"{kind} {commune.name[len(kind) + 1 :]}" if has_kind else commune.name
        new.append(ServicePoint(unit=commune, name=f"Trung tâm Phục vụ hành chính công {label}"))
    db.session.add_all(old + new)
    return old, new


def _frame(rng: np.random.Generator) -> dict[int, int]:
    """A household list for every village; returns the number of households per commune."""
    villages = db.session.scalars(
        select(Unit).where(Unit.level == UnitLevel.VILLAGE).order_by(Unit.code)
    ).all()
    rows = []
    per_commune: dict[int, int] = defaultdict(int)
    for v in villages:
        size = int(rng.integers(*(NEW_FRAME_HOUSEHOLDS if v.valid_from else FRAME_HOUSEHOLDS)))
        per_commune[v.parent_id or v.id] += size
        rows += [
            {
                "village_id": v.id,
                "code": f"H{h:04d}",
                "head_name": f"Hộ {h} {v.name}",
                "address": f"Số {h}, {v.name}",
            }
            for h in range(1, size + 1)
        ]
    db.session.execute(insert(Household), rows)
    return per_commune


class _Model:
    """The generating model's fixed parts (see the module docstring)."""

    def __init__(
        self,
        rng: np.random.Generator,
        qn: Questionnaire,
        communes_by_district: dict[Unit, list[Unit]],
        new_communes: list[Unit],
    ) -> None:
        self.likert = [q for q in qn.questions if q.type == QuestionType.LIKERT5]
        self.keyed = entry.keyed_questions(qn)
        criteria = {n.code: n for n in qn.index_nodes if n.level.value == "criterion"}
        criterion_of = {
            p.question.code: code
            for code, n in criteria.items()
            for p in n.parts
            if p.question is not None
        }
        crit_offset = {code: rng.normal(0, 0.15) for code in sorted(criteria)}
        self.offsets = np.array(
            [crit_offset[criterion_of[q.code]] + rng.normal(0, 0.1) for q in self.likert]
        )
        #: Area effect by unit id: old districts, then the new communes (module docstring).
        self.effect = {d.id: rng.normal(0, 0.25) for d in communes_by_district}
        district_of = {c.id: d.id for d, cs in communes_by_district.items() for c in cs}
        for commune in new_communes:
            parts = [
                (self.effect[district_of[e.old_unit_id]], e.share)
                for e in crosswalk.shares_into({commune.id}).get(commune.id, [])
                if e.old_unit_id in district_of
            ]
            if parts:
                weight = sum(share for _, share in parts)
                self.effect[commune.id] = TREND + sum(a * w for a, w in parts) / weight
            else:
                self.effect[commune.id] = TREND + rng.normal(0, 0.25)

    def area_of(self, unit: Unit) -> float:
        """The area effect of a unit: its old district's, its new commune's, 0 above them."""
        node: Unit | None = unit
        while node is not None and node.id not in self.effect:
            node = node.parent
        return self.effect[node.id] if node is not None else 0.0

    def answers(
        self, rng: np.random.Generator, areas: list[float], channels: list[Channel]
    ) -> np.ndarray:
        """Likert answers (respondents × items), 0 where left blank."""
        eta = np.array(
            [0.9 + a + CHANNEL_EFFECT[c] for a, c in zip(areas, channels, strict=True)]
        ) + rng.standard_normal(len(areas))
        z = (
            eta[:, None]
            + self.offsets[None, :]
            + rng.standard_normal((eta.size, self.offsets.size))
        )
        values = 1 + (z[:, :, None] > CUTS[None, None, :]).sum(axis=2)
        blank = rng.random(values.shape) < 0.03
        return np.where(blank, 0, values)

    def demographic(self, rng: np.random.Generator, question: Question, urban: bool) -> int:
        if question.code == "area":
            return 1 if urban else 2
        probs = DEMOGRAPHIC_PROBS.get(question.code)
        if probs is None:
            return int(rng.choice(question.values))
        return int(rng.choice(len(probs), p=probs)) + 1


def _moment(rng: np.random.Generator, starts: date, today: date) -> datetime:
    """A working-hours moment between ``starts`` and yesterday."""
    day = starts + timedelta(days=int(rng.integers(0, max((today - starts).days, 1))))
    return datetime.combine(day, time(8), tzinfo=UTC) + timedelta(
        minutes=int(rng.integers(0, 9 * 60))
    )


def _fieldwork(
    rng: np.random.Generator,
    model: _Model,
    campaign: Campaign,
    plan: list[sampling.Stage],
    seed: int,
    keyers: list[User],
    today: date,
    *,
    in_field_per_batch: int,
    on_screen_batches: int,
    in_field_every: int = 1,
) -> int:
    """Draw the paper sample, batch and hand it out, record what became of every form and key
    the returned ones (the first ``on_screen_batches`` batches twice on screen, the others
    imported); ``in_field_per_batch`` forms of every ``in_field_every``-th batch are still
    out, and a few of those
    are keyed once (or twice, differently). Returns the number of final responses made."""
    sample: SampleDraw = sampling.draw(campaign, plan, seed)
    made = batches.make_batches(campaign, sample.id, per_batch=HOUSEHOLDS_DRAWN)
    for i, batch in enumerate(made):
        batches.assign(batch, keyers[i % len(keyers)])
    reserves: dict[int, list[Form]] = defaultdict(list)
    for form in sampling.forms_of(sample.id):
        if form.reserve:
            reserves[form.household.village_id].append(form)

    returned: list[Form] = []
    in_field: list[Form] = []
    for i, batch in enumerate(made):
        forms = list(batch.forms)
        urban = bool(forms[0].household.village.urban)
        k_out = in_field_per_batch if i % in_field_every == 0 else 0
        out = set(rng.choice(len(forms), size=k_out, replace=False).tolist())
        not_at_home = False
        for k, form in enumerate(forms):
            if k in out:
                in_field.append(form)
            elif rng.random() < P_RESPOND[urban]:
                returned.append(form)
            elif rng.random() < P_REFUSED:
                batches.set_fate(form, FormFate.REFUSED)
            else:
                batches.set_fate(form, FormFate.NOT_AT_HOME)
                not_at_home = True
        spare = reserves[forms[0].household.village_id]
        if not_at_home and spare:
            batches.release_reserve(spare[0], batch)
            returned.append(spare[0])

    if in_field:
        _leave_for_the_keyers(rng, model, in_field[::in_field_per_batch][:4], keyers)
    _key(rng, model, campaign, returned, keyers, today, on_screen_batches)
    return len(returned)


def _values(
    rng: np.random.Generator, model: _Model, forms: list[Form]
) -> list[dict[str, int | None]]:
    """What each household wrote on its form, by question code (None = left blank)."""
    areas = [model.area_of(f.household.village) for f in forms]
    items = model.answers(rng, areas, [Channel.PAPER] * len(forms))
    out = []
    for form, row in zip(forms, items, strict=True):
        values: dict[str, int | None] = {
            q.code: (int(v) or None) for q, v in zip(model.likert, row, strict=True)
        }
        urban = bool(form.household.village.urban)
        for q in model.keyed:
            if q.code not in values:
                values[q.code] = model.demographic(rng, q, urban)
        out.append(values)
    return out


def _key(
    rng: np.random.Generator,
    model: _Model,
    campaign: Campaign,
    forms: list[Form],
    keyers: list[User],
    today: date,
    on_screen_batches: int,
) -> None:
    """Enter the returned forms as the province would: the first ``on_screen_batches``
    batches on screen by double entry (the batch's enumerator, then the other one; equal
    entries make the final response), the others typed into the Excel template by the post
    office and imported (single entry, as that path is). Each final response is then dated
    within the fieldwork."""
    starts = campaign.periods[0].starts
    batch_ids = sorted({f.batch_id for f in forms if f.batch_id is not None})
    keyed_here = set(batch_ids[:on_screen_batches])
    on_screen = [f for f in forms if f.batch_id in keyed_here]
    in_excel = [f for f in forms if f.batch_id not in keyed_here]
    done: list[tuple[Form, Response]] = []
    for form, values in zip(on_screen, _values(rng, model, on_screen), strict=True):
        first = form.batch.enumerator if form.batch and form.batch.enumerator else keyers[0]
        second = next(k for k in keyers if k.id != first.id)
        entry.save_keying(form, first, values, len(values) + 1)
        result = entry.save_keying(form, second, values, len(values) + 1)
        if result.response is None:  # equal entries always finalise
            raise RuntimeError(f"form {form.serial} was not finalised")
        done.append((form, result.response))
    if in_excel:
        sheet = io.StringIO()
        writer = csv.writer(sheet, lineterminator="\n")
        writer.writerow(imports.columns(campaign))
        codes = imports.columns(campaign)[1:]
        for form, values in zip(in_excel, _values(rng, model, in_excel), strict=True):
            writer.writerow([form.serial, *(values[c] or 0 for c in codes)])
        name = f"buu-dien-{campaign.starts.year}.csv"
        made = imports.import_responses(campaign, sheet.getvalue().encode(), name)
        done += list(zip(in_excel, made, strict=True))
    for form, response in done:
        moment = _moment(rng, starts, today)
        response.submitted_at = moment
        # Keyed "now", a response would fall outside a past campaign's period.
        response.period_id = campaign.periods[0].id
        form.fate_at = moment
    db.session.flush()


def _leave_for_the_keyers(
    rng: np.random.Generator, model: _Model, forms: list[Form], keyers: list[User]
) -> None:
    """Forms back from the field but not finished: keyed once by enumerator1 (enumerator2
    can finish them), the last also by enumerator2 with a difference in q5 (a conflict)."""
    for k, (form, values) in enumerate(zip(forms, _values(rng, model, forms), strict=True)):
        entry.save_keying(form, keyers[0], values, len(values) + 1)
        if k == len(forms) - 1:
            second = dict(values, q5=1 if values["q5"] != 1 else 2)
            entry.save_keying(form, keyers[1], second, len(values) + 1)


def _desk_ratings(
    rng: np.random.Generator,
    model: _Model,
    campaign: Campaign,
    desks: list[ServicePoint],
    today: date,
    mean: int,
) -> int:
    """Poisson(``mean``) QR or kiosk ratings per desk, written in two bulk inserts."""
    qn = campaign.questionnaire
    period = campaign.periods[0]
    rows: list[tuple[Channel, ServicePoint]] = []
    for desk in desks:
        for _ in range(int(rng.poisson(mean))):
            rows.append((Channel.KIOSK if rng.random() < 0.3 else Channel.QR, desk))
    areas = [model.area_of(desk.unit) for _, desk in rows]
    items = model.answers(rng, areas, [c for c, _ in rows])
    responses = [
        Response(
            campaign=campaign,
            questionnaire=qn,
            channel=channel,
            status=ResponseStatus.FINAL,
            nonce=f"demo-{SEED}-{campaign.id}-{i:06d}",
            unit=desk.unit,
            service_point=desk,
            period_id=period.id,
            submitted_at=_moment(rng, period.starts, today),
            flags=[],
        )
        for i, (channel, desk) in enumerate(rows)
    ]
    db.session.add_all(responses)
    db.session.flush()
    answer_rows: list[dict[str, object]] = []
    for (_, desk), response, row in zip(rows, responses, items, strict=True):
        answer_rows += [
            {"response_id": response.id, "question_id": q.id, "value": int(v)}
            for q, v in zip(model.likert, row, strict=True)
            if v
        ]
        answer_rows += [
            {
                "response_id": response.id,
                "question_id": q.id,
                "value": model.demographic(rng, q, bool(desk.unit.urban)),
            }
            for q in model.keyed
            if q.type != QuestionType.LIKERT5
        ]
    db.session.execute(insert(Answer), answer_rows)
    return len(responses)


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


# The desk questionnaire's item for each SIPAS service-delivery criterion, and the reasons a
# visitor who rates that criterion 3 or lower most often gives (desk-2026.toml's values).
DESK_ITEMS = {
    "d_access": ("q15", "q16", "q17", "q18"),
    "d_procedures": ("q19", "q20", "q21", "q22"),
    "d_staff": ("q23", "q24", "q25", "q26", "q27"),
    "d_results": ("q28", "q29", "q30"),
    "d_complaints": ("q31", "q32", "q33"),
}
DESK_REASONS = {
    "d_access": (1, 7),
    "d_procedures": (5, 4, 8),
    "d_staff": (3, 7),
    "d_results": (6, 2),
    "d_complaints": (2, 9),
}
DESK_COMMENTS = (
    "Chờ gần hai tiếng mới đến lượt.",
    "Hướng dẫn lần đầu chưa rõ nên tôi phải quay lại bổ sung giấy tờ.",
    "Hẹn trả kết quả thứ Sáu nhưng thứ Ba tuần sau mới có.",
    "Nên có thêm ghế ngồi chờ và quạt.",
)


def _desk_questionnaire_on_desks(campaign: Campaign) -> None:
    """The demo's QR and kiosk channels ask the desk questionnaire (SIPAS stays on paper and
    invitations): each simulated desk rating becomes a desk form answered from the same
    visitor's simulated SIPAS answers. Each criterion is the rounded mean of its SIPAS items,
    the overall rating the rounded mean of the five; a visitor with a rating of 3 or lower
    gives one or two reasons that go with the criteria rated low (and now and then a
    comment). Its own random stream, so the rest of the demo draws the same numbers."""
    from sqlalchemy import delete, update

    qn = instruments.desk()
    for channel_item in campaign.channels:
        if channel_item.channel in (Channel.QR, Channel.KIOSK):
            channel_item.questionnaire_id = qn.id
    rng = np.random.default_rng(SEED + 14)
    by_code = {q.code: q.id for q in campaign.questionnaire.questions}
    code_of = {v: k for k, v in by_code.items()}
    desk_ids = {q.code: q.id for q in qn.questions}
    ids = list(
        db.session.scalars(
            select(Response.id)
            .where(
                Response.campaign_id == campaign.id,
                Response.channel.in_([Channel.QR, Channel.KIOSK]),
            )
            .order_by(Response.id)
        )
    )
    given: dict[int, dict[str, int]] = defaultdict(dict)
    for rid, qid, value in db.session.execute(
        select(Answer.response_id, Answer.question_id, Answer.value).where(
            Answer.response_id.in_(ids)
        )
    ):
        if value:
            given[rid][code_of[qid]] = value
    rows: list[dict[str, object]] = []
    for rid in ids:
        answers = given.get(rid, {})
        desk: dict[str, int] = {}
        for item, parts in DESK_ITEMS.items():
            values = [answers[p] for p in parts if p in answers]
            if values:
                desk[item] = int(np.floor(np.mean(values) + 0.5))
        if not desk:
            continue
        desk["d_overall"] = int(np.floor(np.mean(list(desk.values())) + 0.5))
        for item, value in desk.items():
            rows.append(
                {"response_id": rid, "question_id": desk_ids[item], "value": value, "text": None}
            )
        low = [item for item, value in desk.items() if value <= 3 and item in DESK_REASONS]
        if low or desk["d_overall"] <= 3:
            pool = sorted({r for item in (low or list(DESK_REASONS)) for r in DESK_REASONS[item]})
            picked = rng.choice(pool, size=min(len(pool), int(rng.integers(1, 3))), replace=False)
            reasons = ",".join(str(v) for v in sorted(int(p) for p in picked))
            rows.append(
                {
                    "response_id": rid,
                    "question_id": desk_ids["d_reasons"],
                    "value": None,
                    "text": reasons,
                }
            )
            if rng.random() < 0.2:
                comment = DESK_COMMENTS[int(rng.integers(len(DESK_COMMENTS)))]
                rows.append(
                    {
                        "response_id": rid,
                        "question_id": desk_ids["d_why"],
                        "value": None,
                        "text": comment,
                    }
                )
    db.session.execute(delete(Answer).where(Answer.response_id.in_(ids)))
    db.session.execute(update(Response).where(Response.id.in_(ids)).values(questionnaire_id=qn.id))
    if rows:
        db.session.execute(insert(Answer), rows)
    db.session.flush()


def _margins_csv_2026(new_communes: list[Unit], households: dict[int, int]) -> bytes:
    """This year's margins: the new province's ``ADULTS_2026`` adults spread over urban and
    rural as the simulated frame is, and by sex × age group (module docstring)."""
    frame_total = sum(households[c.id] for c in new_communes)
    urban_share = sum(households[c.id] for c in new_communes if c.urban) / frame_total
    total = ADULTS_2026
    urban = round(total * urban_share)
    sex_age = {k: round(total * share) for k, share in SEX_AGE_SHARES.items()}
    sex_age[(2, 5)] += total - sum(sex_age.values())
    rows: list[tuple[str, str, int]] = [("sex_age", f"{s}-{a}", n) for (s, a), n in sex_age.items()]
    rows += [("area", "1", urban), ("area", "2", total - urban)]
    source = (
        "Minh họa: khoảng 4,4 triệu dân của tỉnh Đồng Nai mới, 70% từ 18 tuổi; thành thị/nông "
        "thôn theo khung mẫu mô phỏng; cơ cấu giới tính × nhóm tuổi theo Tổng điều tra dân số "
        "2019 (làm tròn)"
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["variable", "category", "population", "source"])
    writer.writerows([(*row, source) for row in rows])
    return out.getvalue().encode()
