"""Every table, imported once so Alembic and ``Base.metadata`` see the whole schema."""

from banso.accounts.models import (
    Account,
    AccountIdentity,
    AccountMerge,
    AccountOwnership,
    Contact,
    LifecycleInterval,
)
from banso.activities.models import Activity
from banso.attendance.models import ProgramEnrolment, ProgramSession
from banso.audit.models import AuditEntry
from banso.campaigns.models import Campaign, CampaignMessage, CampaignRun
from banso.connectors.models import Connection, SyncCursor, SyncRun, WriteBack
from banso.data_versions import DataVersion
from banso.db import Base
from banso.deals.models import Deal
from banso.evaluation.models import QualitativeScore
from banso.expansion.models import Opportunity
from banso.feedback.models import AdvocacyItem, FeedbackAsk, FeedbackRequest
from banso.health.models import CsmPulse, HealthCurrent, HealthOverride
from banso.inapp.models import InappMessage, InappSite
from banso.ingest.models import ImportBatch
from banso.invoices.models import Invoice
from banso.messaging.models import Delivery, OutboxMessage, Suppression
from banso.onboarding.models import OnboardingMilestone
from banso.playbooks.models import (
    AssignmentCursor,
    Cta,
    CtaEvent,
    CtaTask,
    PlaybookFiring,
)
from banso.prediction.models import ChurnScore
from banso.renewals.models import RenewalForecast
from banso.retention.models import ChurnReason
from banso.revenue.cache import ReportCache
from banso.revenue.models import FxRate, Subscription
from banso.segments.models import SegmentEvaluation, SegmentMembership, TouchOverride
from banso.success.models import Handoff, ObjectiveEntry, SuccessObjective
from banso.support.models import Ticket
from banso.surveys.models import SurveyResponse
from banso.team.models import TeamMember
from banso.users.models import ApiToken, SignInThrottle, User, WebSession
from banso.voc.models import SurveyInvitation

__all__ = [
    "Deal",
    "Invoice",
    "Connection",
    "SyncCursor",
    "SyncRun",
    "WriteBack",
    "AdvocacyItem",
    "FeedbackAsk",
    "FeedbackRequest",
    "Account",
    "ApiToken",
    "AccountIdentity",
    "AccountMerge",
    "AccountOwnership",
    "AuditEntry",
    "Campaign",
    "CampaignMessage",
    "CampaignRun",
    "ChurnReason",
    "ChurnScore",
    "Activity",
    "Base",
    "Contact",
    "DataVersion",
    "CsmPulse",
    "FxRate",
    "HealthCurrent",
    "HealthOverride",
    "LifecycleInterval",
    "OnboardingMilestone",
    "ProgramEnrolment",
    "ProgramSession",
    "Opportunity",
    "Handoff",
    "ObjectiveEntry",
    "SuccessObjective",
    "SurveyInvitation",
    "ImportBatch",
    "InappMessage",
    "InappSite",
    "RenewalForecast",
    "ReportCache",
    "SegmentEvaluation",
    "SegmentMembership",
    "Subscription",
    "TouchOverride",
    "SurveyResponse",
    "Ticket",
    "TeamMember",
    "User",
    "SignInThrottle",
    "WebSession",
    "AssignmentCursor",
    "Cta",
    "CtaEvent",
    "CtaTask",
    "Delivery",
    "OutboxMessage",
    "PlaybookFiring",
    "QualitativeScore",
    "Suppression",
]
