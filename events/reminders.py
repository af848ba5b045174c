"""Reminders before an event and the thank-you after it.

Each email is recorded under (registration, kind) before it is queued, with
``INSERT ... ON CONFLICT DO NOTHING RETURNING``, so a second sweep or a
second worker sends nothing twice.
"""

import datetime

from django.db.models import Q
from django.utils import timezone

from igpm.notices import RESEND_AFTER, notices_record

from .models import Event, Registration, RegistrationEmail

H = datetime.timedelta(hours=1)
D = datetime.timedelta(days=1)
THANK_YOU_WITHIN = datetime.timedelta(days=7)


def _due(now: datetime.datetime) -> dict[str, Q]:
    """Which confirmed registrations each kind of email is due for."""
    starts = "event__starts_at"
    webinar = Q(event__type=Event.Type.WEBINAR)
    return {
        "reminder_7d": Q(**{f"{starts}__gt": now + D, f"{starts}__lte": now + 7 * D}),
        "reminder_1d": Q(**{f"{starts}__gt": now, f"{starts}__lte": now + D})
        & (~webinar | Q(**{f"{starts}__gt": now + H})),
        "reminder_1h": webinar & Q(**{f"{starts}__gt": now, f"{starts}__lte": now + H}),
        "thank_you": Q(
            event__ends_at__lte=now,
            event__ends_at__gt=now - THANK_YOU_WITHIN,
            checked_in_at__isnull=False,
        ),
    }


def event_emails_sweep(*, now: datetime.datetime | None = None, enqueue=None) -> dict[str, int]:
    if enqueue is None:
        from .tasks import registration_email_task

        def enqueue(kind: str, registration_ids: list[int]) -> None:
            for registration_id in registration_ids:
                registration_email_task.delay(registration_id, kind)

    now = now or timezone.now()
    recorded = {}
    for kind, condition in _due(now).items():
        due = Registration.objects.filter(
            condition,
            status=Registration.Status.CONFIRMED,
            event__status=Event.Status.PUBLISHED,
            anonymised_at__isnull=True,
        )
        recorded[kind] = 0
        for batch in notices_record(due, RegistrationEmail, "registration_id", kind):
            enqueue(kind, [registration_id for _, registration_id in batch])
            recorded[kind] += len(batch)
    recorded["requeued"] = _requeue_unsent(enqueue)
    return recorded


def _requeue_unsent(enqueue) -> int:
    """Queue again emails recorded here but still unsent an hour later."""
    stale = (
        RegistrationEmail.objects.filter(
            sent_at__isnull=True,
            created_at__lt=timezone.now() - RESEND_AFTER,
            registration__anonymised_at__isnull=True,
        )
        # Its single-use token was never stored; the visitor registers again.
        .exclude(kind="confirm_email")
        .values_list("kind", "registration_id")
    )
    by_kind: dict[str, list[int]] = {}
    for kind, registration_id in stale.iterator():
        by_kind.setdefault(kind, []).append(registration_id)
    for kind, registration_ids in by_kind.items():
        enqueue(kind, registration_ids)
    return sum(len(ids) for ids in by_kind.values())
