"""Arrow <-> numpy for primitive columns, through the buffers.

pyarrow's own conversions (``Array.to_numpy``, ``pyarrow.array``, Python scalars as compute
arguments) import pandas when it is installed, about half a second that ``surveyapp
analyze`` does not otherwise need; reading the buffers directly avoids it.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _np_dtype(t: Any) -> np.dtype[Any] | None:
    import pyarrow as pa

    if pa.types.is_integer(t):
        return np.dtype(f"{'i' if pa.types.is_signed_integer(t) else 'u'}{t.bit_width // 8}")
    if pa.types.is_floating(t):
        return np.dtype(f"f{t.bit_width // 8}")
    return None


def is_primitive(t: Any) -> bool:
    """Integer or floating point: :func:`values` reads it."""
    return _np_dtype(t) is not None


def validity(arr: Any) -> np.ndarray[Any, np.dtype[np.bool_]] | None:
    """True where ``arr`` (a ``pyarrow.Array``) has a value; None when it has no nulls."""
    if arr.null_count == 0:
        return None
    n = len(arr)
    bits = np.unpackbits(np.frombuffer(arr.buffers()[0], dtype=np.uint8), bitorder="little")
    return bits[arr.offset : arr.offset + n].view(np.bool_)  # 0/1 bytes: no copy


def values(arr: Any) -> np.ndarray[Any, Any]:
    """The data of an integer or floating-point ``pyarrow.Array`` (arbitrary where null),
    without a copy."""
    dtype = _np_dtype(arr.type)
    if dtype is None:
        raise TypeError(f"not a numeric Arrow array: {arr.type}")
    n = len(arr)
    data = arr.buffers()[1]
    if data is None:
        return np.zeros(n, dtype=dtype)
    return np.frombuffer(data, dtype=dtype)[arr.offset : arr.offset + n]


def from_numpy(a: np.ndarray[Any, Any], mask: np.ndarray[Any, Any] | None = None) -> Any:
    """A ``pyarrow.Array`` over a 1-d integer or float numpy array (null where ``mask``)."""
    import pyarrow as pa

    a = np.ascontiguousarray(a)
    kind = {"i": "int", "u": "uint", "f": "float"}[a.dtype.kind]
    bits = a.dtype.itemsize * 8
    t = pa.float64() if kind == "float" and bits == 64 else getattr(pa, f"{kind}{bits}")()
    if kind == "float" and bits == 32:
        t = pa.float32()
    valid_buf = None
    nulls = 0
    if mask is not None and mask.any():
        valid_buf = pa.py_buffer(np.packbits(~mask, bitorder="little"))
        nulls = int(mask.sum())
    return pa.Array.from_buffers(t, len(a), [valid_buf, pa.py_buffer(a)], null_count=nulls)


def dictionary_encode(arr: Any) -> Any:
    """``arr.dictionary_encode()`` without importing ``pyarrow.compute`` (~0.1 s: it builds
    a Python wrapper for every Arrow function)."""
    try:
        from pyarrow._compute import call_function
    except ImportError:  # pragma: no cover - layout of other pyarrow versions
        return arr.dictionary_encode()
    return call_function("dictionary_encode", [arr])


def float_strings(a: np.ndarray[Any, Any]) -> list[str]:
    """``repr`` of every float in ``a``, about three times faster.

    Arrow's cast to text prints the same shortest round-trip digits as Python; it differs
    only in layout (exponents, no ``.0`` on whole numbers, thresholds for scientific
    notation), so its result is taken where both print plain decimals with a point and
    ``repr`` is used for every other value (tested against ``repr``).
    """
    x = np.ascontiguousarray(a, dtype=np.float64)
    out: list[str] | None = None
    try:
        import pyarrow as pa
        from pyarrow._compute import CastOptions, call_function

        arr = pa.Array.from_buffers(pa.float64(), len(x), [None, pa.py_buffer(x)])
        out = call_function("cast", [arr], CastOptions(pa.string())).to_pylist()
    except ImportError:  # pragma: no cover - layout of other pyarrow versions
        out = None
    if out is None:
        return list(map(float.__repr__, x.tolist()))
    ax = np.abs(x)
    with np.errstate(invalid="ignore"):
        plain = (ax >= 1e-4) & (ax < 1e15)  # Python's repr prints these without exponent
    redo = set(np.flatnonzero(~plain).tolist())
    redo.update(i for i, s in enumerate(out) if "e" in s or "." not in s)
    for i in redo:
        out[i] = float.__repr__(float(x[i]))
    return out
