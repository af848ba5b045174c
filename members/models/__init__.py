from .accounts import ODS_PRACTICE_CODE, CareBoard, Profile, User, UserManager
from .audit import AuditEntry
from .membership import Grade, Membership, MembershipNotice, MembershipPeriod
from .payments import Payment, PaymentNotice, Refund, StripeEvent
from .privacy import DataExport, ErasureRequest

__all__ = [
    "ODS_PRACTICE_CODE",
    "AuditEntry",
    "CareBoard",
    "DataExport",
    "ErasureRequest",
    "Grade",
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
