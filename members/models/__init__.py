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
from .membership import Grade, Membership, MembershipNotice, MembershipPeriod
from .payments import Payment, Refund, StripeEvent

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
    "Membership",
    "MembershipNotice",
    "MembershipPeriod",
    "Payment",
    "Profile",
    "Question",
    "Refund",
    "ReminderOptOut",
    "Response",
    "StripeEvent",
    "User",
    "UserManager",
]
