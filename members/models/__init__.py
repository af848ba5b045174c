from members.billing.models import (
    AutoRenewal,
    CollectionNotice,
    Grade,
    InvoiceEmail,
    Membership,
    MembershipNotice,
    MembershipNumberSequence,
    MembershipPeriod,
    Payment,
    PaymentNotice,
    Refund,
    RefundIntent,
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
from members.register_import.models import (
    ClaimInvitation,
    ImportedMember,
    ImportRow,
    RegisterImport,
)

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
    "ClaimInvitation",
    "CollectionNotice",
    "Consultation",
    "ConsultationNotice",
    "DataExport",
    "ErasureRequest",
    "Grade",
    "ImportRow",
    "ImportedMember",
    "InvoiceEmail",
    "Membership",
    "MembershipDay",
    "MembershipFigures",
    "MembershipNotice",
    "MembershipNumberSequence",
    "MembershipPeriod",
    "NHSOrganisation",
    "OdsImport",
    "Payment",
    "PaymentNotice",
    "Profile",
    "Question",
    "Refund",
    "RefundIntent",
    "RegisterImport",
    "ReminderOptOut",
    "Response",
    "StripeEvent",
    "User",
    "UserManager",
]
