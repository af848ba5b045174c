from members.billing.models import (
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
    "CareBoard",
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
