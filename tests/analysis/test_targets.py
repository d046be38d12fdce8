"""Targets, comparisons, rank intervals, small-domain flags and sample-size planning."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from analysis_helpers import sipas_indices

from surveyapp.analysis import Spec, analyze
from surveyapp.analysis.estimate import compare_domains
from surveyapp.analysis.targets import (
    difference,
    n_to_decide,
    plan_sample_size,
    prob_meets,
    rank_intervals,
    verdict,
)

DESIGN = {"weight": "w", "strata": "stratum", "cluster": ("psu",)}


def test_verdicts() -> None:
    sure = {"se": 0.02, "n": 400, "est": 0.85}
    assert verdict(0.81, 0.9, 0.8, **sure) == ("met", None)
    assert verdict(0.8, 0.9, 0.8, **sure) == ("met", None)
    assert verdict(0.6, 0.79, 0.8, **sure) == ("not_met", None)
    assert verdict(0.7, 0.85, 0.8, **sure) == ("inconclusive", "ci_contains_target")
    assert verdict(math.nan, 0.85, 0.8, **sure) == (None, "no_estimate")
    # a degenerate interval or a small estimate decides nothing (issue 12)
    assert verdict(1.0, 1.0, 0.8, se=0.0, n=1, est=1.0) == ("inconclusive", "se_zero")
    assert verdict(0.81, 0.9, 0.8, se=0.02, n=29, est=0.85) == ("inconclusive", "small_sample")


def test_target_rows(sipas: pd.DataFrame, items: pd.DataFrame) -> None:
    spec = Spec(
        indices=sipas_indices(items),
        targets=(("overall", 50.0), ("2.2", 0.2)),
        by="district",
        national=True,
    )
    res = analyze(sipas, spec, **DESIGN)
    for e in res.estimates:
        if e.variable == "overall":
            assert e.target == 0.5
            assert e.verdict == verdict(e.ci_low, e.ci_high, 0.5, e.se, e.n, e.estimate)[0]
            assert 0 <= (e.p_meets_target or 0) <= 1
        elif e.variable == "2.2":
            assert e.verdict == "met" and e.p_meets_target == pytest.approx(1, abs=1e-3)
        else:
            assert e.target is None and e.verdict is None
    ext = res.to_dict(extended=True)["estimates"][0]
    assert {"cv", "small", "p_meets_target", "n_to_decide"} <= set(ext)


def test_probability_and_sample_size() -> None:
    assert prob_meets(0.8, 0.05, 0.8, math.inf) == pytest.approx(0.5)
    assert prob_meets(0.9, 0.05, 0.8, math.inf) == pytest.approx(0.97725, abs=1e-4)
    # with 80 % power the interval excludes the target at n * ((1.96 + 0.8416) se / d)^2;
    # power 0.5 is the size at which the observed CI would just reach the target
    n, reason = n_to_decide(0.85, 0.04, 400, 0.8, 0.95, math.inf)
    assert reason is None
    assert n == math.ceil(400 * ((1.959963984540054 + 0.8416212335729143) * 0.04 / 0.05) ** 2)
    half = n_to_decide(0.85, 0.04, 400, 0.8, 0.95, math.inf, power=0.5)
    assert half == (math.ceil(400 * (1.959963984540054 * 0.04 / 0.05) ** 2), None)
    assert n_to_decide(0.85, 0.04, 400, 0.8, 0.95, math.inf, decided=True) == (None, "decided")


def test_sample_size_planner() -> None:
    (n,) = plan_sample_size(0.05, p=0.5, deff=1.0)
    assert n == 385
    per = plan_sample_size(0.05, deff=2.0, popsizes=[1000, 100000])
    assert per[0] < per[1] <= 769
    total = plan_sample_size(0.05, popsizes=[1000, 3000], per_stratum=False)
    assert total[1] == pytest.approx(3 * total[0], abs=1)


def test_domain_differences_and_ranks(sipas: pd.DataFrame, items: pd.DataFrame) -> None:
    spec = Spec(props=(("q19", (4, 5)),), indices=sipas_indices(items), by="district")
    for var in ("q19", "overall"):
        cmp = compare_domains(sipas, spec, var, **DESIGN)
        rows = [e for e in analyze(sipas, spec, **DESIGN).estimates if e.variable == var]
        assert cmp.estimates == tuple(e.estimate for e in rows)
        d = cmp.difference("D1", "D2")
        assert d.estimate == pytest.approx(rows[0].estimate - rows[1].estimate)
        assert d.ci_low < d.estimate < d.ci_high
        ranks = cmp.rank_intervals()
        assert set(ranks) == {"D1", "D2", "D3", "D4"}
        assert all(1 <= lo <= hi <= 4 for lo, hi in ranks.values())
    # with each district in its own strata-free design the covariance is the cross-product
    c = compare_domains(sipas, spec, "q19", **DESIGN)
    assert np.allclose(c.cov, c.cov.T)


def test_difference_between_periods() -> None:
    d = difference(0.8, 0.03, 0.7, 0.04, level=0.95, df=math.inf)
    assert d.se == pytest.approx(0.05)
    assert d.ci_low == pytest.approx(0.1 - 1.959963984540054 * 0.05)


def test_rank_intervals_separated() -> None:
    r = rank_intervals([0.9, 0.5, 0.1], np.diag([1e-6, 1e-6, 1e-6]))
    assert r == [(1, 1), (2, 2), (3, 3)]


def test_small_domain_flag(sipas: pd.DataFrame) -> None:
    res = analyze(
        sipas.assign(tiny=np.where(sipas.index < 10, "a", "b")),
        Spec(props=(("q1", (4, 5)),), by="tiny"),
        **DESIGN,
    )
    assert res.find("q1", "a").small
    assert not res.find("q1", "b").small
