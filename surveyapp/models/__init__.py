"""Typed SQLAlchemy 2.0 models, one module per aggregate."""

from surveyapp.models.alerts import (
    AlertKind,
    AlertNotification,
    AlertRecipient,
    DeskAlert,
    DeskAlertState,
    NotificationStatus,
    RecipientScope,
    UnitAlertState,
)
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
from surveyapp.models.comments import CommentState
from surveyapp.models.entry import Keying
from surveyapp.models.invitations import Invitation
from surveyapp.models.margins import MarginVariable, PopulationMargin
from surveyapp.models.official import OfficialIndex, OfficialResult, ResultKind
from surveyapp.models.officials import OfficialAgency, OfficialInvitee
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
    RespondentType,
    Section,
    text_in,
)
from surveyapp.models.receipts import ReceiptCode
from surveyapp.models.regions import UnitRegion
from surveyapp.models.responses import Answer, Response, ResponseBits, ResponseStatus
from surveyapp.models.sae import AreaCovariate
from surveyapp.models.sampling import (
    Batch,
    Form,
    FormFate,
    Household,
    SampleDraw,
    SampledUnit,
)
from surveyapp.models.tallies import TallyCell, TallyJournal, TallyMember
from surveyapp.models.units import (
    ServicePoint,
    TransactionVolume,
    Unit,
    UnitCrosswalk,
    UnitLevel,
)
from surveyapp.models.users import ApiToken, Role, User

__all__ = [
    "AggregationRule",
    "AlertKind",
    "AlertNotification",
    "AlertRecipient",
    "Answer",
    "ApiToken",
    "AreaCovariate",
    "AuditLog",
    "Base",
    "Batch",
    "Campaign",
    "CampaignChannel",
    "CampaignPeriod",
    "CampaignStatus",
    "Channel",
    "CommentState",
    "DeskAlert",
    "DeskAlertState",
    "Form",
    "FormFate",
    "Household",
    "IndexLevel",
    "IndexNode",
    "IndexPart",
    "Invitation",
    "Keying",
    "MarginVariable",
    "NotificationStatus",
    "OfficialAgency",
    "OfficialIndex",
    "OfficialInvitee",
    "OfficialResult",
    "Option",
    "OptionSet",
    "PopulationMargin",
    "Question",
    "QuestionType",
    "Questionnaire",
    "ReceiptCode",
    "RecipientScope",
    "RespondentType",
    "Response",
    "ResponseBits",
    "ResponseStatus",
    "ResultKind",
    "Role",
    "SampleDraw",
    "SampledUnit",
    "Section",
    "ServicePoint",
    "TallyCell",
    "TallyJournal",
    "TallyMember",
    "Target",
    "TransactionVolume",
    "Unit",
    "UnitAlertState",
    "UnitCrosswalk",
    "UnitLevel",
    "UnitRegion",
    "User",
    "text_in",
]
