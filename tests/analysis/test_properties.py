"""Invariances and textbook limits (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from surveyapp.analysis import Spec, analyze

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def surveys(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(12, 60))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "stratum": rng.integers(1, 4, n),
            "w": rng.uniform(0.5, 20.0, n),
            "q": rng.integers(1, 6, n).astype(float),
            "g": rng.choice(["a", "b"], n),
        }
    )
    frame["psu"] = rng.integers(1, 5, n)
    # every stratum gets at least two PSUs
    frame.loc[frame.index[:6], "stratum"] = [1, 1, 2, 2, 3, 3]
    frame.loc[frame.index[:6], "psu"] = [1, 2, 1, 2, 1, 2]
    miss = rng.random(n) < 0.1
    miss[:6] = False
    frame.loc[miss, "q"] = np.nan
    return frame


SPEC = Spec(props=(("q", (4, 5)),), means=("q",), indices=(("i", ("q",)),), by="g", national=True)
DESIGN = {"weight": "w", "strata": "stratum", "cluster": ("psu",)}


def _rows(frame: pd.DataFrame) -> list[dict]:
    return analyze(frame, SPEC, **DESIGN).to_dict()["estimates"]  # type: ignore[arg-type]


def _close(a: list[dict], b: list[dict], keys: tuple[str, ...]) -> None:
    for x, y in zip(a, b, strict=True):
        for k in keys:
            if x[k] is None or y[k] is None:
                assert x[k] is None and y[k] is None
            else:
                np.testing.assert_allclose(x[k], y[k], rtol=1e-9, atol=1e-12)


@SETTINGS
@given(surveys(), st.floats(0.01, 1000.0))
def test_scaling_weights_leaves_shares_unchanged(frame: pd.DataFrame, c: float) -> None:
    a = _rows(frame)
    b = _rows(frame.assign(w=frame.w * c))
    shares = [r for r in a if r["statistic"] in ("prop", "index", "mean")]
    _close(
        shares,
        [r for r in b if r["statistic"] in ("prop", "index", "mean")],
        ("estimate", "se", "ci_low", "ci_high"),
    )


@SETTINGS
@given(surveys(), st.integers(0, 2**31 - 1))
def test_permuting_rows_changes_nothing(frame: pd.DataFrame, seed: int) -> None:
    perm = np.random.default_rng(seed).permutation(len(frame))
    a = _rows(frame)
    b = _rows(frame.iloc[perm].reset_index(drop=True))
    _close(a, b, ("estimate", "se", "ci_low", "ci_high", "deff"))


@SETTINGS
@given(st.integers(2, 200), st.data())
def test_equal_weights_match_textbook(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    y = np.array([5.0] * k + [1.0] * (n - k))
    frame = pd.DataFrame({"q": y})
    res = analyze(frame, Spec(props=(("q", (4, 5)),), ci="wald", df="inf"))
    row = res.estimates[0]
    p = k / n
    # with-replacement linearization = s^2/n with s^2 = n p (1-p) / (n-1)
    se = math.sqrt(p * (1 - p) / (n - 1))
    z = stats.norm.ppf(0.975)
    np.testing.assert_allclose(row.estimate, p, atol=1e-14)
    np.testing.assert_allclose(row.se, se, atol=1e-14)
    np.testing.assert_allclose([row.ci_low, row.ci_high], [p - z * se, p + z * se], atol=1e-12)
    assert res.design.df == n - 1
