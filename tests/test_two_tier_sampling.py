"""A paper sample on the structure since 1 July 2025 (province → commune → village, no
districts), next to historical districts in the same province (issue 13 §1)."""

from __future__ import annotations

from datetime import date

import pytest
from paper_support import frame_csv

from surveyapp.extensions import db
from surveyapp.models import Unit, UnitLevel
from surveyapp.services import frame, sampling

PLAN_2026 = """seed = 5
[[stages]]
level = "commune"
method = "all"
[[stages]]
level = "village"
method = "pps"
n = 2
[[stages]]
level = "household"
method = "srs"
n = 3
"""
OLD_PLAN = PLAN_2026.replace(
    'level = "commune"\nmethod = "all"',
    'level = "district"\nmethod = "all"\n[[stages]]\nlevel = "commune"\nmethod = "pps"\nn = 1',
)


@pytest.fixture
def two_structures(campaign):  # type: ignore[no-untyped-def]
    """The campaign's province holds a historical district (one commune, two villages) and
    three communes of today (three villages each); every village has households."""
    province = campaign.units[0]
    old_end, new_start = date(2025, 6, 30), date(2025, 7, 1)
    district = Unit(
        code="75-9", name="Huyện Cũ", level=UnitLevel.DISTRICT, parent=province, valid_to=old_end
    )
    old_commune = Unit(
        code="75-9-1", name="Xã Cũ", level=UnitLevel.COMMUNE, parent=district, valid_to=old_end
    )
    villages = [
        Unit(code=f"75-9-1-{v}", name=f"Ấp {v}", level=UnitLevel.VILLAGE, parent=old_commune)
        for v in (1, 2)
    ]
    for c in (1, 2, 3):
        commune = Unit(
            code=f"2600{c}",
            name=f"Xã Mới {c}",
            kind="xã",
            level=UnitLevel.COMMUNE,
            parent=province,
            valid_from=new_start,
        )
        villages += [
            Unit(code=f"2600{c}-{v}", name=f"Ấp {v}", level=UnitLevel.VILLAGE, parent=commune)
            for v in (1, 2, 3)
        ]
    db.session.add_all([district, old_commune, *villages])
    db.session.flush()
    frame.import_frame(frame_csv(villages, low=6, high=20), "frame.csv")
    db.session.commit()
    return campaign


def test_a_commune_first_plan_draws_from_todays_communes_only(two_structures) -> None:
    stages, seed = sampling.parse_plan(PLAN_2026)
    assert [s.level for s in stages] == ["commune", "village", "household"]
    sample = sampling.draw(two_structures, stages, seed)
    forms = sampling.forms_of(sample.id)
    # Every commune of today is a stratum with two villages (PSUs); the old commune is not
    # in the population: it no longer existed when the campaign started.
    strata: dict[str | None, set[str]] = {}
    for form in forms:
        strata.setdefault(form.stratum, set()).add(form.psu)
        assert form.weight == pytest.approx(
            1 / (form.stage_probs[0] * form.stage_probs[1] * form.stage_probs[2])
        )
    assert set(strata) == {"26001", "26002", "26003"}
    assert all(len(psus) == 2 for psus in strata.values())
    assert len(forms) == 3 * 2 * 3


def test_the_old_plan_finds_no_district_in_a_campaign_after_the_change(two_structures) -> None:
    stages, seed = sampling.parse_plan(OLD_PLAN)
    with pytest.raises(sampling.PlanError):
        sampling.draw(two_structures, stages, seed)
    db.session.rollback()


def test_a_campaign_before_the_change_draws_from_the_old_districts(two_structures) -> None:
    two_structures.starts = date(2024, 9, 1)
    two_structures.ends = date(2024, 11, 30)
    db.session.commit()
    stages, seed = sampling.parse_plan(OLD_PLAN)
    forms = sampling.forms_of(sampling.draw(two_structures, stages, seed).id)
    assert {f.stratum for f in forms} == {"75-9"} and {f.psu for f in forms} == {"75-9-1"}
    with pytest.raises(sampling.PlanError):  # no commune existed under the province then
        sampling.draw(two_structures, *sampling.parse_plan(PLAN_2026))
    db.session.rollback()


def test_a_plan_must_follow_one_of_the_two_structures() -> None:
    with pytest.raises(sampling.PlanError) as caught:
        sampling.parse_plan(PLAN_2026.replace('level = "village"', 'level = "district"'))
    assert "commune, village, household" in str(caught.value)
