"""Frame import, the multistage draw and its inclusion probabilities, serials."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from paper_support import PLAN, frame_csv
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Form, Household, Invitation, SampledUnit
from surveyapp.services import ServiceError, frame, sampling


def test_serial_check_digit_catches_typos_and_transpositions() -> None:
    serial = sampling.make_serial(1234)
    assert len(serial) == 7 and sampling.serial_is_valid(serial)
    for i in range(len(serial)):
        for d in "0123456789":
            if d != serial[i]:
                typo = serial[:i] + d + serial[i + 1 :]
                assert not sampling.serial_is_valid(typo)
    for i in range(len(serial) - 1):
        if serial[i] != serial[i + 1]:
            swapped = serial[:i] + serial[i + 1] + serial[i] + serial[i + 2 :]
            assert not sampling.serial_is_valid(swapped)


def test_frame_import_is_nfc_and_all_or_nothing(frame_units) -> None:
    nfd = "Nguye\u0302\u0303n Va\u0306n A"  # "Nguyễn Văn A" typed in decomposed form
    good = f"village,household,head_name\n{frame_units[0].code},H1,{nfd}\n".encode()
    assert frame.import_frame(good, "f.csv") == 1
    db.session.commit()
    assert db.session.scalar(select(Household.head_name)) == "Nguyễn Văn A"

    bad = (
        "village,household\n"
        f"{frame_units[1].code},H1\n"
        "99-9,H2\n"  # unknown village
        f"{frame_units[1].code},\n"  # empty household
        f"{frame_units[1].code},H1\n"  # repeats row 2
        "75,H3\n"  # the province, not a village
        f"{frame_units[0].code},H1\n"  # already in the frame
    ).encode()
    with pytest.raises(frame.ImportProblems) as info:
        frame.import_frame(bad, "bad.csv")
    db.session.rollback()
    problems = info.value.problems
    assert any(p.startswith("Dòng 3, cột village") for p in problems), problems
    assert any(p.startswith("Dòng 4, cột household") for p in problems)
    assert any("Dòng 5" in p and "dòng 2" in p for p in problems)
    assert any("Dòng 6" in p for p in problems)
    assert any("Dòng 7" in p for p in problems)
    assert db.session.scalar(select(func.count()).select_from(Household)) == 1


def test_frame_sizes_roll_up(frame_units) -> None:
    frame.import_frame(frame_csv(frame_units), "f.csv")
    sizes = {r["code"]: r for r in frame.sizes()}
    total = db.session.scalar(select(func.count()).select_from(Household))
    assert sizes["75"]["households"] == total
    assert sizes["75"]["villages"] == len(frame_units)


def test_draw_is_reproducible_and_stores_stage_probabilities(paper) -> None:
    campaign, draw = paper
    forms = sampling.forms_of(draw.id)
    main = [f for f in forms if not f.reserve]
    # 3 districts (all) × 2 communes × 1 village × 4 households, 1 reserve per village.
    assert len(main) == 3 * 2 * 1 * 4
    assert len(forms) - len(main) == 3 * 2
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == len(forms)
    for f in forms:
        assert sampling.serial_is_valid(f.serial)
        assert len(f.stage_probs) == 4 and f.stage_probs[0] == 1.0
        assert f.weight == pytest.approx(1 / math.prod(f.stage_probs))
        assert f.stratum == f.household.village.parent.parent.code
        assert f.psu == f.household.village.parent.code
        assert f.ssu == f.household.village.code
    units = db.session.scalars(select(SampledUnit).where(SampledUnit.draw_id == draw.id)).all()
    assert Counter(u.stage for u in units) == {1: 3, 2: 6, 3: 6}
    chosen = sorted(f.household_id for f in forms)
    stages, seed = sampling.parse_plan(PLAN)
    again = sampling.draw(campaign, stages, seed)
    assert sorted(f.household_id for f in sampling.forms_of(again.id)) == chosen


def test_plan_errors_are_clear(campaign) -> None:
    with pytest.raises(ServiceError):
        sampling.parse_plan('[[stages]]\nlevel = "commune"\nmethod = "srs"\nn = 1\n')
    bad = PLAN.replace('method = "pps"\nn = 2', 'method = "cluster"\nn = 2')
    with pytest.raises(ServiceError):
        sampling.parse_plan(bad)


PICK = {
    "srs": lambda rng, sizes, n: sampling.select_srs(rng, len(sizes), n),
    "systematic": lambda rng, sizes, n: sampling.select_systematic(rng, len(sizes), n),
    "pps": lambda rng, sizes, n: sampling.select_pps(rng, sizes, n),
}


@pytest.mark.parametrize("method", ["srs", "systematic", "pps"])
def test_inclusion_probabilities_match_simulation(method: str) -> None:
    """The stored π of each method equals its selection frequency over many draws."""
    rng = np.random.default_rng(7)
    sizes = [float(s) for s in rng.integers(5, 80, size=12)]
    sizes[3] = 400.0  # large enough to be taken with certainty under PPS
    n, reps = 4, 20000
    hits = np.zeros(len(sizes))
    probs = np.zeros(len(sizes))
    for _ in range(reps):
        chosen, p = PICK[method](rng, sizes, n)
        assert len(chosen) == n and len(set(chosen)) == n
        hits[chosen] += 1
        probs[chosen] = p
    freq = hits / reps
    expected = (
        np.array(sampling.pps_probabilities(sizes, n))
        if method == "pps"
        else np.full(len(sizes), n / len(sizes))
    )
    assert np.allclose(probs[hits > 0], expected[hits > 0])
    se = np.sqrt(expected * (1 - expected) / reps)
    assert np.all(np.abs(freq - expected) <= 4.5 * se + 1e-9), (freq, expected)
    if method == "pps":
        assert expected[3] == 1.0


def test_multistage_inclusion_probabilities_by_simulation(campaign, frame_units) -> None:
    """Over repeated draws each household's selection frequency matches Π stage probs."""
    frame.import_frame(frame_csv(frame_units, seed=3, low=3, high=9), "f.csv")
    db.session.commit()
    stages, _seed = sampling.parse_plan(PLAN.replace("n = 4", "n = 2").replace("reserve = 1", ""))
    ids = [h for h in db.session.scalars(select(Household.id))]
    hits = Counter()
    pi: dict[int, float] = {}
    reps = 200
    for seed in range(reps):
        draw = sampling.draw(campaign, stages, seed)
        for f in sampling.forms_of(draw.id):
            hits[f.household_id] += 1
            pi[f.household_id] = math.prod(f.stage_probs)
        db.session.rollback()
    expected = np.array([pi.get(h, 0.0) for h in ids])
    freq = np.array([hits[h] / reps for h in ids])
    seen = expected > 0
    assert seen.sum() > 0.8 * len(ids)
    se = np.sqrt(expected * (1 - expected) / reps)
    z = (freq[seen] - expected[seen]) / np.maximum(se[seen], 1e-9)
    assert np.mean(np.abs(z) < 3) > 0.97, z
    # The design's household total: Σ 1/π over the sample is the frame size on average.
    assert abs(np.sum(freq[seen] / expected[seen]) / len(ids) - 1) < 0.05


def test_forms_have_unique_serials_and_invitations(paper) -> None:
    serials = db.session.scalars(select(Form.serial)).all()
    assert len(serials) == len(set(serials))
    codes = db.session.scalars(select(Invitation.code)).all()
    assert len(codes) == len(set(codes))


def test_design_fields_when_districts_are_sampled_and_households_systematic(
    campaign, frame_units
) -> None:
    frame.import_frame(frame_csv(frame_units), "f.csv")
    plan = PLAN.replace('method = "all"', 'method = "srs"\nn = 2').replace(
        'level = "household"\nmethod = "srs"', 'level = "household"\nmethod = "systematic"'
    )
    stages, seed = sampling.parse_plan(plan)
    assert stages[0].method == "srs" and stages[3].method == "systematic"
    draw = sampling.draw(campaign, stages, seed)
    forms = [f for f in sampling.forms_of(draw.id) if not f.reserve]
    assert len(forms) == 2 * 2 * 1 * 4
    for f in forms:
        district = f.household.village.parent.parent
        assert f.stratum is None and f.psu == district.code
        assert f.ssu == f.household.village.parent.code
        assert f.fpc1 == 3.0  # three districts in the province, drawn by SRS
        assert f.stage_probs[0] == pytest.approx(2 / 3)
        assert f.fpc2 is None  # communes by PPS: with replacement at that stage
        assert 0 < f.stage_probs[1] <= 1  # the commune's inclusion probability is kept
    again = sampling.draw(campaign, stages, seed + 1)
    assert {f.household_id for f in sampling.forms_of(again.id)} != {f.household_id for f in forms}


def test_frame_import_command_reports_rows_and_imports_nothing_on_error(
    frame_units, runner, tmp_path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(f"village,household\n{frame_units[0].code},H1\n75-9-9-9,H2\n", "utf-8")
    result = runner.invoke(args=["frame", "import", str(bad)])
    assert result.exit_code != 0 and "Dòng 3, cột village" in result.output
    assert db.session.scalar(select(func.count()).select_from(Household)) == 0
    good = tmp_path / "good.csv"
    good.write_bytes(frame_csv(frame_units))
    result = runner.invoke(args=["frame", "import", str(good)])
    assert result.exit_code == 0, result.output
    sizes = runner.invoke(args=["frame", "sizes"])
    assert "75-1-1-1" in sizes.output
