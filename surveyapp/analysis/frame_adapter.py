"""The frame adapter: answers and design columns of a DataFrame or a ColumnTable as arrays.

:func:`design_from_frame` builds the :class:`~surveyapp.analysis.design.Design` from the
design columns; :func:`match_values` and :func:`numeric_column` read one answer column as the
arrays the cell builder sums; :func:`columns_supported` says whether a
:class:`~surveyapp.analysis.columns.ColumnTable` can be read without a DataFrame.
Every bad value is reported with its column and data row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .columns import ColumnTable
from .design import LONELY_PSU, Design, is_blank
from .errors import AnalysisError
from .results import Spec

if TYPE_CHECKING:
    import pandas as pd


def numeric_column(frame: pd.DataFrame | ColumnTable, col: str, what: str) -> np.ndarray:
    if isinstance(frame, ColumnTable):
        return frame.numeric(col)  # numeric type checked by ColumnTable.supports
    import pandas as pd

    ser = frame[col]
    if pd.api.types.is_bool_dtype(ser):
        return ser.to_numpy(dtype=np.float64)
    if pd.api.types.is_numeric_dtype(ser):
        return ser.to_numpy(dtype=np.float64, na_value=np.nan)
    conv = pd.to_numeric(ser, errors="coerce")
    bad = conv.isna() & ser.notna() & (ser.astype(str).str.strip() != "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise AnalysisError(
            f"{what} column {col!r}: non-numeric value {ser.iloc[row]!r} in data row {row + 1}"
        )
    return conv.to_numpy(dtype=np.float64, na_value=np.nan)


def match_values(
    frame: pd.DataFrame | ColumnTable, col: str, values: Sequence[Any]
) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(frame, ColumnTable):
        # numeric column and numeric value set (ColumnTable.supports)
        if frame.is_integer(col) and all(isinstance(v, int) for v in values):
            xi, valid = frame.integers(col)
            yi = xi == values[0]
            for v in values[1:]:
                yi |= xi == v
            return yi & valid, valid
        xf = frame.numeric(col)
        yf = xf == float(values[0])
        for v in values[1:]:
            yf |= xf == float(v)
        return yf, ~np.isnan(xf)
    import pandas as pd

    ser = frame[col]
    fast = _arrow_int_match(ser, values)
    if fast is not None:
        return fast
    if pd.api.types.is_numeric_dtype(ser) and not pd.api.types.is_bool_dtype(ser):
        try:
            vals = [float(v) for v in values]
        except (TypeError, ValueError):
            vals = None
        if vals is not None:
            x = ser.to_numpy(dtype=np.float64, na_value=np.nan)
            y = x == vals[0]
            for v in vals[1:]:
                y |= x == v
            return y, ~np.isnan(x)
    numeric_set = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if numeric_set and not pd.api.types.is_bool_dtype(ser):
        # a numeric value set (e.g. Likert 4,5) on a text column: every answer must be a number
        x = numeric_column(frame, col, "--prop/--index")
        y = np.isin(x, np.asarray(values, dtype=np.float64))
        return y, ~np.isnan(x)
    r = ser.notna().to_numpy()
    sv = {str(v) for v in values}
    return ser.astype(str).isin(sv).to_numpy() & r, r


def _arrow_int_match(ser: pd.Series, values: Sequence[Any]) -> tuple[Any, Any] | None:
    """Fast path for Arrow-backed integer answers (what the CLI reads): no float copy."""
    import pandas as pd

    dtype = ser.dtype
    if not isinstance(dtype, pd.ArrowDtype):
        return None
    import pyarrow as pa

    if not pa.types.is_integer(dtype.pyarrow_dtype):
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return None
    arr = pa.chunked_array(ser.array._pa_array).combine_chunks()
    n = len(arr)
    validity, data = arr.buffers()[:2]
    x = np.frombuffer(data, dtype=np.dtype(arr.type.to_pandas_dtype()))[arr.offset : arr.offset + n]
    if validity is None or arr.null_count == 0:
        r = np.ones(n, dtype=bool)
    else:
        bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
        r = bits[arr.offset : arr.offset + n].astype(bool)
    y = x == values[0]
    for v in values[1:]:
        y |= x == v
    return y & r, r


def design_from_frame(
    frame: pd.DataFrame | ColumnTable,
    weight: str | None,
    strata: str | None,
    cluster: Sequence[str],
    fpc: Sequence[str],
    lonely_psu: str,
) -> Design:
    for c in [x for x in (weight, strata, *cluster, *fpc) if x]:
        if c not in frame.columns:
            raise AnalysisError(f"unknown column {c!r}")
    if lonely_psu not in LONELY_PSU:
        raise AnalysisError(f"--lonely-psu: unknown option {lonely_psu!r}")
    design_cols = [x for x in (strata, *cluster, weight, *fpc) if x]
    if isinstance(frame, ColumnTable):
        for c in design_cols:
            row = frame.first_missing(c)
            if row is not None:
                raise AnalysisError(f"design column {c!r}: missing value in data row {row + 1}")
        # labels stay Arrow arrays: the design hashes them without a copy to Python objects
        return Design.from_arrays(
            weights=frame.numeric(weight) if weight else None,
            strata=frame.arrow(strata) if strata else None,
            clusters=[frame.arrow(c) for c in cluster],
            fpc=[frame.numeric(c) for c in fpc],
            lonely_psu=lonely_psu,
            n=len(frame),
        )
    for c in design_cols:
        missing = frame[c].isna().to_numpy()
        if frame[c].dtype == object:
            missing = missing | frame[c].map(is_blank).to_numpy(dtype=bool)
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise AnalysisError(f"design column {c!r}: missing value in data row {row + 1}")
    return Design.from_arrays(
        weights=numeric_column(frame, weight, "weight") if weight else None,
        strata=frame[strata].to_numpy() if strata else None,
        clusters=[frame[c].to_numpy() for c in cluster],
        fpc=[numeric_column(frame, c, "fpc") for c in fpc],
        lonely_psu=lonely_psu,
        n=len(frame),
    )


def columns_supported(
    table: ColumnTable,
    spec: Spec,
    weight: str | None,
    strata: str | None,
    cluster: Sequence[str],
    fpc: Sequence[str],
) -> bool:
    """Whether ``analyze`` can read ``table`` without a DataFrame (no calibration; numeric
    columns where numbers are read)."""
    if spec.margins:
        return False
    index_names = {n for n, _ in spec.indices}
    shares = [(c, tuple(v)) for c, v in spec.props]
    shares += [
        (p, tuple(spec.satisfied))
        for _, parts in spec.indices
        for p in parts
        if p not in index_names
    ]
    numeric = [x for x in (weight, *fpc) if x] + list(spec.means) + list(spec.totals)
    numeric += [c for r in spec.ratios for c in r]
    labels = [x for x in (strata, *cluster, spec.by) if x]
    return table.supports(labels, numeric, shares)


__all__ = ["columns_supported", "design_from_frame", "match_values", "numeric_column"]
