import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

# Upper case without the characters people misread at a door (0/O, 1/I/L):
# a check-in code is read aloud, typed on a phone and printed on a ticket.
CHECKIN_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CHECKIN_LENGTH = 8


def new_code() -> str:
    """Kept for migration 0001, which names it as a default."""
    return secrets.token_urlsafe(12)


def new_manage_token() -> str:
    return secrets.token_urlsafe(24)


def new_checkin_code() -> str:
    return "".join(secrets.choice(CHECKIN_ALPHABET) for _ in range(CHECKIN_LENGTH))


def normalise_checkin_code(value: str) -> str:
    """What door staff type, as stored: spaces and hyphens people add for
    readability dropped, lower case raised. Anything that cannot be a code
    gives "", which matches nothing."""
    code = "".join(ch for ch in value.upper() if not ch.isspace() and ch != "-")
    if len(code) != CHECKIN_LENGTH or not set(code) <= set(CHECKIN_ALPHABET):
        return ""
    return code


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Event(models.Model):
    """An IGPM event, or a local event hosted for an umbrella such as
    National Practice Manager Day."""

    class Type(models.TextChoices):
        NPM_DAY = "npm_day", "National Practice Manager Day"
        WEBINAR = "webinar", "Webinar"
        REGIONAL = "regional", "Regional meeting"
        CONFERENCE = "conference", "Conference"
        TRAINING = "training", "Training"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        CANCELLED = "cancelled", "Cancelled"

    class HostType(models.TextChoices):
        IGPM = "igpm", "IGPM"
        ICB = "icb", "An ICB"
        PRACTICE = "practice", "A practice"
        FEDERATION = "federation", "A federation"

    class Region(models.TextChoices):
        NATIONAL = "national", "National or online"
        NE_YORKS = "ne_yorkshire", "North East and Yorkshire"
        NORTH_WEST = "north_west", "North West"
        MIDLANDS = "midlands", "Midlands"
        EAST = "east", "East of England"
        LONDON = "london", "London"
        SOUTH_EAST = "south_east", "South East"
        SOUTH_WEST = "south_west", "South West"
        WALES = "wales", "Wales"
        SCOTLAND = "scotland", "Scotland"
        NORTHERN_IRELAND = "northern_ireland", "Northern Ireland"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    type = models.CharField(max_length=20, choices=Type.choices)
    umbrella = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="local_events",
        help_text="For a local celebration: the national day it is part of.",
    )
    summary = models.CharField(max_length=300)
    description = models.TextField()
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    is_online = models.BooleanField(default=False)
    venue = models.TextField("venue address", blank=True)
    joining_link = models.URLField(
        max_length=500,
        blank=True,
        help_text="Shown only to people with a confirmed place, on their "
        "registration page and in their emails.",
    )
    capacity = models.PositiveIntegerField(help_text="Places available.")
    registration_opens_at = models.DateTimeField()
    registration_closes_at = models.DateTimeField()
    members_only = models.BooleanField(default=False)
    host_type = models.CharField(max_length=20, choices=HostType.choices, default=HostType.IGPM)
    host_name = models.CharField(max_length=200, default="IGPM")
    region = models.CharField(max_length=20, choices=Region.choices, default=Region.NATIONAL)
    cpd_hours = models.DecimalField(max_digits=4, decimal_places=1, default=0)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        permissions = [("run_events", "Can run events: attendee lists, check-in, cancellation")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=models.F("starts_at")),
                name="events_event_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(registration_closes_at__gte=models.F("registration_opens_at")),
                name="events_event_registration_window",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:detail", args=[self.slug])


class Registration(models.Model):
    """A place at an event, a place on its waiting list, or a request that
    waits for its email address to be confirmed."""

    class Status(models.TextChoices):
        UNCONFIRMED = "unconfirmed", "Email not yet confirmed"
        CONFIRMED = "confirmed", "Confirmed"
        WAITING = "waiting", "On the waiting list"
        OFFERED = "offered", "Offered a place"
        CANCELLED = "cancelled", "Cancelled"

    # Statuses that hold one of the event's places.
    HOLDS_PLACE = frozenset({Status.CONFIRMED, Status.OFFERED})
    # Statuses that hold a place or a place in the queue: one such row per
    # address per event. An unconfirmed request holds nothing.
    LIVE = frozenset({Status.CONFIRMED, Status.OFFERED, Status.WAITING})

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="registrations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="registrations",
    )
    name = models.CharField(max_length=200)
    email = models.EmailField()
    organisation = models.CharField(max_length=200)
    role = models.CharField(max_length=120)
    access_requirements = models.TextField(blank=True)
    dietary_requirements = models.TextField(blank=True)
    status = models.CharField(max_length=15, choices=Status.choices, db_index=True)
    # The private key to the registration's own page (cancel, accept an
    # offer, the joining link): only ever in emails to the registrant.
    manage_token = models.CharField(max_length=64, unique=True, default=new_manage_token)
    # Printed on the ticket and read by door staff; it opens nothing.
    checkin_code = models.CharField(
        max_length=CHECKIN_LENGTH, unique=True, default=new_checkin_code
    )
    # SHA-256 of the single-use token in a visitor's confirmation email; the
    # token itself is never stored. Cleared once used.
    confirm_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    confirm_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    # Set when the person's details were removed: a visitor's after the
    # retention period, a member's when their account was erased.
    anonymised_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            # A signed-in person's registrations made for their address
            # (events.signed_in, on every signed-in request).
            models.Index(fields=["email"], name="events_registration_email"),
        ]
        constraints = [
            # One place, or place in the queue, per person per event.
            models.UniqueConstraint(
                fields=["event", "email"],
                condition=Q(status__in=["confirmed", "offered", "waiting"]),
                name="events_one_live_registration_per_email",
            ),
            # One request waiting for its address to be confirmed, too: a
            # new request replaces the old one.
            models.UniqueConstraint(
                fields=["event", "email"],
                condition=Q(status="unconfirmed"),
                name="events_one_unconfirmed_registration_per_email",
            ),
            models.CheckConstraint(
                condition=~Q(status="offered") | Q(offer_expires_at__isnull=False),
                name="events_offer_has_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} at {self.event} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("events:registration", args=[self.manage_token])


class RegistrationEmail(models.Model):
    """An email about a registration, recorded before it is sent: the unique
    pair (registration, kind) means it goes once however often it is
    queued."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["registration", "kind"], name="events_email_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to registration {self.registration_id}"
