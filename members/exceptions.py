class MembershipError(Exception):
    """A request the membership rules refuse; the message is for the user."""


class IllegalTransition(MembershipError):
    pass


class ProfileIncomplete(MembershipError):
    pass


class PaymentProviderError(MembershipError):
    pass


class PaymentProviderRefused(PaymentProviderError):
    """Stripe answered and said no: nothing was made."""


class PrivacyRequestRefused(MembershipError):
    """A data export or erasure request that cannot go ahead now."""


class InvoiceAlreadyPaid(IllegalTransition):
    """A second "mark paid": the message says who recorded it, and when."""


class ConfirmationNeeded(MembershipError):
    """A cancelled invoice is marked paid only after staff confirm it."""
