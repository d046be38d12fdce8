"""Shared fixtures for the analysis tests (no Flask app needed)."""

from __future__ import annotations

import pandas as pd
import pytest
from analysis_helpers import DATA, REFERENCE


@pytest.fixture(scope="session")
def sipas() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "sipas-sim.csv")


@pytest.fixture(scope="session")
def items() -> pd.DataFrame:
    path = DATA / "sipas" / "items-2022.csv"
    if not path.exists():
        pytest.skip(f"{path} not available")
    return pd.read_csv(path, dtype={"criterion_code": str})
