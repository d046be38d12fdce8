"""Typed SQLAlchemy 2.0 models, one module per aggregate."""

from surveyapp.models.audit import AuditLog
from surveyapp.models.base import Base
from surveyapp.models.campaigns import (
    Campaign,
    CampaignChannel,
    CampaignPeriod,
    CampaignStatus,
    Channel,
    Target,
)
from surveyapp.models.invitations import Invitation
from surveyapp.models.questionnaires import (
    AggregationRule,
    IndexLevel,
    IndexNode,
    IndexPart,
    Option,
    OptionSet,
    Question,
    Questionnaire,
    QuestionType,
    Section,
    text_in,
)
from surveyapp.models.receipts import ReceiptCode
from surveyapp.models.responses import Answer, Response, ResponseStatus
from surveyapp.models.units import ServicePoint, TransactionVolume, Unit, UnitLevel
from surveyapp.models.users import ApiToken, Role, User

__all__ = [
    "AggregationRule",
    "Answer",
    "ApiToken",
    "AuditLog",
    "Base",
    "Campaign",
    "CampaignChannel",
    "CampaignPeriod",
    "CampaignStatus",
    "Channel",
    "IndexLevel",
    "IndexNode",
    "IndexPart",
    "Invitation",
    "Option",
    "OptionSet",
    "Question",
    "QuestionType",
    "Questionnaire",
    "ReceiptCode",
    "Response",
    "ResponseStatus",
    "Role",
    "Section",
    "ServicePoint",
    "Target",
    "TransactionVolume",
    "Unit",
    "UnitLevel",
    "User",
    "text_in",
]
