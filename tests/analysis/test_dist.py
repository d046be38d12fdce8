"""The pure-Python t and normal functions agree with scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from surveyapp.analysis.dist import betainc, norm_ppf, t_cdf, t_ppf

DFS = [1, 2, 3, 5, 7, 24, 39, 183, 1000, 32937, 1e6]


@pytest.mark.parametrize("df", DFS)
def test_t_quantile_and_cdf(df: float) -> None:
    for q in (0.6, 0.8, 0.9, 0.95, 0.975, 0.99, 0.995, 0.9995, 0.025, 0.05):
        np.testing.assert_allclose(t_ppf(q, df), special.stdtrit(df, q), rtol=1e-8)
    for x in (-30, -5, -2, -0.3, 0.1, 1, 2.5, 8):
        np.testing.assert_allclose(t_cdf(x, df), special.stdtr(df, x), rtol=1e-8)


def test_normal_and_beta() -> None:
    for q in (0.001, 0.025, 0.5, 0.9, 0.975):
        np.testing.assert_allclose(norm_ppf(q), special.ndtri(q), rtol=1e-12, atol=1e-15)
    for a, b, x in ((0.5, 0.5, 0.3), (2, 3, 0.9), (50, 0.5, 0.99), (1e4, 0.5, 0.9999)):
        np.testing.assert_allclose(betainc(a, b, x), special.betainc(a, b, x), rtol=1e-9)
