"""Columns of a CSV/Parquet file as numpy arrays, without pandas.

``surveyapp analyze`` reads the file with pyarrow and hands :func:`~surveyapp.analysis.analyze`
a :class:`ColumnTable` instead of a DataFrame: numeric answers, weights and design labels go
straight from Arrow buffers to numpy, so the command never imports pandas (about half a
second) unless the data need it. :meth:`ColumnTable.supports` says whether a specification can
take this path; otherwise :meth:`ColumnTable.to_frame` gives the DataFrame the general path
reads, with the same results.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _arrow
from .design import FloatArray

if TYPE_CHECKING:
    import pandas as pd


class ColumnTable:
    """A pyarrow ``Table`` seen column by column as numpy arrays."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.columns: list[str] = list(table.column_names)
        self._arrays: dict[str, Any] = {}

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def arrow(self, col: str) -> Any:
        """The column as one ``pyarrow.Array``."""
        arr = self._arrays.get(col)
        if arr is None:
            chunked = self.table.column(col)
            if chunked.num_chunks == 1:  # combine_chunks would copy even a single chunk
                arr = chunked.chunk(0)
            else:  # CSV blocks: one copy, and the table drops its chunks (peak memory)
                import pyarrow as pa

                arr = chunked.combine_chunks()
                i = self.table.schema.get_field_index(col)
                self.table = self.table.set_column(i, col, pa.chunked_array([arr]))
            self._arrays[col] = arr
        return arr

    def _type(self, col: str) -> Any:
        return self.table.schema.field(col).type

    def is_numeric(self, col: str) -> bool:
        """Integer or floating point (not boolean, not text)."""
        import pyarrow as pa

        t = self._type(col)
        return bool(pa.types.is_integer(t) or pa.types.is_floating(t))

    def is_integer(self, col: str) -> bool:
        import pyarrow as pa

        return bool(pa.types.is_integer(self._type(col)))

    def is_label(self, col: str) -> bool:
        """Numbers, text or booleans: columns usable as strata, clusters or domains."""
        import pyarrow as pa

        t = self._type(col)
        return bool(
            pa.types.is_integer(t)
            or pa.types.is_floating(t)
            or pa.types.is_string(t)
            or pa.types.is_large_string(t)
            or pa.types.is_boolean(t)
        )

    def _chunks(self, col: str) -> list[Any]:
        arr = self._arrays.get(col)
        return [arr] if arr is not None else list(self.table.column(col).chunks)

    def valid(self, col: str) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """True where the column has a value."""
        parts = []
        for c in self._chunks(col):
            v = _arrow.validity(c)
            parts.append(np.ones(len(c), dtype=bool) if v is None else v)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def numeric(self, col: str) -> FloatArray:
        """A numeric column as float64, NaN where missing."""
        chunks = self._chunks(col)
        x = np.empty(len(self), dtype=np.float64)
        at = 0
        for c in chunks:  # chunk by chunk into numpy: no combined copy in Arrow's pool
            x[at : at + len(c)] = _arrow.values(c)
            v = _arrow.validity(c)
            if v is not None:
                x[at : at + len(c)][~v] = np.nan
            at += len(c)
        return x

    def integers(self, col: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """An integer column's values (arbitrary where missing) and its validity."""
        chunks = self._chunks(col)
        if len(chunks) == 1:
            x = _arrow.values(chunks[0])
        else:
            x = np.concatenate([_arrow.values(c) for c in chunks])
        return x, self.valid(col)

    def first_missing(self, col: str) -> int | None:
        """Index of the first row without a value (NaN counts as missing), or None."""
        arr = self.arrow(col)
        missing = ~self.valid(col) if arr.null_count else None
        if self.is_numeric(col) and not self.is_integer(col):
            nan = np.isnan(self.numeric(col))
            missing = nan if missing is None else missing | nan
        if missing is None or not missing.any():
            return None
        return int(np.argmax(missing))

    def supports(
        self,
        label_cols: Sequence[str],
        numeric_cols: Sequence[str],
        share_cols: Sequence[tuple[str, Sequence[Any]]],
    ) -> bool:
        """True when every column has a type this path handles exactly like the DataFrame path:
        labels (strata, clusters, domains) of numbers/text/booleans, numbers where numbers are
        read, and numeric answers with numeric value sets for shares."""
        names = set(self.columns)
        for c in [*label_cols, *numeric_cols, *(c for c, _ in share_cols)]:
            if c not in names:
                return False
        if not all(self.is_label(c) for c in label_cols):
            return False
        if not all(self.is_numeric(c) for c in numeric_cols):
            return False
        for col, values in share_cols:
            if not self.is_numeric(col):
                return False
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
                return False
        return True

    def to_frame(self) -> pd.DataFrame:
        """The DataFrame of the general path; numeric columns stay Arrow-backed (nulls kept)."""
        import pandas as pd
        import pyarrow as pa

        def mapper(t: Any) -> Any:
            if pa.types.is_integer(t) or pa.types.is_floating(t):
                return pd.ArrowDtype(t)
            return None

        frame: pd.DataFrame = self.table.to_pandas(types_mapper=mapper)
        return frame
