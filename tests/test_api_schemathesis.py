"""Schemathesis against /api/v1, in-process (WSGI): the API never answers with a server error
and answers as its OpenAPI document says (status codes, content types, response schemas).

The document is loaded from the app itself, so a change to a view that the document does not
follow fails here. Requests carry an analyst's bearer token and run over the demo campaign.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from support import make_user

from surveyapp.api import MAX_ID
from surveyapp.extensions import db
from surveyapp.services import users

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]
# Small and deterministic: every operation gets the same examples on every run, and a slow
# request (a report over the demo's thousand responses) is not a failure.
SETTINGS = settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def test_api_follows_its_openapi_document(app: Flask, demo_data: Any) -> None:
    token = users.create_token(make_user("etl", "analyst"), "schemathesis")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # + /campaigns/{id}/sae, /differences, /bulletin and /periodic
    assert len(operations) == 10
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            _run(operation, mode, headers, demo_data.campaign_id)


def _run(
    operation: schemathesis.APIOperation,
    mode: schemathesis.GenerationMode,
    headers: dict[str, str],
    campaign_id: int,
) -> None:
    takes_id = any(p.name == "campaign_id" for p in operation.path_parameters)

    # Random ids almost never name a campaign, so half the cases use the demo's (when the id
    # is not the part a negative case made invalid).
    @SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode), real_id=st.booleans())
    def check(case: schemathesis.Case, real_id: bool) -> None:
        if takes_id and real_id and _valid_id(case.path_parameters.get("campaign_id")):
            case.path_parameters = {**case.path_parameters, "campaign_id": campaign_id}
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()


def _valid_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def test_api_answers_bad_parameters_with_a_json_400_or_404(app: Flask, client, demo_data) -> None:
    """What schemathesis found: ids beyond the column type and a breakdown the sample cannot
    have were server errors; a bad parameter's reason was lost."""
    token = users.create_token(make_user("etl", "analyst"), "etl")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    base = f"/api/v1/campaigns/{demo_data.campaign_id}"
    for path in ("/api/v1/campaigns/99999999999999999999999", f"/api/v1/campaigns/{2**31}/results"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404 and response.json["error"]
    desk = client.get(f"{base}/results?by=desk", headers=headers)
    assert desk.status_code == 400 and "desk" in desk.json["message"]
    planet = client.get(f"{base}/results?by=planet", headers=headers)
    assert planet.status_code == 400
    # the levels the campaign's units have, named (issue 13: the level is data)
    assert planet.json["message"] == (
        "Phân tổ planet: các đơn vị của đợt khảo sát này không có cấp đó; hãy dùng một trong "
        "các cấp district, commune, desk, channel."
    )
