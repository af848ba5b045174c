"""Automatic renewal: a Stripe Billing subscription that collects a
membership's yearly fee by card or Bacs Direct Debit.

Stripe collects; the portal never stores card or bank details, only what a
member needs to recognise them (a card's brand, last four digits and
expiry; a Direct Debit's mandate reference and the account's last four).
Every field here is a copy of what Stripe last said, re-read from Stripe
before it is written, so the order webhooks arrive in does not matter.
"""

from django.db import models

from .membership import Grade, Membership, format_pence


class AutoRenewal(models.Model):
    """One arrangement to renew a membership automatically, from the
    Checkout that sets it up to the day it ends. A member who stops and
    later starts again has a new row; at most one is live at a time."""

    class Method(models.TextChoices):
        CARD = "card", "Card"
        BACS_DEBIT = "bacs_debit", "Direct Debit"

    class Status(models.TextChoices):
        # Checkout opened, the member has not finished it.
        SETTING_UP = "setting_up", "Being set up"
        # The subscription exists and will collect on ``next_collection_on``.
        ACTIVE = "active", "Renews automatically"
        # A collection failed and Stripe is retrying it.
        PAST_DUE = "past_due", "Collection failed, retrying"
        # The member (or staff) stopped it: no more collections, the paid
        # year runs to its end.
        STOPPING = "stopping", "Stopped, ends at the end of the year"
        # Over: cancelled, retries ended, or Checkout abandoned.
        ENDED = "ended", "Ended"

    LIVE = frozenset({Status.SETTING_UP, Status.ACTIVE, Status.PAST_DUE, Status.STOPPING})

    class Mandate(models.TextChoices):
        NONE = "", "No mandate (card)"
        PENDING = "pending", "Direct Debit being set up"
        ACTIVE = "active", "Direct Debit active"
        INACTIVE = "inactive", "Direct Debit cancelled or failed"

    class EndReason(models.TextChoices):
        NONE = "", "Not ended"
        STOPPED = "stopped", "Stopped by the member or staff"
        RETRIES_ENDED = "retries_ended", "Collection failed and retries ended"
        MANDATE_REVOKED = "mandate_revoked", "Direct Debit mandate cancelled"
        ABANDONED = "abandoned", "Set-up not finished"
        MEMBERSHIP_ENDED = "membership_ended", "Membership ended"

    # What is renewed: a person's membership, or an organisation's seats
    # (its next year on the same grade and number of seats,
    # members/organisations/auto_renewal.py). Exactly one of the two.
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="auto_renewals", null=True, blank=True
    )
    organisation_account = models.ForeignKey(
        "members.OrganisationAccount",
        on_delete=models.PROTECT,
        related_name="auto_renewals",
        null=True,
        blank=True,
    )
    # The organisation administrator who set it up (an organisation's
    # renewals name them in the audit trail).
    started_by = models.ForeignKey(
        "members.User", on_delete=models.SET_NULL, related_name="+", null=True, blank=True
    )
    method = models.CharField(max_length=12, choices=Method.choices)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.SETTING_UP, db_index=True
    )
    mandate_status = models.CharField(
        max_length=10, choices=Mandate.choices, blank=True, default=Mandate.NONE
    )
    # The grade (and so the yearly price) the subscription collects for.
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+")

    stripe_customer_id = models.CharField(max_length=255, blank=True)
    stripe_checkout_session_id = models.CharField(
        max_length=255, unique=True, null=True, blank=True
    )
    checkout_url = models.URLField(max_length=1000, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_price_id = models.CharField(max_length=255, blank=True)
    stripe_mandate_id = models.CharField(max_length=255, blank=True)
    # The payment method the subscription collects with (what a Bacs
    # mandate belongs to).
    stripe_payment_method_id = models.CharField(max_length=255, blank=True, db_index=True)

    # The next automatic collection: when, and how much at the grade's fee.
    next_collection_on = models.DateField(null=True, blank=True, db_index=True)
    next_amount_pence = models.PositiveIntegerField(null=True, blank=True)

    # What the member sees to recognise how they pay. Never a full number.
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    card_exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    card_exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    mandate_reference = models.CharField(max_length=40, blank=True)
    bank_last4 = models.CharField(max_length=4, blank=True)

    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_failure_message = models.CharField(max_length=300, blank=True)

    stopped_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(
        max_length=20, choices=EndReason.choices, blank=True, default=EndReason.NONE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership"],
                condition=~models.Q(status="ended"),
                name="members_one_live_auto_renewal",
            ),
            models.UniqueConstraint(
                fields=["organisation_account"],
                condition=~models.Q(status="ended"),
                name="members_one_live_organisation_auto_renewal",
            ),
            models.CheckConstraint(
                condition=models.Q(membership__isnull=False, organisation_account__isnull=True)
                | models.Q(membership__isnull=True, organisation_account__isnull=False),
                name="members_auto_renewal_renews_one_thing",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="ended") | models.Q(ended_at__isnull=False),
                name="members_auto_renewal_ended_has_time",
            ),
        ]

    def __str__(self) -> str:
        if self.organisation_account_id:
            account = self.organisation_account_id
            return f"{self.get_method_display()} renewal for organisation {account}"
        return f"{self.get_method_display()} renewal for membership {self.membership_id}"

    @property
    def for_organisation(self) -> bool:
        return self.organisation_account_id is not None

    @property
    def audit_subject(self):
        """Whom the audit trail files this renewal's changes under: the
        member, or the administrator who set up an organisation's."""
        if self.membership_id is not None:
            return self.membership.user
        return self.started_by

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE

    @property
    def collects(self) -> bool:
        """Whether another collection is coming."""
        return self.status in (self.Status.ACTIVE, self.Status.PAST_DUE)

    @property
    def next_amount_display(self) -> str:
        return format_pence(self.next_amount_pence or 0)


class CollectionNotice(models.Model):
    """An email about one automatic collection, recorded before it is sent:
    one per (renewal, kind, collection date, attempt), so however often
    Stripe sends ``invoice.upcoming`` or ``invoice.payment_failed`` the
    member hears once."""

    class Kind(models.TextChoices):
        UPCOMING = "upcoming", "Collection coming up"
        FAILED = "failed", "Collection failed"
        RETRIES_ENDED = "retries_ended", "Collection failed for the last time"
        MANDATE_FAILED = "mandate_failed", "Direct Debit mandate cancelled or failed"
        STOPPED = "stopped", "Automatic renewal stopped"
        REFUNDED = "refunded", "Automatic renewal refunded"

    auto_renewal = models.ForeignKey(AutoRenewal, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    collection_on = models.DateField(null=True, blank=True)
    attempt = models.PositiveSmallIntegerField(default=0)
    amount_pence = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["auto_renewal", "kind", "collection_on", "attempt"],
                nulls_distinct=False,
                name="members_collection_notice_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for renewal {self.auto_renewal_id}"
