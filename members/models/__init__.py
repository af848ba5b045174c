from members.privacy.models import DataExport, ErasureRequest

from .accounts import ODS_PRACTICE_CODE, CareBoard, Profile, User, UserManager
from .audit import AuditEntry
from .membership import Grade, Membership, MembershipNotice, MembershipPeriod
from .payments import InvoiceEmail, Payment, PaymentNotice, Refund, StripeEvent

__all__ = [
    "ODS_PRACTICE_CODE",
    "AuditEntry",
    "CareBoard",
    "DataExport",
    "ErasureRequest",
    "Grade",
    "InvoiceEmail",
    "Membership",
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
