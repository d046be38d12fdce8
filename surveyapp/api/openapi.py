"""The OpenAPI 3.1 document of /api/v1."""

from __future__ import annotations

from typing import Any

from surveyapp import __version__

CAMPAIGN = {
    "type": "object",
    "required": ["id", "name", "questionnaire", "status", "starts", "ends", "responses"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "questionnaire": {"type": "string"},
        "status": {"type": "string", "enum": ["draft", "open", "closed"]},
        "starts": {"type": "string", "format": "date"},
        "ends": {"type": "string", "format": "date"},
        "responses": {"type": "integer", "description": "final responses"},
    },
}
TARGET = {
    "type": "object",
    "required": ["code", "name", "target_pct"],
    "properties": {
        "id": {"type": "integer"},
        "code": {"type": "string"},
        "level": {"type": "string"},
        "name": {"type": "string"},
        "previous_pct": {"type": ["number", "null"]},
        "previous_rank": {"type": ["string", "null"]},
        "target_pct": {"type": "number"},
        "target_rank": {"type": ["string", "null"]},
    },
}
ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}


def _responses(schema: dict[str, Any]) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {
        "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
        "401": {"description": "Not authenticated", **error},
        "403": {"description": "Role not allowed", **error},
        "404": {"description": "Not found", **error},
    }


def _campaign_id() -> dict[str, Any]:
    return {"name": "campaign_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "surveyapp API", "version": __version__},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Campaign": CAMPAIGN, "Target": TARGET, "Error": ERROR},
        },
        "paths": {
            "/campaigns": {
                "get": {
                    "summary": "List campaigns",
                    "operationId": "listCampaigns",
                    "responses": _responses(
                        {"type": "array", "items": {"$ref": "#/components/schemas/Campaign"}}
                    ),
                }
            },
            "/campaigns/{campaign_id}": {
                "get": {
                    "summary": "One campaign",
                    "operationId": "getCampaign",
                    "parameters": [_campaign_id()],
                    "responses": _responses({"$ref": "#/components/schemas/Campaign"}),
                }
            },
            "/campaigns/{campaign_id}/targets": {
                "get": {
                    "summary": "A campaign's targets in the order of the index tree",
                    "operationId": "getTargets",
                    "parameters": [_campaign_id()],
                    "responses": _responses(
                        {"type": "array", "items": {"$ref": "#/components/schemas/Target"}}
                    ),
                }
            },
        },
    }
