import datetime
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# UK GDPR gives one month to act on a request; staff are warned before.
ERASURE_WARN_DAYS = 21
ERASURE_DUE_DAYS = 30


def new_token() -> str:
    return secrets.token_urlsafe(32)


def export_path(instance: "DataExport", filename: str) -> str:
    # A random name: the archive is found through its row, never guessed.
    return f"exports/{uuid.uuid4().hex}.zip"


class DataExport(models.Model):
    """A copy of everything the portal holds about a member, asked for by
    them, built by a Celery task and handed out through a link that only
    they can open, for a week."""

    class Status(models.TextChoices):
        PREPARING = "preparing", "Being prepared"
        READY = "ready", "Ready to download"
        EXPIRED = "expired", "Expired"
        FAILED = "failed", "Could not be prepared"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports"
    )
    token = models.CharField(max_length=64, unique=True, default=new_token)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PREPARING, db_index=True
    )
    file = models.FileField(upload_to=export_path, max_length=200, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="preparing"),
                name="members_one_export_in_preparation",
            ),
            models.CheckConstraint(
                condition=~Q(status="ready") | Q(expires_at__isnull=False),
                name="members_export_ready_has_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"Data export {self.pk} ({self.get_status_display()})"

    def downloadable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == self.Status.READY and self.expires_at > now


class ErasureRequest(models.Model):
    """A member's request to have their account erased, and what staff
    decided. Kept after the erasure as the record that it happened; it holds
    nothing personal beyond the link to the anonymised account."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Waiting for staff"
        CANCELLED = "cancelled", "Cancelled by the member"
        COMPLETED = "completed", "Account erased"
        REFUSED = "refused", "Refused"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="erasure_requests"
    )
    requested_at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.REQUESTED, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why the request was refused.")
    # The email telling the member the outcome, recorded once it is sent.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="requested"),
                name="members_one_open_erasure_request",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["requested", "cancelled"]) | Q(decided_at__isnull=False),
                name="members_erasure_decision_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Erasure request {self.pk} ({self.get_status_display()})"

    def age_days(self, now=None) -> int:
        return ((now or timezone.now()) - self.requested_at).days

    @property
    def due_at(self):
        """When the one month to act on the request ends."""
        return self.requested_at + datetime.timedelta(days=ERASURE_DUE_DAYS)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.REQUESTED

    @property
    def due_soon(self) -> bool:
        return self.is_open and ERASURE_WARN_DAYS <= self.age_days() <= ERASURE_DUE_DAYS

    @property
    def overdue(self) -> bool:
        return self.is_open and self.age_days() > ERASURE_DUE_DAYS
