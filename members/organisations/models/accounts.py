"""Organisation accounts: a practice, PCN, federation or ICB that buys
membership for its managers.

One organisation year (``OrganisationMembership``) is bought by exactly
one paid payment (a partial unique index on ``Payment``); it has a number
of ``Seat`` rows, each held by at most one person at a time
(``SeatHolding``). A holding covers the holder's own ``MembershipPeriod``
(``MembershipPeriod.seat_holding``), so the person keeps their membership
number, profile, CPD and certificates; no two seat periods of one person
overlap (an exclusion constraint on ``MembershipPeriod``).
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from members.billing.models.membership import Grade, format_pence

# Size limits: the most seats one organisation year may have, and the
# most open invitations at once (a pasted mailing list is not a practice).
MAX_SEATS = 200


class OrganisationAccount(models.Model):
    """A paying organisation. Keyed by its ODS code where it has one."""

    class Kind(models.TextChoices):
        PRACTICE = "practice", "GP practice"
        PCN = "pcn", "Primary care network"
        FEDERATION = "federation", "GP federation"
        ICB = "icb", "Integrated care board"
        OTHER = "other", "Other organisation"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    ods_code = models.CharField("ODS code", max_length=10, unique=True, null=True, blank=True)
    nhs_organisation = models.ForeignKey(
        "members.NHSOrganisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
    )
    list_size = models.PositiveIntegerField(
        "registered patients", null=True, blank=True, help_text="Used for banded fees."
    )
    billing_address = models.TextField(blank=True)
    accounts_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(ods_code=""), name="members_orgaccount_ods_code_not_blank"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.ods_code})" if self.ods_code else self.name

    def get_absolute_url(self) -> str:
        return reverse("members:organisation", args=[self.pk])


class OrganisationAdministrator(models.Model):
    """A person (practice manager or partner) who manages an account."""

    account = models.ForeignKey(
        OrganisationAccount, on_delete=models.CASCADE, related_name="administrators"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organisation_roles"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "user"], name="members_orgadmin_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} administers {self.account}"


class OrganisationGrade(models.Model):
    """What an organisation buys: seats holding ``member_grade``, priced
    per seat or by the practice's list size (``OrganisationFeeBand``)."""

    class Pricing(models.TextChoices):
        PER_SEAT = "per_seat", "A fee per seat"
        BANDED = "banded", "A fee per seat by list size"

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=40, unique=True)
    member_grade = models.ForeignKey(
        Grade,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The grade each seat holder holds.",
    )
    pricing = models.CharField(max_length=10, choices=Pricing.choices)
    seat_fee_pence = models.PositiveIntegerField(
        "fee per seat (pence)", null=True, blank=True, help_text="For per-seat pricing."
    )
    is_active = models.BooleanField(default=True)
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(pricing="per_seat") | models.Q(seat_fee_pence__isnull=False),
                name="members_orggrade_per_seat_has_fee",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OrganisationFeeBand(models.Model):
    """For banded pricing: the fee per seat for practices up to a list
    size (the band with no upper limit covers the rest)."""

    grade = models.ForeignKey(OrganisationGrade, on_delete=models.CASCADE, related_name="bands")
    up_to_list_size = models.PositiveIntegerField(null=True, blank=True)
    seat_fee_pence = models.PositiveIntegerField("fee per seat (pence)")

    class Meta:
        ordering = ["grade", models.F("up_to_list_size").asc(nulls_last=True)]
        constraints = [
            models.UniqueConstraint(
                fields=["grade", "up_to_list_size"],
                name="members_orgband_once",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        top = f"up to {self.up_to_list_size:,}" if self.up_to_list_size else "any list size"
        return f"{self.grade}: {top}, {format_pence(self.seat_fee_pence)} a seat"


class OrganisationMembership(models.Model):
    """One year of an organisation's membership, with its seats."""

    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
        ACTIVE = "active", "Active"
        CANCELLED = "cancelled", "Cancelled"

    account = models.ForeignKey(
        OrganisationAccount, on_delete=models.PROTECT, related_name="memberships"
    )
    grade = models.ForeignKey(OrganisationGrade, on_delete=models.PROTECT, related_name="+")
    seats = models.PositiveSmallIntegerField()
    amount_pence = models.PositiveIntegerField()
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.AWAITING_PAYMENT, db_index=True
    )
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True, db_index=True)
    renews = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="renewals"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(seats__gte=1, seats__lte=MAX_SEATS),
                name="members_orgmembership_seats_in_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="active")
                | models.Q(starts_on__isnull=False, ends_on__isnull=False),
                name="members_orgmembership_active_has_dates",
            ),
            # One unpaid order per account: a second tab replaces it.
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status="awaiting_payment"),
                name="members_orgmembership_one_open",
            ),
            # A year is renewed once.
            models.UniqueConstraint(
                fields=["renews"],
                condition=models.Q(status="active"),
                name="members_orgmembership_renewed_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.seats} seats, {self.get_status_display()}"

    @property
    def amount_display(self) -> str:
        return format_pence(self.amount_pence)


class Seat(models.Model):
    """One seat of an organisation year."""

    organisation_membership = models.ForeignKey(
        OrganisationMembership, on_delete=models.PROTECT, related_name="seat_set"
    )
    number = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["organisation_membership", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation_membership", "number"], name="members_seat_number_once"
            ),
        ]

    def __str__(self) -> str:
        return f"Seat {self.number} of {self.organisation_membership}"


class SeatHolding(models.Model):
    """A person holding a seat, from ``starts_on`` until released. The
    holder's ``MembershipPeriod`` for the seat points here."""

    seat = models.ForeignKey(Seat, on_delete=models.PROTECT, related_name="holdings")
    # The seat's year, repeated so the database can refuse a second seat
    # in the same year for one person.
    organisation_membership = models.ForeignKey(
        OrganisationMembership, on_delete=models.PROTECT, related_name="holdings"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="seat_holdings"
    )
    invitation = models.OneToOneField(
        "members.SeatInvitation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="holding",
    )
    starts_on = models.DateField()
    released_on = models.DateField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seat", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["seat"],
                condition=models.Q(released_on__isnull=True),
                name="members_seat_one_holder",
            ),
            models.UniqueConstraint(
                fields=["organisation_membership", "user"],
                condition=models.Q(released_on__isnull=True),
                name="members_seat_one_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.seat}"

    @property
    def is_current(self) -> bool:
        return self.released_on is None


class SeatInvitation(models.Model):
    """An email inviting a manager to take a seat of an organisation year.
    The token is shown only in the email; accepting takes any free seat."""

    organisation_membership = models.ForeignKey(
        OrganisationMembership, on_delete=models.PROTECT, related_name="invitations"
    )
    email = models.EmailField()
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                "organisation_membership",
                models.functions.Lower("email"),
                condition=models.Q(accepted_at__isnull=True, withdrawn_at__isnull=True),
                name="members_seatinvite_one_open_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation for {self.email} to {self.organisation_membership}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.withdrawn_at is None


class OrganisationNotice(models.Model):
    """A renewal reminder to an organisation's administrators, recorded
    once per (year, kind) before it is sent."""

    class Kind(models.TextChoices):
        RENEWAL_60 = "renewal_60", "Renewal reminder, 60 days"
        RENEWAL_30 = "renewal_30", "Renewal reminder, 30 days"
        RENEWAL_7 = "renewal_7", "Renewal reminder, 7 days"

    organisation_membership = models.ForeignKey(
        OrganisationMembership, on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation_membership", "kind"], name="members_orgnotice_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.organisation_membership_id}"
