"""The OpenAPI 3.1 document of /api/v1."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from surveyapp.services.reports import N_TO_DECIDE_REASONS, VERDICT_REASONS, VERDICTS

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


def _by_level() -> dict[str, Any]:
    """The breakdown: a level the campaign's units have, a region, a desk or a channel."""
    return {
        "name": "by",
        "in": "query",
        "required": False,
        "description": (
            "An administrative level the campaign's units have (commune; district for a "
            "campaign on the historical structure; region when the province defined "
            "regions), desk or channel. A level the campaign does not have is a 400 that "
            "names the levels it has."
        ),
        "schema": {"type": "string", "enum": ["channel", "commune", "desk", "district", "region"]},
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
        "verdict": {"type": ["string", "null"], "enum": [*VERDICTS, None]},
        "reason": {
            "type": ["string", "null"],
            "description": "Why the estimate is null: no_answers, or empty_part:<items>.",
        },
        "verdict_reason": {
            "type": ["string", "null"],
            "enum": [*VERDICT_REASONS, None],
            "description": "Why the verdict is inconclusive or missing.",
        },
        "p_meets_target": {
            "type": ["number", "null"],
            "description": "Confidence that the true value reaches the target (CI's scale).",
        },
        "n_to_decide": {
            "type": ["number", "null"],
            "description": "Answers at which the interval would exclude the target with 80% "
            "power at today's design effect.",
        },
        "n_to_decide_reason": {"type": ["string", "null"], "enum": [*N_TO_DECIDE_REASONS, None]},
        "same_estimate_as": {"type": ["string", "null"]},
        "note": {"type": ["string", "null"]},
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
_ESTIMATE_OR_NULL = {
    "type": ["object", "null"],
    "properties": {
        "estimate": {"type": "number"},
        "se": {"type": "number"},
        "ci_low": {"type": "number"},
        "ci_high": {"type": "number"},
        "n": {"type": "integer"},
    },
}
ACROSS = {
    "type": ["object", "null"],
    "description": "Present when the last two campaigns were fielded on different "
    "administrative structures (the 2025 reorganisation): the comparison per unit of the "
    "newer structure, the older estimate through the unit crosswalk.",
    "properties": {
        "older": {"type": "integer"},
        "newer": {"type": "integer"},
        "territory_added": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
            },
        },
        "units": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["unit", "newer", "older", "method", "exact", "change"],
                "properties": {
                    "unit": {"type": "object"},
                    "newer": _ESTIMATE_OR_NULL,
                    "older": _ESTIMATE_OR_NULL,
                    "method": {
                        "type": "string",
                        "enum": ["same_unit", "crosswalk_population", "crosswalk_share", "none"],
                    },
                    "exact": {"type": "boolean"},
                    "coverage": {"type": ["number", "null"]},
                    "old_units": {"type": "array", "items": {"type": "object"}},
                    "change": {"type": ["object", "null"]},
                },
            },
        },
    },
}
TREND = {
    "type": "object",
    "required": ["campaigns", "rows"],
    "properties": {
        "across": ACROSS,
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

_NUM_OR_NULL = {"type": ["number", "null"]}
SMALL_AREA = {
    "type": "object",
    "description": "Model-based (Fay–Herriot) estimates per unit of the breakdown level; "
    "not design-based.",
    "required": ["label", "level", "index", "model", "units"],
    "properties": {
        "campaign": {"type": "integer"},
        "label": {"type": "string", "enum": ["model-based"]},
        "level": {"type": "string"},
        "index": {"type": "object"},
        "model": {
            "type": "object",
            "required": ["method", "covariates", "beta", "beta_se", "sigma2_u"],
            "properties": {
                "method": {"type": "string", "enum": ["reml", "ml", "fh"]},
                "covariates": {"type": "array", "items": {"type": "string"}},
                "beta": {"type": "array", "items": {"type": "number"}},
                "beta_se": {"type": "array", "items": {"type": "number"}},
                "sigma2_u": {"type": "number"},
                "areas_in_sample": {"type": "integer"},
            },
        },
        "benchmark": {"type": ["object", "null"]},
        "province": {"type": "object"},
        "variance_smoothing": {"type": "object"},
        "median_ci_width": {"type": "object"},
        "notes": {"type": "array", "items": {"type": "string"}},
        "units": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["unit", "name", "n", "direct", "estimate", "rmse", "ci", "gamma"],
                "properties": {
                    "unit": {"type": "string"},
                    "name": {"type": "string"},
                    "n": {"type": "integer"},
                    "direct": _NUM_OR_NULL,
                    "direct_se": _NUM_OR_NULL,
                    "direct_ci": {"type": ["array", "null"], "items": {"type": "number"}},
                    "variance_smoothed": {"type": "boolean"},
                    "model_se": _NUM_OR_NULL,
                    "estimate": {"type": "number"},
                    "rmse": {"type": "number"},
                    "ci": {"type": "array", "items": {"type": "number"}},
                    "gamma": _NUM_OR_NULL,
                    "synthetic": {"type": "boolean"},
                    "standardised_residual": _NUM_OR_NULL,
                    "covariates": {"type": "object"},
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


_NUMBER_OR_NULL = {"type": ["number", "null"]}
_STANDARD_ROW = {
    "type": "object",
    "required": ["name", "ratings", "good", "share", "transactions", "per_100"],
    "properties": {
        "name": {"type": "string"},
        "ratings": {"type": "integer", "minimum": 0},
        "good": {"type": "integer", "minimum": 0, "description": "rated good or very good"},
        "share": {**_NUMBER_OR_NULL, "description": "good / ratings, a fraction"},
        "transactions": {**_NUMBER_OR_NULL, "description": "pro rata to the month"},
        "per_100": {**_NUMBER_OR_NULL, "description": "ratings per 100 transactions"},
    },
}
BULLETIN = {
    "type": "object",
    "description": "A commune centre's monthly desk bulletin. Months are calendar months of "
    "local days (time_zone); from/until are their UTC bounds. Ratings held back by abuse "
    "detection are in no number until released. Desk ratings are a convenience sample: "
    "descriptive, not an estimate.",
    "required": [
        "unit_code",
        "unit_name",
        "month",
        "time_zone",
        "from",
        "until",
        "campaign",
        "standard",
        "above_standard",
        "total",
        "desks",
        "other_desks",
        "low",
        "reasons",
        "comments",
        "trend",
        "made",
    ],
    "properties": {
        "unit_code": {"type": "string"},
        "unit_name": {"type": "string"},
        "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
        "time_zone": {"type": "string"},
        "from": {"type": "string", "format": "date-time"},
        "until": {"type": "string", "format": "date-time"},
        "campaign": {"type": ["string", "null"]},
        "standard": {"type": "number"},
        "above_standard": {"type": ["boolean", "null"]},
        "total": _STANDARD_ROW,
        "desks": {"type": "array", "items": _STANDARD_ROW},
        "other_desks": {"type": "integer", "minimum": 0},
        "low": {"type": "integer", "minimum": 0, "description": "ratings of 3 or lower"},
        "reasons": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["label", "count", "share"],
                "properties": {
                    "label": {"type": "string"},
                    "count": {"type": "integer", "minimum": 0},
                    "share": {**_NUMBER_OR_NULL, "description": "of the low ratings"},
                },
            },
        },
        "comments": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["submitted_at", "desk", "rating", "text"],
                "properties": {
                    "submitted_at": {"type": "string", "format": "date-time"},
                    "desk": {"type": "string"},
                    "rating": {"type": ["integer", "null"]},
                    "text": {"type": "string", "description": "personal data masked"},
                },
            },
        },
        "trend": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["month", "ratings", "good", "share"],
                "properties": {
                    "month": {"type": "string"},
                    "ratings": {"type": "integer", "minimum": 0},
                    "good": {"type": "integer", "minimum": 0},
                    "share": _NUMBER_OR_NULL,
                },
            },
        },
        "made": {"type": "string", "format": "date"},
    },
}
PERIODIC = {
    "type": "object",
    "description": "The periodic report's numbers (quarter, six months, year; calendar "
    "periods of local days): each index node against its target, and the change from the "
    "previous period of the same kind.",
    "required": [
        "campaign",
        "period",
        "previous_period",
        "source",
        "previous_source",
        "n",
        "previous_n",
        "level",
        "rows",
        "notes",
    ],
    "properties": {
        "campaign": {"type": "object"},
        "period": {"type": "string"},
        "previous_period": {"type": "string"},
        "source": {"type": "string"},
        "previous_source": {"type": ["string", "null"]},
        "n": {"type": "integer", "minimum": 0},
        "previous_n": {"type": "integer", "minimum": 0},
        "level": {"type": "number"},
        "rows": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "name", "estimate", "n", "target", "verdict"],
                "properties": {
                    "code": {"type": "string"},
                    "level": {"type": "string"},
                    "name": {"type": "string"},
                    "estimate": _NUMBER_OR_NULL,
                    "ci_low": _NUMBER_OR_NULL,
                    "ci_high": _NUMBER_OR_NULL,
                    "se": _NUMBER_OR_NULL,
                    "n": {"type": "integer", "minimum": 0},
                    "target": _NUMBER_OR_NULL,
                    "verdict": {"type": ["string", "null"]},
                    "verdict_reason": {"type": ["string", "null"]},
                    "previous": _NUMBER_OR_NULL,
                    "change": {"type": ["object", "null"]},
                    "direction": {"type": ["string", "null"], "enum": ["up", "down", "same", None]},
                },
            },
        },
        "notes": {"type": "array", "items": {"type": "string"}},
        "combined_note": {
            "type": ["string", "null"],
            "description": "How a period read from several campaigns is combined (null: one).",
        },
        "exact_change": {
            "type": "boolean",
            "description": "The change carries the covariance of a campaign read in both periods.",
        },
    },
}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "surveyapp API", "version": version("surveyapp")},
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
                "SmallArea": SMALL_AREA,
                "Differences": DIFFERENCES,
                "Bulletin": BULLETIN,
                "Periodic": PERIODIC,
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
                        _by_level(),
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
                        _by_level(),
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
            "/campaigns/{campaign_id}/sae": {
                "get": {
                    "summary": "Small-area (model-based) estimates of the overall index per "
                    "unit: Fay–Herriot EBLUP with MSE",
                    "operationId": "getSmallArea",
                    "parameters": [
                        _campaign_id(),
                        _enum("method", ["reml", "ml", "fh"]),
                        _enum("benchmark", ["ratio", "difference"]),
                        _enum("level", ["commune", "district"]),
                    ],
                    "responses": _responses({"$ref": "#/components/schemas/SmallArea"}),
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
            "/campaigns/{campaign_id}/bulletin": {
                "get": {
                    "summary": "A commune centre's monthly desk bulletin: ratings, share good "
                    "beside the 80 % standard, top reasons, recent masked comments, 12-month trend",
                    "operationId": "getBulletin",
                    "parameters": [
                        _campaign_id(),
                        {
                            "name": "unit",
                            "in": "query",
                            "required": True,
                            "description": "Official code of the unit holding the desks.",
                            "schema": {"type": "string", "pattern": "^[0-9A-Za-z._-]{1,20}$"},
                        },
                        {
                            "name": "month",
                            "in": "query",
                            "required": False,
                            "description": "YYYY-MM, a calendar month of local days "
                            "(default: this month).",
                            "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                        },
                    ],
                    "responses": _responses({"$ref": "#/components/schemas/Bulletin"}),
                }
            },
            "/campaigns/{campaign_id}/periodic": {
                "get": {
                    "summary": "The periodic report's numbers for a quarter, six months or a year",
                    "operationId": "getPeriodic",
                    "parameters": [
                        _campaign_id(),
                        {
                            "name": "period",
                            "in": "query",
                            "required": True,
                            "description": "2026-Q1 to 2026-Q4, 2026-H1, 2026-H2 or 2026.",
                            "schema": {
                                "type": "string",
                                "pattern": "^[0-9]{4}(-(Q[1-4]|H[12]))?$",
                            },
                        },
                    ],
                    "responses": _responses({"$ref": "#/components/schemas/Periodic"}),
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
