"""The audit trail's one way in: every service that changes something that
matters writes its entry with ``audit_record``, in its own transaction."""

from django.db import models

from members.models import AuditEntry, User


def audit_record(**fields) -> AuditEntry:
    """Write one audit entry, in the caller's transaction. Takes the
    arguments of ``audit_fields``."""
    return AuditEntry.objects.create(**audit_fields(**fields))


def audit_fields(
    *,
    actor: User | None,
    target: models.Model,
    action: str,
    subject: User | None = None,
    actor_label: str = "",
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict | None = None,
) -> dict:
    """The columns of an entry, for callers that create many at once."""
    return {
        "actor": actor,
        "actor_label": actor_label or (actor.email if actor else "system"),
        "subject": subject,
        "target_type": target._meta.model_name,
        "target_id": target.pk,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "reason": reason,
        "data": data or {},
    }
