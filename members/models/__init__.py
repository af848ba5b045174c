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
from members.privacy.models import DataExport, ErasureRequest

from .accounts import ODS_PRACTICE_CODE, CareBoard, Profile, User, UserManager
from .audit import AuditEntry
from .report_summary import MembershipDay, MembershipFigures

__all__ = [
    "ODS_PRACTICE_CODE",
    "AuditEntry",
    "CareBoard",
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
    "Refund",
    "StripeEvent",
    "User",
    "UserManager",
]
