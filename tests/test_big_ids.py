"""Issue 12, defect 8: an id no database column can hold is a 404, never a 500.

The bound is enforced by the app-wide ``int`` URL converter, so every ``<int:...>`` route
(present and future) gets it; the test walks the URL map instead of listing routes.
"""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "url",
    [
        f"/admin/desks/{HUGE}",
        f"/admin/users/{HUGE}/password",
        f"/admin/campaigns/{HUGE}",
        f"/dashboard/{HUGE}",
        f"/api/v1/campaigns/{HUGE}",
        "/admin/desks/2147483648",
        "/dashboard/9223372036854775808",
    ],
)
def test_listed_routes_answer_404(app, login_as, url: str) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = login_as("admin")
    assert client.get(url).status_code == 404


def test_entry_batch_past_64_bits_is_404(app, login_as) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = login_as("supervisor")
    assert client.get(f"/entry/batches/{HUGE}").status_code == 404


def test_every_int_route_is_bounded(app, login_as) -> None:
    """Each rule with an int part answers 404 (as an admin and as an enumerator) to an id
    past the columns' range, on every method it accepts."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    admin = login_as("admin")
    rules = [
        r
        for r in app.url_map.iter_rules()
        if any(isinstance(c, IntegerConverter) for c in r._converters.values())
    ]
    assert len(rules) >= 20
    for rule in rules:
        assert all(
            c.max is not None and c.max <= 2**63 - 1
            for c in rule._converters.values()
            if isinstance(c, IntegerConverter)
        ), rule.rule
        url = re.sub(r"<int:[^>]+>", HUGE, rule.rule)
        url = re.sub(r"<[^>]+>", "xlsx", url)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = admin.open(url, method=method)
            assert response.status_code < 500, (rule.rule, method, response.status_code)
            assert response.status_code in (404, 405), (rule.rule, method, response.status_code)


def test_the_bound_is_the_id_columns_range() -> None:
    """The converter's bound is INTEGER's; a table keyed on a BIGINT would need it raised."""
    from sqlalchemy import BigInteger, Integer

    from surveyapp.models import Base
    from surveyapp.routing import ID_MAX

    assert ID_MAX == 2**31 - 1
    for table in Base.metadata.sorted_tables:
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer):
                assert not isinstance(column.type, BigInteger), (table.name, column.name)
