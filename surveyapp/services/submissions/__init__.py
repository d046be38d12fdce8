"""Citizen submissions: which campaign a desk is surveying (:mod:`.desks`), the questionnaire
as a cached spec (:mod:`.forms`), one-time nonces (:mod:`.nonces`), and storing a response
exactly once (:mod:`.store`).

A response is counted once because the database says so: every form carries a server-issued
nonce, ``responses.nonce`` is UNIQUE, and a second insert of the same nonce fails on that
constraint and is answered as the first one was (see :mod:`.store`).
"""

from __future__ import annotations

from surveyapp.services.submissions.desks import (
    Target,
    active_campaign,
    cached_target,
    campaigns_for,
    desk_by_token,
    remember_target,
    today,
)
from surveyapp.services.submissions.forms import (
    CHOICE_TYPES,
    COMMENT_MAX,
    FormSpec,
    OptionSpec,
    QuestionSpec,
    SectionSpec,
    form_spec,
)
from surveyapp.services.submissions.nonces import (
    issue_nonce,
    link_for,
    link_is_wellformed,
    nonce_is_valid,
)
from surveyapp.services.submissions.store import (
    InvitationUsed,
    ReceiptUsed,
    Stored,
    Submission,
    linked_rating,
    store,
)

__all__ = [
    "CHOICE_TYPES",
    "COMMENT_MAX",
    "FormSpec",
    "InvitationUsed",
    "OptionSpec",
    "QuestionSpec",
    "ReceiptUsed",
    "SectionSpec",
    "Stored",
    "Submission",
    "Target",
    "active_campaign",
    "cached_target",
    "campaigns_for",
    "desk_by_token",
    "form_spec",
    "issue_nonce",
    "link_for",
    "link_is_wellformed",
    "linked_rating",
    "nonce_is_valid",
    "remember_target",
    "store",
    "today",
]
