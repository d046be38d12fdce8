"""Fixtures of the messy-campaign tests: the databases each example builds in."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from messy_build import Databases


@pytest.fixture(scope="module")
def databases() -> Iterator[Databases]:
    with pytest.MonkeyPatch.context() as mp:
        # Keep the developer's own settings out of the apps made here, as conftest's app does.
        for name in list(os.environ):
            if name.startswith("SURVEYAPP_") and name != "SURVEYAPP_HYPOTHESIS_PROFILE":
                mp.delenv(name)
        dbs = Databases()
        try:
            yield dbs
        finally:
            dbs.close()


@pytest.fixture(scope="module")
def postgres(databases: Databases) -> Databases:
    reason = databases.pg_available()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is unreachable under CI: {reason}")
        pytest.skip(f"PostgreSQL unreachable: {reason}")
    return databases
