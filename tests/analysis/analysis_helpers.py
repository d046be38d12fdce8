"""The SIPAS index tree used by tests and the benchmark (criteria from items-2022.csv)."""

from __future__ import annotations

import pandas as pd


def sipas_indices(items: pd.DataFrame) -> tuple[tuple[str, tuple[str, ...]], ...]:
    crit: dict[str, list[str]] = {}
    for row in items.itertuples():
        crit.setdefault(str(row.criterion_code), []).append(f"q{row.item}")
    out = [(c, tuple(v)) for c, v in sorted(crit.items())]
    out.append(("2.6", tuple(f"q{k}" for k in range(15, 34))))
    out.append(("1", ("1.1", "1.2", "1.3", "1.4")))
    out.append(("2", ("2.6",)))
    out.append(("overall", ("1", "2")))
    return tuple(out)


import os  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

HERE = Path(__file__).parent
REFERENCE = HERE / "reference"
DATA = Path(os.environ.get("SURVEYAPP_SHARED_DATA", "/work/shared/data"))


def read_api(name: str) -> pd.DataFrame:
    path = DATA / "api" / f"{name}.csv"
    if not path.exists():
        pytest.skip(f"{path} not available")
    return pd.read_csv(path)
