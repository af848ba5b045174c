import datetime

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.db import models
from django.urls import reverse
from django.utils import timezone

RENEWAL_OPENS_DAYS = 60
GRACE_DAYS = 30


class Grade(models.Model):
    """A membership grade and its annual fee. Staff edit these in the admin."""

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=40, unique=True)
    annual_fee_pence = models.PositiveIntegerField(
        "annual fee (pence)", help_text="In pence: £95.00 is 9500."
    )
    eligibility = models.TextField(help_text="Who the grade is for, in a sentence or two.")
    requires_approval = models.BooleanField(
        default=False, help_text="Staff approve each application before payment."
    )
    post_nominals = models.CharField(max_length=20, blank=True)
    is_active = models.BooleanField(default=True, help_text="Offered to new members.")
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(annual_fee_pence__gte=0), name="members_grade_fee_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def fee_display(self) -> str:
        return format_pence(self.annual_fee_pence)


def format_pence(pence: int) -> str:
    pounds, rest = divmod(pence, 100)
    return f"£{pounds:,}.{rest:02d}"


class Membership(models.Model):
    """A member's continuing relationship with the IGPM: one per person,
    kept across lapses and rejoining, so the number is never reused."""

    class Status(models.TextChoices):
        PENDING_APPROVAL = "pending_approval", "Pending approval"
        AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
        ACTIVE = "active", "Active"
        IN_GRACE = "in_grace", "In grace period"
        LAPSED = "lapsed", "Lapsed"
        CANCELLED = "cancelled", "Cancelled"

    # Counted as members: may use member benefits and are shown as members.
    IN_GOOD_STANDING = frozenset({Status.ACTIVE, Status.IN_GRACE})

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="membership"
    )
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="memberships")
    status = models.CharField(max_length=20, choices=Status.choices, db_index=True)
    number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    expires_on = models.DateField(
        null=True, blank=True, db_index=True, help_text="The last day of the paid-up period."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [
            (
                "manage_memberships",
                "Can approve, mark paid, refund and override memberships",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status__in=["active", "in_grace"])
                | models.Q(expires_on__isnull=False, number__isnull=False),
                name="members_membership_current_has_number_and_expiry",
            ),
        ]
        # The daily sweep looks memberships up by status and expiry date.
        indexes = [models.Index(fields=["status", "expires_on"])]

    def __str__(self) -> str:
        return f"{self.number or 'Membership'} ({self.user}, {self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("members:dashboard")

    @property
    def in_good_standing(self) -> bool:
        return self.status in self.IN_GOOD_STANDING

    @property
    def grace_ends_on(self) -> datetime.date | None:
        if self.expires_on is None:
            return None
        return self.expires_on + datetime.timedelta(days=GRACE_DAYS)

    def renewal_open(self, today: datetime.date | None = None) -> bool:
        """Whether the member may pay for another year now."""
        today = today or timezone.localdate()
        if self.status == self.Status.ACTIVE:
            return (self.expires_on - today).days <= RENEWAL_OPENS_DAYS
        return self.status in (self.Status.IN_GRACE, self.Status.LAPSED)

    @property
    def payable(self) -> bool:
        """Whether a payment now would be for joining or renewing."""
        return self.status == self.Status.AWAITING_PAYMENT or self.renewal_open()


class DateRangeClosed(models.Func):
    """``daterange(starts_on, ends_on, '[]')``: both days included."""

    function = "DATERANGE"
    template = "%(function)s(%(expressions)s, '[]')"
    output_field = DateRangeField()


class MembershipPeriod(models.Model):
    """One paid-up year. Each payment buys exactly one period; a period
    covered by an organisation's seat has its seat holding instead."""

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="periods")
    payment = models.OneToOneField(
        "members.Payment", on_delete=models.PROTECT, related_name="period", null=True, blank=True
    )
    seat_holding = models.OneToOneField(
        "members.SeatHolding",
        on_delete=models.PROTECT,
        related_name="period",
        null=True,
        blank=True,
    )
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+")
    starts_on = models.DateField()
    ends_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["membership", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="members_period_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(payment__isnull=False, seat_holding__isnull=True)
                | models.Q(payment__isnull=True, seat_holding__isnull=False),
                name="members_period_paid_or_seat",
            ),
            # Seats never give one person two memberships for the same day.
            # (Paid periods are a record of what was bought: a refund that
            # ends or shortens a membership leaves them as they were, so
            # seat against paid year is checked under the membership's
            # lock in members/organisations/seats.py.)
            ExclusionConstraint(
                name="members_period_seats_no_overlap",
                expressions=[
                    ("membership", RangeOperators.EQUAL),
                    (DateRangeClosed("starts_on", "ends_on"), RangeOperators.OVERLAPS),
                ],
                condition=models.Q(seat_holding__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["ends_on"])]

    def __str__(self) -> str:
        return f"{self.membership_id}: {self.starts_on} to {self.ends_on}"


class MembershipNotice(models.Model):
    """A renewal reminder or status notice, recorded before it is sent.

    The unique pair (period, kind) is what makes a second sweep, or two
    workers at once, send nothing twice.
    """

    class Kind(models.TextChoices):
        RENEWAL_60 = "renewal_60", "Renewal reminder, 60 days"
        RENEWAL_30 = "renewal_30", "Renewal reminder, 30 days"
        RENEWAL_7 = "renewal_7", "Renewal reminder, 7 days"
        EXPIRED = "expired", "Expired, grace period begins"
        LAPSED = "lapsed", "Lapsed"

    period = models.ForeignKey(MembershipPeriod, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["period", "kind"], name="members_notice_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for period {self.period_id}"
