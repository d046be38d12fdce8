"""Edge cases: empty domain, shares of 0 and 1, all missing, lonely PSU, empty margin cell."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from surveyapp.analysis import AnalysisError, Design, Spec, analyze
from surveyapp.analysis.calibration_frame import nonresponse_adjust, trim_weights
from surveyapp.analysis.ci import prop_interval

DESIGN = {"weight": "w", "strata": "stratum", "cluster": ("psu",)}


def test_empty_domain_and_all_missing(sipas: pd.DataFrame) -> None:
    frame = sipas.assign(empty=np.nan, q2=sipas.q2.where(sipas.district != "D2"))
    res = analyze(
        frame,
        Spec(
            props=(("q2", (4, 5)), ("empty", (4, 5))),
            means=("empty",),
            by="district",
            national=True,
        ),
        **DESIGN,
    )
    row = res.find("q2", "D2")
    assert row.n == 0 and row.to_dict()["estimate"] is None and row.to_dict()["se"] is None
    assert res.find("q2", "D1").n > 0
    for r in res.estimates:
        if r.variable == "empty":
            assert r.n == 0 and r.to_dict()["estimate"] is None


@pytest.mark.parametrize("ci", ["logit", "wald", "beta", "asin", "xlogit", "likelihood", "wilson"])
def test_share_of_zero_and_one(sipas: pd.DataFrame, ci: str) -> None:
    frame = sipas.assign(all5=5, none=1)
    res = analyze(frame, Spec(props=(("all5", (4, 5)), ("none", (4, 5))), ci=ci), **DESIGN)
    one, zero = res.estimates
    assert one.estimate == 1 and zero.estimate == 0
    assert one.se == 0 and zero.se == 0
    if ci != "likelihood":
        assert one.ci_high == pytest.approx(1) and zero.ci_low == pytest.approx(0)


def test_lonely_psu_options(sipas: pd.DataFrame) -> None:
    lone = sipas[(sipas.stratum != 6) | (sipas.psu == "6-1")].reset_index(drop=True)
    spec = Spec(props=(("q1", (4, 5)),))
    with pytest.raises(AnalysisError, match="stratum 6 has only one PSU"):
        analyze(lone, spec, **DESIGN)
    ses = {
        o: analyze(lone, spec, lonely_psu=o, **DESIGN).estimates[0].se
        for o in ("adjust", "average", "remove", "certainty")
    }
    assert ses["remove"] == ses["certainty"]
    assert ses["adjust"] > ses["remove"] and ses["average"] > ses["remove"]
    # a certainty PSU (fpc = 1 PSU in the population) is not lonely even under fail
    cert = lone.assign(fpc=np.where(lone.stratum == 6, 1, lone.fpc1))
    analyze(cert, spec, fpc=("fpc",), **DESIGN)


def test_margin_with_empty_cell(sipas: pd.DataFrame) -> None:
    spec = Spec(
        props=(("q1", (4, 5)),),
        margins=(("age", (("18-34", 1.0), ("35-54", 1.0), ("55+", 1.0), ("90+", 5.0))),),
    )
    with pytest.raises(AnalysisError, match="90\\+"):
        analyze(sipas, spec, **DESIGN)
    # an empty category with a zero population total is fine
    ok = Spec(
        props=(("q1", (4, 5)),),
        margins=(("age", (("18-34", 1.0), ("35-54", 1.0), ("55+", 1.0), ("90+", 0.0))),),
    )
    assert math.isfinite(analyze(sipas, ok, **DESIGN).estimates[0].estimate)


def test_raking_hits_margins(sipas: pd.DataFrame) -> None:
    spec = Spec(
        totals=("one",),
        by="sex",
        national=True,
        margins=(
            ("sex", (("F", 140000.0), ("M", 132000.0))),
            ("age", (("18-34", 84000.0), ("35-54", 118000.0), ("55+", 70000.0))),
        ),
    )
    res = analyze(sipas.assign(one=1.0), spec, **DESIGN)
    assert res.find("one").estimate == pytest.approx(272000)
    assert res.find("one", "F").estimate == pytest.approx(140000)


def test_nonresponse_and_trimming() -> None:
    w = np.array([1.0, 1.0, 2.0, 2.0, 10.0])
    adj = nonresponse_adjust(w, ["a", "a", "b", "b", "b"], [True, False, True, True, False])
    np.testing.assert_allclose(adj, [2.0, 0.0, 7.0, 7.0, 0.0])
    assert adj.sum() == pytest.approx(w.sum())
    with pytest.raises(AnalysisError):
        nonresponse_adjust(w, ["a", "a", "b", "b", "b"], [False, False, True, True, True])
    t = trim_weights(w, upper=5.0)
    assert t.max() <= 5 + 1e-12 or t[4] == 5.0
    assert t.sum() == pytest.approx(w.sum())
    ts = trim_weights(w, upper=4.0, strict=True)
    assert ts.max() <= 4.0 + 1e-12 and ts.sum() == pytest.approx(w.sum())


def test_design_errors() -> None:
    with pytest.raises(AnalysisError, match="fpc"):
        Design.from_arrays(strata=[1, 1, 2, 2], fpc=[[10, 11, 5, 5]])
    with pytest.raises(AnalysisError, match="at most two"):
        Design.from_arrays(clusters=[[1], [1], [1]])
    d = Design.from_arrays(strata=[1, 1, 2, 2], fpc=[[0.5, 0.5, 0.25, 0.25]])
    np.testing.assert_allclose(d.weights, [2, 2, 4, 4])
    assert d.degf() == 2


def test_wilson_textbook() -> None:
    p, n = 0.3, 50
    se = math.sqrt(p * (1 - p) / n)
    lo, hi = prop_interval(p, se, "wilson", 0.95, math.inf, n)
    z = 1.959963984540054
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (lo, hi) == pytest.approx((c - h, c + h))


@pytest.mark.parametrize("margins", [("age",), ("sex", "age")])
def test_big_design_calibrated_path_equals_dense(
    sipas: pd.DataFrame, items: pd.DataFrame, margins: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Gram-matrix variance used for big calibrated designs equals the dense one."""
    from analysis_helpers import sipas_indices

    from surveyapp.analysis import engine

    pops = {
        "sex": ("sex", (("F", 140000.0), ("M", 132000.0))),
        "age": ("age", (("18-34", 84000.0), ("35-54", 118000.0), ("55+", 70000.0))),
    }
    spec = Spec(
        props=(("q1", (4, 5)), ("q32", (4, 5))),
        indices=sipas_indices(items),
        by="district",
        national=True,
        margins=tuple(pops[m] for m in margins),
    )
    for lonely, frame in (
        ("fail", sipas),
        ("adjust", sipas[(sipas.stratum != 6) | (sipas.psu == "6-1")]),
    ):
        dense = analyze(frame, spec, lonely_psu=lonely, **DESIGN)
        monkeypatch.setattr(engine, "DENSE_LIMIT", 0)
        fast = analyze(frame, spec, lonely_psu=lonely, **DESIGN)
        monkeypatch.setattr(engine, "DENSE_LIMIT", 20_000_000)
        for x, y in zip(dense.estimates, fast.estimates, strict=True):
            np.testing.assert_allclose(x.se, y.se, rtol=1e-8)
