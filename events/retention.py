"""How long the portal keeps the details of people who registered for an
event without an account, and removing them afterwards.

Visitors give a name, email address, organisation, role and any access or
dietary needs for one event. Once the event is ``EVENTS_VISITOR_RETENTION_DAYS``
in the past those details have done their job: the rows stay (attendance
counts still add up) with the personal fields replaced.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from members.models import AuditEntry

from .models import Registration

BATCH = 1000
RETENTION_DAYS_DEFAULT = 365
ANONYMISED_NAME = "Anonymised attendee"
# A per-row address on a reserved domain (RFC 2606): unique, so the one-live-
# registration-per-email constraint holds, and never deliverable.
ANONYMISED_DOMAIN = "erased.invalid"


def registrations_anonymise(registrations: QuerySet[Registration]) -> int:
    """Replace the personal fields of ``registrations`` in one UPDATE; rows
    already anonymised are left alone. Returns how many changed."""
    return registrations.filter(anonymised_at__isnull=True).update(
        name=ANONYMISED_NAME,
        email=Concat(
            Value("registration-"),
            Cast("pk", output_field=CharField()),
            Value(f"@{ANONYMISED_DOMAIN}"),
            output_field=CharField(),
        ),
        organisation="",
        role="",
        access_requirements="",
        dietary_requirements="",
        anonymised_at=timezone.now(),
        updated_at=timezone.now(),
    )


def visitor_retention_days() -> int:
    return getattr(settings, "EVENTS_VISITOR_RETENTION_DAYS", RETENTION_DAYS_DEFAULT)


def visitor_registrations_anonymise(*, now: datetime.datetime | None = None) -> int:
    """Anonymise visitors' registrations (no account) for events that ended
    more than the retention period ago, a batch at a time; return how many.

    Safe to run twice: anonymised rows are skipped. One audit entry sums up
    a run that changed anything, rather than one per row.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=visitor_retention_days())
    due = Registration.objects.filter(
        user__isnull=True, anonymised_at__isnull=True, event__ends_at__lt=cutoff
    ).order_by("pk")
    total = 0
    last_pk = 0
    while ids := list(due.filter(pk__gt=last_pk).values_list("pk", flat=True)[:BATCH]):
        last_pk = ids[-1]
        with transaction.atomic():
            total += registrations_anonymise(Registration.objects.filter(pk__in=ids))
            # The visitor's own steps (registering, confirming, cancelling)
            # name them by email address in the audit trail. Entries are
            # otherwise never changed; this, like erasure, is the exception,
            # made with update() as save() refuses it.
            AuditEntry.objects.filter(
                target_type=Registration._meta.model_name,
                target_id__in=ids,
                actor__isnull=True,
            ).exclude(actor_label="system").update(actor_label="visitor")
    if total:
        # A summary about many rows: no single target, so target_id is 0.
        AuditEntry.objects.create(
            actor_label="system",
            target_type=Registration._meta.model_name,
            target_id=0,
            action="visitors_anonymised",
            data={"count": total, "events_ended_before": cutoff.isoformat()},
        )
    return total
