from django.conf import settings
from django.db import models
from django.urls import reverse

from .membership import Grade, Membership, format_pence


class Payment(models.Model):
    """Money for one year of membership, by card, invoice or the offline
    test provider. Amounts are integer pence, GBP."""

    class Method(models.TextChoices):
        STRIPE = "stripe", "Card (Stripe)"
        BACS_DEBIT = "bacs_debit", "Direct Debit (Stripe)"
        INVOICE = "invoice", "Invoice"
        OFFLINE = "offline", "Offline test provider"
        # The year an imported member had already paid for before the
        # portal (members/register_import): recorded at no charge, so it
        # adds nothing to the money taken.
        IMPORTED = "imported", "Paid before the portal (imported)"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"
        PARTIALLY_REFUNDED = "partially_refunded", "Partly refunded"
        # Money arrived but bought no year (paid for a superseded payment,
        # the wrong amount, or after erasure): only a paid payment buys one.
        HELD = "held", "Received, not applied"

    class Purpose(models.TextChoices):
        JOIN = "join", "Joining"
        RENEW = "renew", "Renewal"

    # Money that arrives is honoured even if the portal had given up on the
    # payment (a late card or bank confirmation).
    FULFILLABLE = frozenset({Status.PENDING, Status.EXPIRED, Status.CANCELLED})
    # Money that is (still partly) with the IGPM and can be refunded.
    REFUNDABLE = frozenset({Status.PAID, Status.PARTIALLY_REFUNDED, Status.HELD})

    class Attention(models.TextChoices):
        SUPERSEDED = "superseded", "Paid for a cancelled or superseded payment"
        WRONG_AMOUNT = "wrong_amount", "Paid the wrong amount or currency"
        AFTER_ERASURE = "after_erasure", "Paid after the account was erased"
        REFUND_REQUESTED = "refund_requested", "Refund requested"
        DISPUTED = "disputed", "Disputed with the card issuer"
        REFUND_OWED = "refund_owed", "Cooling-off refund owed: Stripe has not made it"
        REFUND_NOT_MADE = "refund_not_made", "Refund asked of Stripe, none made"

    # A person's payment is for their membership; an organisation's is for
    # one organisation year (members/organisations): exactly one of the two.
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="payments", null=True, blank=True
    )
    organisation_membership = models.ForeignKey(
        "members.OrganisationMembership",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments"
    )
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    method = models.CharField(max_length=10, choices=Method.choices)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    amount_pence = models.PositiveIntegerField()
    refunded_pence = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default="gbp", editable=False)
    stripe_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True)
    checkout_url = models.URLField(max_length=1000, blank=True)
    invoice_number = models.CharField(max_length=30, unique=True, null=True, blank=True)
    invoice_organisation = models.CharField("paying organisation", max_length=200, blank=True)
    invoice_purchase_order = models.CharField("purchase order number", max_length=60, blank=True)
    receipt_number = models.CharField(max_length=30, unique=True, null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    receipt_emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Invoices: where the invoice goes, what replaced it, who recorded the
    # money. Which details make a new invoice: see services/invoices.py.
    invoice_address = models.TextField("billing address", blank=True)
    invoice_accounts_email = models.EmailField("accounts email", blank=True)
    invoice_replaced_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    invoice_marked_paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    # --- Card money that needs the membership team (needs-attention queue).
    # Separate from ``status``: a paid payment that bought its year can still
    # be disputed. Blank reason: nothing to look at.
    stripe_charge_id = models.CharField(max_length=255, blank=True, db_index=True)
    received_pence = models.PositiveIntegerField(null=True, blank=True)
    received_currency = models.CharField(max_length=3, blank=True)
    attention_reason = models.CharField(
        max_length=20, choices=Attention.choices, blank=True, db_index=True
    )
    attention_since = models.DateTimeField(null=True, blank=True)
    attention_member_told = models.CharField(max_length=300, blank=True)
    attention_resolved_at = models.DateTimeField(null=True, blank=True)
    attention_resolution = models.TextField(blank=True)
    checkout_started_at = models.DateTimeField(null=True, blank=True)

    # --- Automatic renewal: the Stripe invoice that collected this payment
    # (the guard that one invoice buys at most one year) and the
    # arrangement it came from.
    stripe_invoice_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    auto_renewal = models.ForeignKey(
        "members.AutoRenewal",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
    )
    # Collected by an automatic renewal on its own (a yearly collection),
    # not at set-up: the collection a member may have back in full if they
    # stop within 14 days.
    auto_collected = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(refunded_pence__lte=models.F("amount_pence")),
                name="members_payment_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="paid") | models.Q(paid_at__isnull=False),
                name="members_payment_paid_has_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="held") | models.Q(paid_at__isnull=False),
                name="members_payment_held_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(membership__isnull=False, organisation_membership__isnull=True)
                | models.Q(membership__isnull=True, organisation_membership__isnull=False),
                name="members_payment_for_person_or_organisation",
            ),
            # An organisation year is bought by exactly one paid payment
            # (money held, even once refunded, bought nothing).
            models.UniqueConstraint(
                fields=["organisation_membership"],
                condition=models.Q(status__in=["paid", "partially_refunded"]),
                name="members_payment_one_paid_per_organisation_year",
            ),
        ]
        indexes = [
            models.Index(
                fields=["attention_since"],
                condition=models.Q(attention_resolved_at__isnull=True)
                & ~models.Q(attention_reason=""),
                name="members_payment_attention",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment {self.pk}: {self.amount_display} {self.get_status_display()}"

    def get_absolute_url(self) -> str:
        return reverse("members:payment_detail", args=[self.pk])

    @property
    def amount_display(self) -> str:
        return format_pence(self.amount_pence)

    @property
    def refunded_display(self) -> str:
        return format_pence(self.refunded_pence)

    @property
    def refundable_pence(self) -> int:
        return self.amount_pence - self.refunded_pence

    @property
    def refundable_display(self) -> str:
        return format_pence(self.refundable_pence)

    @property
    def needs_attention(self) -> bool:
        return bool(self.attention_reason) and self.attention_resolved_at is None


class Refund(models.Model):
    """A refund staff have made (in Stripe or by bank) and recorded here."""

    class Effect(models.TextChoices):
        SHORTEN = "shorten", "Remove the year this payment bought"
        END_NOW = "end_now", "End the membership today"
        NONE = "none", "Leave the membership as it is"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_pence = models.PositiveIntegerField()
    reason = models.TextField()
    effect = models.CharField(max_length=10, choices=Effect.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="Empty when Stripe reported a refund made in its dashboard.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set for refunds made through (or reported by) Stripe: the guard
    # against recording one twice when ``charge.refunded`` arrives.
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_pence__gt=0), name="members_refund_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Refund of {self.amount_display} on payment {self.payment_id}"

    @property
    def amount_display(self) -> str:
        return format_pence(self.amount_pence)


class RefundIntent(models.Model):
    """A refund the membership team asked Stripe for, written down before
    Stripe is asked, so when the portal fails after Stripe made the
    refund (the answer lost, the database write failing), Stripe's
    ``charge.refunded`` or the reconciliation job records it with the
    effect staff chose, once. Its id goes in the refund's metadata."""

    class Status(models.TextChoices):
        OPEN = "open", "Asked of Stripe, not yet recorded"
        RECORDED = "recorded", "Recorded"
        NOT_MADE = "not_made", "Stripe made no refund"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refund_intents")
    amount_pence = models.PositiveIntegerField()
    reason = models.TextField()
    effect = models.CharField(max_length=10, choices=Refund.Effect.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # Stripe's idempotency key: the payment, how much of it was refunded
    # before and how much is asked, so the same ask made twice (a double
    # click, a retry after a timeout) is the same refund at Stripe.
    stripe_key = models.CharField(max_length=100, unique=True)
    # Owed to the member (the cooling-off refund on stopping): asked of
    # Stripe again, under the same key, until made or ``asks`` runs out;
    # then it goes to the needs-attention queue.
    owed = models.BooleanField(default=False)
    asks = models.PositiveSmallIntegerField(default=1)
    refund = models.OneToOneField(
        Refund, on_delete=models.PROTECT, related_name="intent", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # One refund through Stripe at a time per payment: a second ask
            # while one is unconfirmed could refund twice.
            models.UniqueConstraint(
                fields=["payment"],
                condition=models.Q(status="open"),
                name="members_refund_intent_one_open",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_pence__gt=0), name="members_refund_intent_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Refund intent {self.pk} on payment {self.payment_id}"


class InvoiceEmail(models.Model):
    """One sending of an invoice by email. Written before it is sent, so a
    task run twice sends nothing twice; sending it again on purpose is a
    new row."""

    class Reason(models.TextChoices):
        ISSUED = "issued", "Issued"
        RESENT = "resent", "Sent again"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="invoice_emails")
    reason = models.CharField(max_length=10, choices=Reason.choices)
    recipients = models.JSONField(default=list)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Invoice {self.payment_id} {self.get_reason_display().lower()}"


class StripeEvent(models.Model):
    """Each Stripe webhook event, stored once: its id is the guard against a
    second delivery."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField()

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class PaymentNotice(models.Model):
    """An email about a payment, recorded before it is sent: one per
    (payment, kind), so a webhook retry or a second sweep sends nothing
    twice."""

    class Kind(models.TextChoices):
        FAILED = "failed", "Card payment failed"
        EXPIRED = "expired", "Checkout expired unpaid"
        HELD = "held", "Money received but not applied"
        CHECKING = "checking", "Payment being checked by the membership team"
        DISPUTE_TEAM = "dispute_team", "Dispute: membership team told"
        REFUNDED = "refunded", "Refund made"

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "kind"], name="members_payment_notice_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for payment {self.payment_id}"
