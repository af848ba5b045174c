from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """One change that matters: who did what to which record, from what to
    what, and why. Rows are only ever added."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_actions",
    )
    # "system" for scheduled jobs, "stripe" for webhooks; a user's email
    # otherwise, kept even if the account is later removed.
    actor_label = models.CharField(max_length=254)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_timeline",
        help_text="The member the change is about.",
    )
    target_type = models.CharField(max_length=50)
    target_id = models.BigIntegerField()
    action = models.CharField(max_length=50)
    from_state = models.CharField(max_length=50, blank=True)
    to_state = models.CharField(max_length=50, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        change = f" {self.from_state} → {self.to_state}" if self.to_state else ""
        return f"{self.actor_label}: {self.action} {self.target_type} {self.target_id}{change}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit entries cannot be deleted.")

    @property
    def action_display(self) -> str:
        return self.action.replace("_", " ")

    @property
    def from_display(self) -> str:
        return self.from_state.replace("_", " ")

    @property
    def to_display(self) -> str:
        return self.to_state.replace("_", " ")
