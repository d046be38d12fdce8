"""The difference of two estimates, one type for all: two domains of one design (with their
covariance, :mod:`.compare`) and two independent samples (two campaigns or periods).

Kept apart from :mod:`.compare` so that :mod:`.targets` (and the ``surveyapp analyze`` fast
path, which runs without pandas or scipy) can use it: only the package's own t distribution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .ci import quantile
from .dist import t_cdf


@dataclass(frozen=True)
class PairDifference:
    """``θ_a − θ_b`` with its standard error, t interval and two-sided p-value.

    The one type for every difference of two estimates: two domains of one design
    (:func:`domain_differences`, :func:`surveyapp.analysis.targets.pairwise_differences`,
    with their covariance) and two independent samples, e.g. two campaigns or two periods
    (:func:`independent_difference`). ``estimate`` and the rest are None when either side
    has no estimate; ``p_value`` is None (or NaN) when the SE is zero or there is no df.
    """

    a: Any
    b: Any
    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None

    @property
    def differ(self) -> bool:
        """The interval excludes 0: the two differ at the chosen level."""
        return (self.ci_low is not None and self.ci_low > 0) or (
            self.ci_high is not None and self.ci_high < 0
        )

    def reversed(self) -> PairDifference:
        """``θ_b − θ_a``: the same interval, mirrored."""

        def neg(x: float | None) -> float | None:
            return None if x is None else -x

        return PairDifference(
            self.b,
            self.a,
            neg(self.estimate),
            self.se,
            neg(self.ci_high),
            neg(self.ci_low),
            self.p_value,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "differ": self.differ,
        }


def independent_difference(
    a: Any,
    b: Any,
    est_a: float | None,
    se_a: float | None,
    df_a: float | None,
    est_b: float | None,
    se_b: float | None,
    df_b: float | None,
    level: float = 0.95,
) -> PairDifference:
    """``θ_a − θ_b`` of two estimates from independent samples (two campaigns, or two
    periods treated as such): ``Var = se_a² + se_b²`` (no covariance), a t interval on the
    smaller of the two designs' degrees of freedom (as the campaign trend uses) and the
    two-sided p-value of a t test of no difference.

    Every field but ``a`` and ``b`` is None when either side lacks a finite estimate, SE or
    positive df: a design without degrees of freedom gives no interval.
    """
    values = (est_a, se_a, df_a, est_b, se_b, df_b)
    if any(v is None or not math.isfinite(v) for v in values[:2] + values[3:5]) or any(
        v is None or not v > 0 for v in (df_a, df_b)
    ):
        return PairDifference(a, b, None, None, None, None, None)
    assert est_a is not None and se_a is not None and df_a is not None
    assert est_b is not None and se_b is not None and df_b is not None
    df = min(df_a, df_b)
    d = est_a - est_b
    se = math.sqrt(se_a * se_a + se_b * se_b)
    q = quantile(level, df)
    p = 2.0 * (1.0 - t_cdf(abs(d) / se, df)) if se > 0 else None
    return PairDifference(a, b, float(d), se, float(d - q * se), float(d + q * se), p)
