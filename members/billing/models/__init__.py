"""Billing's models. They belong to the ``members`` app (its tables, its
migrations, ``members.Payment``) and are re-exported by ``members.models``."""

from .auto_renewal import AutoRenewal, CollectionNotice
from .membership import Grade, Membership, MembershipNotice, MembershipPeriod
from .numbers import MembershipNumberSequence
from .payments import InvoiceEmail, Payment, PaymentNotice, Refund, RefundIntent, StripeEvent

__all__ = [
    "AutoRenewal",
    "CollectionNotice",
    "Grade",
    "InvoiceEmail",
    "Membership",
    "MembershipNotice",
    "MembershipNumberSequence",
    "MembershipPeriod",
    "Payment",
    "PaymentNotice",
    "Refund",
    "RefundIntent",
    "StripeEvent",
]
