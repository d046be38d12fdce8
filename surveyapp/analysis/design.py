"""Sampling designs: weights, strata, one- or two-stage clusters, finite population corrections.

The design follows R ``survey::svydesign`` (Lumley 2010, ch. 2-3): PSU labels are nested within
strata, the variance is the Taylor-linearization (Binder 1983) ultimate-cluster estimator with
the with-replacement approximation unless an fpc is given, and with an fpc at every stage the
second stage adds its own term exactly as ``svyrecvar`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import AnalysisError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

LONELY_PSU = ("fail", "adjust", "average", "remove", "certainty")


def factorize(values: Any) -> tuple[IntArray, list[Any]]:
    """Codes 0..k-1 in order of first appearance (missing values -> -1) and the k labels.

    Same codes and labels as ``pandas.factorize(values, sort=False)``, without importing
    pandas for the common cases: pyarrow hashes numbers and Arrow arrays (strings too) as they
    are; anything else (text or mixed objects in numpy arrays) goes through pandas.
    """
    import pyarrow as pa

    from . import _arrow

    arr: Any = values
    backing = getattr(arr, "array", None)
    if backing is not None and hasattr(backing, "__arrow_array__"):
        # A pandas column held in Arrow (text, nullable numbers): its buffers as they are;
        # numpy would turn them into Python objects one by one (1 s per million rows). Not a
        # categorical: its codes follow the categories, not the order of appearance.
        held = backing.__arrow_array__()
        if not pa.types.is_dictionary(held.type):
            arr = held
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if isinstance(arr, pa.Array) and _arrow.is_primitive(arr.type):
        # NaN is a value to Arrow but missing to pandas: hash the numbers with NaN as null
        x = _arrow.values(arr)
        if x.dtype.kind == "f":
            valid = _arrow.validity(arr)
            arr = _arrow.from_numpy(x, np.isnan(x) | (False if valid is None else ~valid))
    elif not isinstance(arr, pa.Array):
        a = np.asarray(values).ravel()
        if a.dtype.kind in "iuf":
            arr = _arrow.from_numpy(a, np.isnan(a) if a.dtype.kind == "f" else None)
        else:
            import pandas as pd

            codes0, uniq0 = pd.factorize(pd.Series(a), sort=False)
            return np.asarray(codes0, dtype=np.int64), list(uniq0)
    if _arrow.is_primitive(arr.type) and arr.null_count == 0 and len(arr):
        x = _arrow.values(arr)
        if bool(np.all(x[1:] >= x[:-1])):
            # sorted labels (a file in stratum/PSU order): codes are a running count
            new = np.empty(len(x), dtype=bool)
            new[0] = True
            np.not_equal(x[1:], x[:-1], out=new[1:])
            return np.cumsum(new, dtype=np.int64) - 1, x[new].tolist()
    enc = _arrow.dictionary_encode(arr)
    codes = _arrow.values(enc.indices).astype(np.int64)
    valid = _arrow.validity(enc.indices)
    if valid is not None:
        codes[~valid] = -1
    return codes, enc.dictionary.to_pylist()


def combination_codes(*keys: npt.ArrayLike) -> tuple[IntArray, int]:
    """Integer codes 0..k-1 for the combinations of ``keys`` (in order of first appearance)."""
    if len(keys) == 1:
        codes1, uniq = factorize(keys[0])
        return codes1, len(uniq)
    # one combined integer code (missing -> -1 on every key keeps combinations distinct)
    combined: IntArray | None = None
    for k in keys:
        c, u = factorize(k)
        combined = c if combined is None else combined * (len(u) + 1) + c
    assert combined is not None
    codes2, uniq2 = factorize(combined)
    return codes2, len(uniq2)


@dataclass(frozen=True)
class DesignStructure:
    """What the variance estimator needs to know about the design, without the rows.

    Attributes
    ----------
    n_psu_in_stratum : array (H,)
        Number of sampled PSUs per stratum (``n_h``).
    popsize1 : array (H,)
        Population number of PSUs per stratum (``inf`` when no fpc: with replacement).
    stratum_of_psu : array (P,)
        Stratum code of every PSU.
    two_stage : bool
        True when the second stage contributes (two cluster columns and an fpc per stage).
    n_ssu_in_psu, popsize2 : arrays (P,)
        Sampled and population numbers of SSUs per PSU (two-stage only).
    psu_of_ssu : array (S,)
        PSU code of every SSU (two-stage only).
    lonely_psu : str
        One of ``fail``, ``adjust``, ``average``, ``remove``, ``certainty`` (R's meanings).
    """

    n_psu_in_stratum: IntArray
    popsize1: FloatArray
    stratum_of_psu: IntArray
    two_stage: bool = False
    n_ssu_in_psu: IntArray | None = None
    popsize2: FloatArray | None = None
    psu_of_ssu: IntArray | None = None
    lonely_psu: str = "fail"

    @property
    def n_strata(self) -> int:
        return len(self.n_psu_in_stratum)

    @property
    def n_psu(self) -> int:
        return len(self.stratum_of_psu)

    def degf(self) -> int:
        """Design degrees of freedom: number of PSUs minus number of strata (R ``degf``)."""
        return self.n_psu - self.n_strata

    def check_lonely(self, stratum_labels: Sequence[Any] | None = None) -> None:
        """Raise :class:`AnalysisError` for a single-PSU stratum under ``lonely_psu='fail'``."""
        if self.lonely_psu not in LONELY_PSU:
            raise AnalysisError(
                f"--lonely-psu: unknown option {self.lonely_psu!r}; use one of {LONELY_PSU}"
            )
        if self.lonely_psu != "fail":
            return
        f1 = _sampling_f(self.n_psu_in_stratum, self.popsize1)
        bad = np.flatnonzero((self.n_psu_in_stratum == 1) & (f1 >= 1e-7))
        if len(bad):
            lab = stratum_labels[bad[0]] if stratum_labels is not None else bad[0]
            raise AnalysisError(
                f"stratum {lab!s} has only one PSU at stage 1 "
                "(use --lonely-psu adjust|average|remove|certainty)"
            )
        if self.two_stage:
            assert self.n_ssu_in_psu is not None and self.popsize2 is not None
            f2 = _sampling_f(self.n_ssu_in_psu, self.popsize2)
            bad = np.flatnonzero((self.n_ssu_in_psu == 1) & (f2 >= 1e-7))
            if len(bad):
                raise AnalysisError(
                    f"PSU number {bad[0] + 1} has only one SSU at stage 2 "
                    "(use --lonely-psu adjust|average|remove|certainty)"
                )


def _sampling_f(n: npt.NDArray[Any], popsize: FloatArray) -> FloatArray:
    """R's ``f = (N - n) / N`` (1 when N is infinite: with replacement)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(np.isinf(popsize), 1.0, (popsize - n) / popsize)
    return np.asarray(f, dtype=np.float64)


@dataclass(frozen=True)
class Design:
    """A sampling design over ``n`` unit-level rows.

    Build it with :meth:`Design.from_arrays`. PSU (and SSU) labels are nested within strata
    (R ``nest=TRUE``), so the same PSU label in two strata means two PSUs.

    Attributes
    ----------
    weights : array (n,)
        Sampling weights (inverse inclusion probabilities).
    strata, psu : arrays (n,)
        Integer codes of the stratum and PSU of every row.
    ssu : array (n,) or None
        SSU codes when the second stage contributes to the variance.
    structure : DesignStructure
        Counts and population sizes per stratum/PSU.
    stratum_labels : list
        Original stratum labels by code.
    """

    weights: FloatArray
    strata: IntArray
    psu: IntArray
    ssu: IntArray | None
    structure: DesignStructure
    stratum_labels: list[Any] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.weights)

    def degf(self) -> int:
        """#PSU - #strata."""
        return self.structure.degf()

    @classmethod
    def from_arrays(
        cls,
        weights: npt.ArrayLike | None = None,
        strata: npt.ArrayLike | None = None,
        clusters: Sequence[npt.ArrayLike] = (),
        fpc: Sequence[npt.ArrayLike] = (),
        lonely_psu: str = "fail",
        n: int | None = None,
    ) -> Design:
        """Build a design from row-aligned arrays, as R ``svydesign(ids, strata, weights, fpc)``.

        Parameters
        ----------
        weights : array-like, optional
            Sampling weights. Without them the weights are implied by ``fpc`` (product over
            stages of N/n), or 1.
        strata : array-like, optional
            Stratum labels; none means one stratum.
        clusters : sequence of array-like
            Cluster labels per stage (``[psu]`` or ``[psu, ssu]``); none means every row is
            its own PSU.
        fpc : sequence of array-like
            Per stage: population sizes (values > 1) or sampling fractions (all values <= 1),
            constant within a stratum (stage 1) or a PSU (stage 2). Empty: with replacement.
        lonely_psu : {"fail", "adjust", "average", "remove", "certainty"}
            Treatment of strata with one PSU, with R's ``survey.lonely.psu`` meanings.
        n : int, optional
            Number of rows when neither weights, strata nor clusters are given.
        """
        arrays = [a for a in (weights, strata, *clusters, *fpc) if a is not None]
        if n is None:
            if not arrays:
                raise AnalysisError("design: give weights, strata, clusters or n")
            n = len(np.asarray(arrays[0]))
        if len(clusters) > 2:
            raise AnalysisError("--cluster: at most two stages are supported")
        if (fpc and len(fpc) not in (1, len(clusters))) or (len(clusters) < 2 and len(fpc) > 1):
            raise AnalysisError("--fpc: give one fpc column per cluster stage")
        if strata is None:
            s_codes = np.zeros(n, dtype=np.int64)
            labels: list[Any] = [1]
        else:
            s_codes, labels = factorize(strata)
            _refuse_missing(s_codes, labels, "strata")
        h = len(labels)
        if clusters:
            # as combination_codes(s_codes, clusters[0]); s_codes are already first-appearance codes
            c_psu, u_psu = factorize(clusters[0])
            _refuse_missing(c_psu, u_psu, "cluster stage 1")
            if len(clusters) == 2:
                c2, u2 = factorize(clusters[1])
                _refuse_missing(c2, u2, "cluster stage 2")
            psu, n_psu = combination_codes(s_codes * (len(u_psu) + 1) + c_psu)
        else:
            psu, n_psu = np.arange(n, dtype=np.int64), n
        stratum_of_psu = np.zeros(n_psu, dtype=np.int64)
        stratum_of_psu[psu] = s_codes
        n_h = np.bincount(stratum_of_psu, minlength=h).astype(np.int64)
        popsize1 = np.full(h, np.inf)
        f_row = np.ones(n)
        if fpc:
            raw1 = np.asarray(fpc[0], dtype=np.float64)
            popsize1 = population_sizes(raw1, s_codes, n_h, "stratum")
            f_row = n_h[s_codes] / popsize1[s_codes]
        two_stage = len(clusters) == 2 and len(fpc) == 2
        ssu = None
        n_ssu_in_psu = popsize2 = psu_of_ssu = None
        if len(clusters) == 2:
            ssu_codes, n_ssu = combination_codes(psu, clusters[1])
            psu_of_ssu = np.zeros(n_ssu, dtype=np.int64)
            psu_of_ssu[ssu_codes] = psu
            n_ssu_in_psu = np.bincount(psu_of_ssu, minlength=n_psu).astype(np.int64)
            if len(fpc) == 2:
                raw2 = np.asarray(fpc[1], dtype=np.float64)
                popsize2 = population_sizes(raw2, psu, n_ssu_in_psu, "PSU")
                f_row = f_row * n_ssu_in_psu[psu] / popsize2[psu]
            if two_stage:
                ssu = ssu_codes
        w = _row_weights(weights, f_row if fpc else None, n)
        structure = DesignStructure(
            n_psu_in_stratum=n_h,
            popsize1=popsize1,
            stratum_of_psu=stratum_of_psu,
            two_stage=two_stage,
            n_ssu_in_psu=n_ssu_in_psu if two_stage else None,
            popsize2=popsize2 if two_stage else None,
            psu_of_ssu=psu_of_ssu if two_stage else None,
            lonely_psu=lonely_psu,
        )
        structure.check_lonely(labels)
        return cls(np.asarray(w, dtype=np.float64), s_codes, psu, ssu, structure, labels)


def _row_weights(weights: npt.ArrayLike | None, f_row: FloatArray | None, n: int) -> FloatArray:
    """The given weights (refusing a missing or negative one), else the inverse sampling
    fractions ``f_row`` of an fpc, else 1."""
    if weights is None:
        return 1.0 / f_row if f_row is not None else np.ones(n)
    w = np.asarray(weights, dtype=np.float64)
    if np.isnan(w).any():
        raise AnalysisError(f"weights: missing value in row {int(np.isnan(w).argmax()) + 1}")
    if (w < 0).any():
        raise AnalysisError(f"weights: negative value in row {int((w < 0).argmax()) + 1}")
    return w


def is_blank(label: Any) -> bool:
    """A design label that names nothing: NULL, NaN or text of only blanks."""
    if label is None:
        return True
    if isinstance(label, float | np.floating):
        return bool(np.isnan(label))
    return isinstance(label, str) and not label.strip()


def _refuse_missing(codes: IntArray, labels: Sequence[Any], what: str) -> None:
    """Raise one line naming the first row whose design label is missing or blank.

    A row without a stratum or PSU cannot be placed in the design; left in, its code -1
    would reach ``np.bincount`` and fail with numpy's message instead of ours.
    """
    bad = codes < 0
    blank = [k for k, lab in enumerate(labels) if is_blank(lab)]
    if blank:
        bad = bad | np.isin(codes, blank)
    if bad.any():
        raise AnalysisError(f"{what}: missing value in row {int(np.argmax(bad)) + 1}")


def population_sizes(
    raw: FloatArray, group: IntArray, n_in_group: IntArray, what: str
) -> FloatArray:
    """Population size per group from an fpc column (sizes > 1 or fractions <= 1, as R)."""
    if np.isnan(raw).any():
        raise AnalysisError(f"--fpc: missing value in row {int(np.isnan(raw).argmax()) + 1}")
    k = len(n_in_group)
    lo = np.full(k, np.inf)
    hi = np.full(k, -np.inf)
    np.minimum.at(lo, group, raw)
    np.maximum.at(hi, group, raw)
    if np.any(hi - lo > 1e-8 * np.maximum(1.0, np.abs(hi))):
        bad = int(np.argmax(hi - lo))
        raise AnalysisError(f"--fpc: value is not constant within {what} number {bad + 1}")
    if np.all(raw <= 1):
        if np.any(lo <= 0):
            raise AnalysisError("--fpc: sampling fractions must be > 0")
        pop = n_in_group / lo
    else:
        pop = lo
        if np.any(pop < n_in_group):
            raise AnalysisError(f"--fpc: population size smaller than the sample in a {what}")
    return np.asarray(pop, dtype=np.float64)
