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
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}


def _responses(schema: dict[str, Any]) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {
        "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
        "401": {"description": "Not authenticated", **error},
        "403": {"description": "Role not allowed", **error},
        "400": {"description": "Bad parameter", **error},
        "404": {"description": "Not found", **error},
    }


def _campaign_id() -> dict[str, Any]:
    from surveyapp.api import MAX_ID

    return {
        "name": "campaign_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    }


def _enum(name: str, values: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": values},
    }


ESTIMATE = {
    "type": "object",
    "required": ["statistic", "variable", "estimate", "se", "ci_low", "ci_high", "n"],
    "properties": {
        "statistic": {"type": "string", "enum": ["prop", "mean", "total", "index", "ratio"]},
        "variable": {"type": "string"},
        "code": {"type": "string"},
        "name": {"type": "string"},
        "level": {"type": "string"},
        "values": {"type": ["array", "null"]},
        "domain": {"type": ["object", "null"]},
        "estimate": {"type": ["number", "null"]},
        "se": {"type": ["number", "null"]},
        "ci_low": {"type": ["number", "null"]},
        "ci_high": {"type": ["number", "null"]},
        "deff": {"type": ["number", "null"]},
        "n": {"type": "integer"},
        "target": {"type": ["number", "null"]},
        "verdict": {"type": ["string", "null"], "enum": ["met", "not_met", "inconclusive", None]},
    },
}
RESULTS = {
    "type": "object",
    "required": ["campaign", "sample", "design", "estimates"],
    "properties": {
        "campaign": {"type": "object"},
        "sample": {"type": "string", "enum": ["probability", "convenience", "invited"]},
        "descriptive": {
            "type": "boolean",
            "description": "True for the convenience (desk ratings) and invited (standalone "
            "invitation codes) samples: no design, no verdicts; their intervals hold only if "
            "the respondents were a random sample.",
        },
        "by": {"type": ["string", "null"]},
        "design": {"type": "object"},
        "estimates": {"type": "array", "items": {"$ref": "#/components/schemas/Estimate"}},
        "computed_at": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "When these estimates were computed (UTC).",
        },
        "stale": {
            "type": "boolean",
            "description": "Always false here: the API waits for estimates from every "
            "response stored so far.",
        },
    },
}

_CHANGE = {
    "type": ["object", "null"],
    "required": ["estimate", "ci_low", "ci_high", "direction"],
    "properties": {
        "estimate": {"type": "number"},
        "se": {"type": "number"},
        "ci_low": {"type": "number"},
        "ci_high": {"type": "number"},
        "direction": {"type": "string", "enum": ["up", "down", "same"]},
    },
}
TREND = {
    "type": "object",
    "required": ["campaigns", "rows"],
    "properties": {
        "campaigns": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "starts", "n"],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "starts": {"type": "string", "format": "date"},
                    "n": {"type": "integer"},
                },
            },
        },
        "rows": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "level", "name", "points", "change", "previous"],
                "properties": {
                    "code": {"type": "string"},
                    "level": {"type": "string"},
                    "name": {"type": "string"},
                    "previous": {"type": ["number", "null"]},
                    "target": {"type": ["number", "null"]},
                    "points": {
                        "type": "array",
                        "items": {
                            "type": ["object", "null"],
                            "properties": {
                                "estimate": {"type": ["number", "null"]},
                                "se": {"type": ["number", "null"]},
                                "ci_low": {"type": ["number", "null"]},
                                "ci_high": {"type": ["number", "null"]},
                                "n": {"type": "integer"},
                            },
                        },
                    },
                    "change": _CHANGE,
                    "versus_previous": _CHANGE,
                },
            },
        },
    },
}


_NUM = {"type": ["number", "null"]}
DIFFERENCES = {
    "type": "object",
    "description": "Probability sample only. Every pair of domains: a minus b with its t "
    "interval on the design df and two-sided p-value, from the joint covariance of the "
    "calibrated estimates (domains share strata and calibration margins). A rank interval "
    "says nothing about whether two domains differ; these intervals do.",
    "required": ["variable", "by", "level", "df", "domains", "pairs"],
    "properties": {
        "variable": {"type": "string"},
        "by": {"type": "string"},
        "level": {"type": "number"},
        "df": {"type": "number"},
        "domains": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["domain", "estimate", "se"],
                "properties": {"domain": {}, "estimate": _NUM, "se": _NUM},
            },
        },
        "pairs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["a", "b", "estimate", "se", "ci_low", "ci_high", "p_value"],
                "properties": {
                    "a": {},
                    "b": {},
                    "estimate": _NUM,
                    "se": _NUM,
                    "ci_low": _NUM,
                    "ci_high": _NUM,
                    "p_value": _NUM,
                },
            },
        },
    },
}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "surveyapp API", "version": __version__},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Campaign": CAMPAIGN,
                "Target": TARGET,
                "Error": ERROR,
                "Estimate": ESTIMATE,
                "Results": RESULTS,
                "Trend": TREND,
                "Differences": DIFFERENCES,
            },
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
            "/campaigns/{campaign_id}/results": {
                "get": {
                    "summary": "Estimates, confidence intervals and verdicts per index node",
                    "operationId": "getResults",
                    "parameters": [
                        _campaign_id(),
                        _enum("sample", ["probability", "convenience", "invited"]),
                        _enum("by", ["channel", "desk", "district"]),
                    ],
                    "responses": _responses({"$ref": "#/components/schemas/Results"}),
                }
            },
            "/campaigns/{campaign_id}/differences": {
                "get": {
                    "summary": "Pairwise differences between domains with confidence intervals",
                    "operationId": "getDifferences",
                    "parameters": [
                        _campaign_id(),
                        _enum("by", ["channel", "district"]),
                        {
                            "name": "variable",
                            "in": "query",
                            "required": False,
                            "description": "Index code (default overall) or item code.",
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": _responses({"$ref": "#/components/schemas/Differences"}),
                }
            },
            "/campaigns/{campaign_id}/trend": {
                "get": {
                    "summary": "Index results of this and earlier campaigns of its questionnaire",
                    "operationId": "getTrend",
                    "parameters": [_campaign_id()],
                    "responses": _responses({"$ref": "#/components/schemas/Trend"}),
                }
            },
            "/campaigns/{campaign_id}/responses": {
                "get": {
                    "summary": "Final responses as the flat file `surveyapp analyze` reads",
                    "operationId": "getResponses",
                    "parameters": [
                        _campaign_id(),
                        _enum("sample", ["probability", "convenience", "invited"]),
                        _enum("format", ["json", "csv"]),
                    ],
                    "responses": {
                        **_responses({"type": "array", "items": {"type": "object"}}),
                        "200": {
                            "description": "OK",
                            "content": {
                                "application/json": {
                                    "schema": {"type": "array", "items": {"type": "object"}}
                                },
                                "text/csv": {"schema": {"type": "string"}},
                            },
                        },
                    },
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
