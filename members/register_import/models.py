import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class RegisterImport(models.Model):
    """One uploaded register file, its dry run and its import."""

    class Status(models.TextChoices):
        CHECKING = "checking", "Being checked"
        CHECKED = "checked", "Checked"
        IMPORTING = "importing", "Being imported"
        IMPORTED = "imported", "Imported"
        FAILED = "failed", "Could not be read"
        # The task gave up (a database error past its retries, a crash):
        # staff carry on from where it stopped.
        INTERRUPTED = "interrupted", "Stopped before it finished"

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file_name = models.CharField(max_length=200)
    # The file as uploaded, read by the dry-run task (kept off web nodes'
    # disks); emptied once the rows are stored.
    content = models.BinaryField(editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CHECKING)
    problem = models.TextField(
        blank=True, help_text="Why the file could not be read, or why the work stopped."
    )
    # What an interrupted import was doing (checking or importing), so
    # carrying on starts the same step again.
    interrupted_step = models.CharField(max_length=20, choices=Status.choices, blank=True)
    # When the rows last moved: work with no progress for
    # REGISTER_IMPORT_STALLED_MINUTES is shown as stalled.
    progress_at = models.DateTimeField(null=True, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    done_rows = models.PositiveIntegerField(default=0)
    # Dry run: {"create", "update", "unchanged", "error"};
    # import: {"created", "updated", "unchanged", "left_out", "refused"}.
    check_counts = models.JSONField(default=dict)
    import_counts = models.JSONField(default=dict)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    import_started_at = models.DateTimeField(null=True, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Register import {self.pk} ({self.file_name})"

    def get_absolute_url(self) -> str:
        return reverse("members:staff_register_import", args=[self.pk])

    @property
    def busy(self) -> bool:
        return self.status in (self.Status.CHECKING, self.Status.IMPORTING)

    @property
    def stalled(self) -> bool:
        """Busy, but no row has moved for a while: the task has probably
        died without saying so."""
        if not self.busy:
            return False
        since = self.progress_at or self.import_started_at or self.created_at
        limit = datetime.timedelta(minutes=settings.REGISTER_IMPORT_STALLED_MINUTES)
        return since is not None and timezone.now() - since > limit

    @property
    def can_resume(self) -> bool:
        return self.status == self.Status.INTERRUPTED or self.stalled

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, self.done_rows * 100 // self.total_rows)


class ImportRow(models.Model):
    """One row of a register file, as read, and what the dry run found."""

    class Action(models.TextChoices):
        CREATE = "create", "New member"
        UPDATE = "update", "Update"
        UNCHANGED = "unchanged", "No change"
        ERROR = "error", "Error"

    class Outcome(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        UNCHANGED = "unchanged", "No change"
        LEFT_OUT = "left_out", "Left out"
        REFUSED = "refused", "Refused at import"

    register_import = models.ForeignKey(
        RegisterImport, on_delete=models.CASCADE, related_name="rows"
    )
    # The spreadsheet's own line number: the header is line 1.
    line = models.PositiveIntegerField()
    values = models.JSONField(default=dict)
    action = models.CharField(max_length=10, choices=Action.choices, blank=True)
    errors = models.JSONField(default=list)
    changes = models.JSONField(default=dict)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    # Ticked by staff in the dry-run report: not to be imported.
    left_out = models.BooleanField(default=False)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["register_import", "line"]
        constraints = [
            models.UniqueConstraint(
                fields=["register_import", "line"], name="members_import_row_line_once"
            ),
        ]
        indexes = [models.Index(fields=["register_import", "action", "line"])]

    def __str__(self) -> str:
        return f"Row {self.line} of import {self.register_import_id}"


class ImportedMember(models.Model):
    """A member who came from the register: when they first joined, the
    year that was recorded for them, and whether they claimed the account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="imported"
    )
    first_joined_on = models.DateField()
    # The imported year: while it is still the latest, a corrected file
    # may move its paid-up date.
    period = models.OneToOneField(
        "members.MembershipPeriod", on_delete=models.PROTECT, related_name="+"
    )
    register_import = models.ForeignKey(
        RegisterImport, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Imported member {self.user_id}"


class ClaimInvitation(models.Model):
    """One email inviting an imported member to claim their account,
    written before it is sent. The first is unique per member, so a task
    run twice sends nothing twice; staff resending is a new row."""

    class Reason(models.TextChoices):
        FIRST = "first", "Sent after import"
        RESENT = "resent", "Sent again by staff"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="claim_invitations"
    )
    reason = models.CharField(max_length=10, choices=Reason.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(reason="first"),
                name="members_claim_invitation_first_once",
            ),
        ]

    def __str__(self) -> str:
        return f"Claim invitation {self.pk} for {self.user_id}"
