"""Issue 12's proof: random messy campaigns, checked end to end through the product's own
pages, API and commands (messy_build makes them, messy_checks checks them).

One plan is built once and every check is run on it; each test then asserts its own check.
The four tests share one Hypothesis function, so with the same derandomised seed they see the
same plans and only the first test pays for building them.

Run longer, with shrinking, with ``SURVEYAPP_HYPOTHESIS_PROFILE=long`` (README, "Two commands").
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from messy_build import EVERYTHING, PROFILE, SAME_NAMES, Databases, Plan, campaigns, messy_settings
from messy_checks import evaluate

# A long run takes as long as it needs (the suite's 300 s limit is for the bounded CI run).
pytestmark = pytest.mark.timeout(0 if PROFILE == "long" else 300)

_outcomes: dict[str, dict[str, list[str]]] = {}
_current = {"check": "serve"}


def outcome(dbs: Databases, plan: Plan) -> dict[str, list[str]]:
    key = repr(plan)
    if key not in _outcomes:  # a few small dicts of text per plan: kept for the whole run
        _outcomes[key] = evaluate(dbs, plan)
    return _outcomes[key]


@messy_settings()
@example(plan=SAME_NAMES)
@example(plan=EVERYTHING)
@given(plan=campaigns())
def _explore(dbs: Databases, plan: Plan) -> None:
    failures = outcome(dbs, plan)[_current["check"]]
    assert not failures, "\n".join(failures)


def _check(dbs: Databases, name: str) -> None:
    _current["check"] = name
    _explore(dbs)


def test_no_page_api_call_or_command_fails(databases: Databases) -> None:
    """No view, download, API call or command answers 5xx or exits with a traceback."""
    _check(databases, "serve")


def test_report_equals_export_plus_analyze(databases: Databases) -> None:
    _check(databases, "equal")


def test_every_xlsx_text_cell_is_a_string(databases: Databases) -> None:
    _check(databases, "xlsx")


def test_backup_restore_between_sqlite_and_postgresql_is_exact(postgres: Databases) -> None:
    _check(postgres, "backup")
