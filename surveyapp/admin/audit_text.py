"""The audit log read as sentences: who did what to which object, and each field's
before → after, in the reader's language. The stored record (codes and JSON) stays
available under each sentence for whoever needs the raw form.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from surveyapp import formatting
from surveyapp.models.audit import AuditLog

LITERAL = {"file", "link", "token"}
DECIMAL = re.compile(r"-?\d+\.\d+")


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str
    literal: bool = False  # a file name or link, shown as typed


@dataclass(frozen=True)
class Described:
    sentence: str
    changes: list[Change]
    raw: str


def _actions() -> dict[str, str]:
    return {
        "create": _("created"),
        "update": _("changed"),
        "import": _("imported"),
        "delete": _("deleted"),
        "draw": _("drew"),
        "assign": _("assigned"),
        "release": _("released"),
        "fate": _("recorded the outcome of"),
        "reconcile": _("reconciled"),
        "volume": _("recorded the transaction volume of"),
        "revoke_link": _("replaced the QR link of"),
        "enter": _("entered"),
        "hide": _("hid"),
        "unhide": _("showed again"),
        "issue_codes": _("issued officials' codes for"),
        "remind": _("sent a completion reminder to"),
    }


def _objects() -> dict[str, str]:
    return {
        "user": _("user %(id)s"),
        "api_token": _("the API token of user %(id)s"),
        "target": _("target %(id)s"),
        "frame": _("the sample frame from %(id)s"),
        "desk": _("one-stop desk %(id)s"),
        "sample_draw": _("sample draw %(id)s"),
        "form": _("form %(id)s"),
        "batch": _("batch %(id)s"),
        "responses": _("responses from %(id)s"),
        "population_margins": _("the population margins of campaign %(id)s"),
        "official_result": _("published result %(id)s"),
        "area_covariates": _("the administrative covariates of campaign %(id)s"),
        "comment": _("comment %(id)s"),
        "unit_crosswalk": _("the crosswalk of old unit %(id)s"),
        "unit": _("administrative unit %(id)s"),
        "official_agency": _("agency %(id)s of an officials' survey"),
        "official_invitee": _("listed official %(id)s"),
        "campaign": _("campaign %(id)s"),
    }


def _kinds() -> dict[str, str]:
    return {
        "user": _("Users"),
        "api_token": _("API tokens"),
        "target": _("Targets"),
        "frame": _("Sample frame"),
        "desk": _("One-stop desks"),
        "sample_draw": _("Sample draws"),
        "form": _("Paper forms"),
        "batch": _("Batches"),
        "responses": _("Responses imported from files"),
        "population_margins": _("Population margins"),
        "official_result": _("Published results"),
        "area_covariates": _("Administrative covariates"),
        "comment": _("Comments"),
    }


def object_kinds() -> dict[str, str]:
    """The kinds of object the log names, for the page's filter: a name of its own per kind
    (the sentence with its number cut out reads "người dùng số"); a kind added to
    :func:`_objects` without one shows its sentence without the number."""
    named = _kinds()
    return {
        key: named.get(key) or text.replace(" %(id)s", "").replace("%(id)s", "").strip()
        for key, text in _objects().items()
    }


def _fields() -> dict[str, str]:
    return {
        "enumerator": _("Enumerator"),
        "fate": _("Outcome"),
        "active": _("Active"),
        "password": _("Password"),
        "username": _("Username"),
        "role": _("Role"),
        "name": _("Name"),
        "code": _("Code"),
        "previous_pct": _("Previous result"),
        "previous_rank": _("Previous rank"),
        "target_pct": _("Target"),
        "target_rank": _("Target rank"),
        "households": _("Households"),
        "forms": _("Forms"),
        "seed": _("Random seed"),
        "stages": _("Stages"),
        "file": _("File"),
        "rows": _("Rows"),
        "count": _("Count"),
        "transactions": _("Transactions"),
        "period_start": _("From"),
        "period_end": _("To"),
        "unit": _("Unit"),
        "unit_id": _("Unit"),
        "link": _("Link"),
        "token": _("Link"),
        "values": _("Answers"),
        "keyings": _("Entries"),
        "resolved_by": _("Decided by"),
        "batches": _("Batches"),
        "responses": _("Responses"),
        "area": _("Urban or rural area"),
        "district": _("District"),
        "commune": _("Commune"),
        "region": _("Region"),
        "sex_age": _("Sex and age group"),
        "index": _("Index"),
        "kind": _("Kind"),
        "year": _("Year"),
        "province": _("Province"),
        "node": _("Node"),
        "score": _("Score"),
        "max_score": _("Maximum score"),
        "rank": _("Rank"),
        "rank_of": _("Provinces ranked"),
        "se": _("Standard error"),
        "batch": _("Batch"),
        "reserve": _("Reserve"),
        "hidden": _("Hidden"),
    }


def _values() -> dict[str, str]:
    """Stored codes that a reader meets as values."""
    return {
        "printed": _("printed"),
        "handed_out": _("handed out"),
        "returned": _("returned"),
        "answered_online": _("answered online"),
        "refused": _("refused"),
        "not_at_home": _("not at home"),
        "lost": _("lost"),
        "replaced": _("replaced"),
        "admin": _("Administrator"),
        "analyst": _("Analyst"),
        "supervisor": _("Supervisor"),
        "enumerator": _("Enumerator"),
        "changed": _("changed"),
        "published": _("Published"),
        "own_survey": _("Own survey"),
    }


def _shown(value: Any) -> str:
    if value is None or value == "":
        return _("(empty)")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int | float):
        return formatting.number(value, 0 if float(value).is_integer() else 2)
    if isinstance(value, str) and DECIMAL.fullmatch(value):
        # Stored percentages are decimal text ("80.23"): read in the reader's form.
        digits = len(value.partition(".")[2])
        return formatting.number(Decimal(value), digits)
    if isinstance(value, dict | list):
        # A nested value (a draw's stages, a margins table) is summarised; the raw record
        # below the sentence holds it whole.
        return _("%(n)s entries", n=formatting.number(len(value)))
    return _values().get(str(value), str(value))


def describe(entry: AuditLog) -> Described:
    who = entry.user.full_name or entry.user.username if entry.user else _("the system")
    did = _actions().get(entry.action, entry.action)
    template = _objects().get(entry.entity)
    what = template % {"id": entry.entity_id} if template else f"{entry.entity} {entry.entity_id}"
    sentence = _("%(who)s %(did)s %(what)s.", who=who, did=did, what=what)
    before, after = entry.before or {}, entry.after or {}
    labels = _fields()
    changes = [
        Change(
            labels.get(key, key),
            _shown(before.get(key)),
            _shown(after.get(key)),
            literal=key in LITERAL,
        )
        for key in dict.fromkeys([*before, *after])
        if key not in before or key not in after or before[key] != after[key]
    ]
    raw = json.dumps(
        {
            "action": entry.action,
            "entity": entry.entity,
            "entity_id": entry.entity_id,
            "before": entry.before,
            "after": entry.after,
        },
        ensure_ascii=False,
        indent=1,
    )
    return Described(sentence[:1].upper() + sentence[1:], changes, raw)
