class MembershipError(Exception):
    """A request the membership rules refuse; the message is for the user."""


class IllegalTransition(MembershipError):
    pass


class ProfileIncomplete(MembershipError):
    pass


class PaymentProviderError(MembershipError):
    pass


class PrivacyRequestRefused(MembershipError):
    """A data export or erasure request that cannot go ahead now."""
