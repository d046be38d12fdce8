"""Unit-level calibration helpers: margin codes, non-response adjustment, trimming."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .design import FloatArray, IntArray, combination_codes
from .errors import AnalysisError

if TYPE_CHECKING:
    import pandas as pd


def margin_codes(
    frame: pd.DataFrame, margins: Sequence[tuple[str, Sequence[tuple[Any, float]]]]
) -> tuple[IntArray, IntArray, list[FloatArray], list[list[Any]]]:
    """Joint calibration-cell codes of every row, the category of each joint cell on every
    margin, the population totals and category labels per margin.

    Raises :class:`AnalysisError` when a sampled value is not a margin category (the margin
    does not cover the sample) or a row has no value.
    """
    import pandas as pd  # imported here: the common, uncalibrated path does without it

    per_margin: list[IntArray] = []
    targets: list[FloatArray] = []
    labels: list[list[Any]] = []
    for var, cats in margins:
        if var not in frame.columns:
            raise AnalysisError(f"--margin: unknown column {var!r}")
        ser = frame[var]
        if ser.isna().any():
            row = int(np.flatnonzero(ser.isna().to_numpy())[0])
            raise AnalysisError(f"--margin {var}: missing value in data row {row + 1}")
        keys = [str(c) for c, _ in cats]
        if len(set(keys)) != len(keys):
            raise AnalysisError(f"--margin {var}: repeated category")
        sval = _as_label(ser)
        code = pd.Series(sval).map({k: i for i, k in enumerate(keys)})
        if code.isna().any():
            row = int(np.flatnonzero(code.isna().to_numpy())[0])
            raise AnalysisError(
                f"--margin {var}: sample value {ser.iloc[row]!s} (data row {row + 1}) "
                "is not a margin category"
            )
        per_margin.append(np.asarray(code.to_numpy(dtype=np.int64), dtype=np.int64))
        tg = np.array([float(n) for _, n in cats], dtype=np.float64)
        if (tg < 0).any() or np.isnan(tg).any():
            raise AnalysisError(f"--margin {var}: population totals must be >= 0")
        targets.append(tg)
        labels.append([c for c, _ in cats])
    joint, nj = combination_codes(*per_margin)
    cal_m = np.zeros((nj, len(per_margin)), dtype=np.int64)
    for m, c in enumerate(per_margin):
        cal_m[joint, m] = c
    return joint, cal_m, targets, labels


def _as_label(ser: pd.Series) -> npt.NDArray[Any]:
    import pandas as pd

    if pd.api.types.is_float_dtype(ser):
        vals = ser.to_numpy()
        return np.array([str(int(v)) if float(v).is_integer() else str(v) for v in vals])
    return ser.astype(str).to_numpy()


def nonresponse_adjust(
    weights: npt.ArrayLike, classes: npt.ArrayLike, responded: npt.ArrayLike
) -> FloatArray:
    """Weighting-class non-response adjustment.

    Respondents' weights are multiplied by (sum of weights of the sampled units in the class)
    / (sum of weights of respondents in the class); non-respondents get weight 0. A class
    without respondents raises :class:`AnalysisError`.
    """
    w = np.asarray(weights, dtype=np.float64)
    resp = np.asarray(responded, dtype=bool)
    cls, k = combination_codes(np.asarray(classes))
    tot = np.bincount(cls, weights=w, minlength=k)
    got = np.bincount(cls, weights=w * resp, minlength=k)
    if np.any((got <= 0) & (tot > 0)):
        raise AnalysisError("non-response adjustment: a weighting class has no respondents")
    with np.errstate(divide="ignore", invalid="ignore"):
        fac = np.where(got > 0, tot / got, 0.0)
    return np.where(resp, w * fac[cls], 0.0)


def trim_weights(
    weights: npt.ArrayLike, lower: float = -np.inf, upper: float = np.inf, strict: bool = False
) -> FloatArray:
    """Trim weights to ``[lower, upper]`` and spread the trimmed amount equally over the
    untrimmed units, as R ``trimWeights`` (``strict``: repeat until none is outside)."""
    w = np.asarray(weights, dtype=np.float64)
    while True:
        outside = (w < lower) | (w > upper)
        if not outside.any():
            return w
        new = np.clip(w, lower, upper)
        inside = ~outside
        if not inside.any():
            raise AnalysisError("trimming: every weight is outside the bounds")
        new[inside] += (w - new).sum() / inside.sum()
        w = new
        if not strict:
            return w
