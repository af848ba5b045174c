from members.billing.models import (
    AutoRenewal,
    CollectionNotice,
    Grade,
    InvoiceEmail,
    Membership,
    MembershipNotice,
    MembershipPeriod,
    Payment,
    PaymentNotice,
    Refund,
    StripeEvent,
)
from members.consultations.models import (
    AnonymousAnswer,
    AnonymousAnswerSet,
    Answer,
    Consultation,
    ConsultationNotice,
    Question,
    ReminderOptOut,
    Response,
)
from members.organisations.models import NHSOrganisation, OdsImport
from members.privacy.models import DataExport, ErasureRequest

from .accounts import ODS_PRACTICE_CODE, CareBoard, Profile, User, UserManager
from .audit import AuditEntry
from .report_summary import MembershipDay, MembershipFigures

__all__ = [
    "ODS_PRACTICE_CODE",
    "AnonymousAnswer",
    "AnonymousAnswerSet",
    "Answer",
    "AuditEntry",
    "AutoRenewal",
    "CareBoard",
    "CollectionNotice",
    "Consultation",
    "ConsultationNotice",
    "DataExport",
    "ErasureRequest",
    "Grade",
    "InvoiceEmail",
    "Membership",
    "MembershipDay",
    "MembershipFigures",
    "MembershipNotice",
    "MembershipPeriod",
    "NHSOrganisation",
    "OdsImport",
    "Payment",
    "PaymentNotice",
    "Profile",
    "Question",
    "Refund",
    "ReminderOptOut",
    "Response",
    "StripeEvent",
    "User",
    "UserManager",
]
