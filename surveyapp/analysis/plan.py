"""The plan: a :class:`~surveyapp.analysis.results.Spec` mapped to base statistics.

:func:`make_plan` turns the specification into the linear base statistics the engine
estimates, the index combinations of them and the cell moments to sum; with a frame it also
reads each variable's unit-level arrays (through the frame adapter).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .cells import BASE_MOMENTS
from .columns import ColumnTable
from .engine import BaseStat
from .errors import AnalysisError
from .frame_adapter import match_values, numeric_column
from .results import Spec

if TYPE_CHECKING:
    import pandas as pd


def prop_key(col: str, values: Sequence[Any]) -> str:
    return f"{col}|{','.join(str(v) for v in values)}"


@dataclass
class Plan:
    """The base statistics a :class:`~surveyapp.analysis.results.Spec` needs.

    ``stats`` are the linearized base statistics, ``rows`` the output rows (kind, variable,
    values), ``combos`` each index as a linear combination of ``stats`` (one column per
    index), ``vardata`` the unit-level (y, answered) arrays per key (empty for cell tables)
    and ``moments`` the cell sums each key needs.
    """

    stats: list[BaseStat]
    rows: list[tuple[str, str, tuple[Any, ...] | None]]
    combos: np.ndarray | None
    vardata: dict[str, tuple[np.ndarray, np.ndarray]]
    moments: dict[str, tuple[str, ...]]


def make_plan(frame: pd.DataFrame | ColumnTable | None, spec: Spec) -> Plan:
    """Map the spec to base statistics, index combinations and the cell moments needed."""
    b = _Builder(frame, ("y",) if len(spec.margins) > 1 else ())  # raking needs sum(y)
    for col, values in spec.props:
        b.share(col, tuple(values))
        b.rows.append(("prop", col, tuple(values)))
    for col in spec.means:
        b.numeric_var(col, "--mean")
        b.stats.append(
            BaseStat(
                "mean", f"{col}:wy", f"{col}:wr", f"{col}:y", f"{col}:r", f"{col}:r", f"{col}:wyy"
            )
        )
        b.rows.append(("mean", col, None))
    for col in spec.totals:
        b.numeric_var(col, "--total")
        b.stats.append(
            BaseStat(
                "total", f"{col}:wy", None, f"{col}:y", None, f"{col}:r", f"{col}:wyy", f"{col}:wr"
            )
        )
        b.rows.append(("total", col, None))
    for num, den in spec.ratios:
        b.ratio(num, den)
    combos = _index_combos(spec, b.share, b.rows, b.stats) if spec.indices else None
    return Plan(b.stats, b.rows, combos, b.vardata, b.moments)


class _Builder:
    """The plan's lists as :func:`make_plan` fills them; with a frame, each variable's
    unit-level arrays are read once (without one, only the moments are listed)."""

    def __init__(self, frame: pd.DataFrame | ColumnTable | None, extra: tuple[str, ...]) -> None:
        self.frame = frame
        self.extra = extra
        self.cols = set(frame.columns) if frame is not None else None
        self.stats: list[BaseStat] = []
        self.rows: list[tuple[str, str, tuple[Any, ...] | None]] = []
        self.vardata: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.moments: dict[str, tuple[str, ...]] = {}
        self.pos: dict[str, int] = {}

    def need(self, c: str) -> None:
        if self.cols is not None and c not in self.cols:
            raise AnalysisError(f"unknown column {c!r}")

    def share(self, col: str, values: tuple[Any, ...]) -> int:
        """The position of the satisfied-share statistic of ``col`` in ``values`` (added
        when new)."""
        key = prop_key(col, values)
        if key in self.pos:
            return self.pos[key]
        self.need(col)
        if self.frame is not None:
            self.vardata[key] = match_values(self.frame, col, values)
        self.moments[key] = (*BASE_MOMENTS, *self.extra)
        self.stats.append(
            BaseStat(
                "mean", f"{key}:wy", f"{key}:wr", f"{key}:y", f"{key}:r", f"{key}:r", f"{key}:wy"
            )
        )
        self.pos[key] = len(self.stats) - 1
        return self.pos[key]

    def numeric_var(self, col: str, what: str) -> None:
        if col in self.vardata or (self.frame is None and col in self.moments):
            return
        self.need(col)
        if self.frame is not None:
            x = numeric_column(self.frame, col, what)
            r = ~np.isnan(x)
            self.vardata[col] = (np.where(r, x, 0.0), r)
        self.moments[col] = (*BASE_MOMENTS, "wyy", *self.extra)

    def ratio(self, num: str, den: str) -> None:
        kn, kd = f"{num}/{den}#n", f"{num}/{den}#d"
        self.need(num)
        self.need(den)
        if self.frame is not None:
            xn = numeric_column(self.frame, num, "--ratio")
            xd = numeric_column(self.frame, den, "--ratio")
            r = ~np.isnan(xn) & ~np.isnan(xd)
            self.vardata[kn] = (np.where(r, xn, 0.0), r)
            self.vardata[kd] = (np.where(r, xd, 0.0), r)
        self.moments[kn] = (*BASE_MOMENTS, *self.extra)
        self.moments[kd] = (*BASE_MOMENTS, *self.extra)
        self.stats.append(
            BaseStat("ratio", f"{kn}:wy", f"{kd}:wy", f"{kn}:y", f"{kd}:y", f"{kn}:r")
        )
        self.rows.append(("ratio", f"{num}/{den}", None))


def _index_combos(
    spec: Spec,
    share: Callable[[str, tuple[Any, ...]], int],
    rows: list[tuple[str, str, tuple[Any, ...] | None]],
    stats: list[BaseStat],
) -> np.ndarray:
    """Each index as a linear combination of the base statistics (one column per index).

    ``share`` adds a satisfied share not yet among ``stats``; ``rows`` gets one row per index.
    """
    weights = dict(spec.index_weights)
    vec: dict[str, dict[int, float]] = {}
    for name, parts in spec.indices:
        wts = weights.get(name, tuple(1.0 for _ in parts))
        if len(wts) != len(parts):
            raise AnalysisError(f"--index {name}: weights do not match the parts")
        tot = float(sum(wts))
        v: dict[int, float] = {}
        for part, wt in zip(parts, wts, strict=True):
            sub = vec[part] if part in vec else {share(part, tuple(spec.satisfied)): 1.0}
            for j, c in sub.items():
                v[j] = v.get(j, 0.0) + c * wt / tot
        vec[name] = v
        rows.append(("index", name, None))
    combos = np.zeros((len(stats), len(spec.indices)))
    for i, (name, _) in enumerate(spec.indices):
        for j, c in vec[name].items():
            combos[j, i] = c
    return combos


def find_stat(stats: list[BaseStat], kind: str, var: str) -> int:
    for j, s in enumerate(stats):
        if s.kind == kind and s.a == f"{var}:wy":
            return j
    raise KeyError(var)


__all__ = ["Plan", "find_stat", "make_plan", "prop_key"]
