"""The daily membership sweep: grace and lapse, then reminders and notices.

Work goes in batches of ``BATCH`` rows, a fixed number of queries per batch
however many memberships there are. Each notice is recorded (unique per
period and kind) before anything is queued, and the queueing happens after
the rows are committed, never inside an open transaction.
"""

import datetime
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from igpm.emails import email_build
from igpm.notices import BATCH, notices_record, notices_requeue_unsent, recorded_notices_send
from members.audit import audit_fields
from members.models import AuditEntry, Membership, MembershipNotice, MembershipPeriod, User

from .membership import GRACE_DAYS

logger = logging.getLogger(__name__)

Kind = MembershipNotice.Kind
Status = Membership.Status

# Reminder kind: (status the membership is in, days until expiry from, to).
RENEWAL_WINDOWS = {
    Kind.RENEWAL_60: (31, 60),
    Kind.RENEWAL_30: (8, 30),
    Kind.RENEWAL_7: (0, 7),
}
# Lapsed notices go only to recent lapses, not to every old record.
LAPSED_NOTICE_WITHIN_DAYS = 60


@dataclass
class SweepResult:
    to_grace: int = 0
    to_lapsed: int = 0
    notices: dict[str, int] = field(default_factory=dict)
    requeued: int = 0


def notices_sweep(*, today: datetime.date | None = None, enqueue=None) -> SweepResult:
    """Move expired memberships on, then record and queue due notices.

    ``enqueue`` takes a list of notice ids; by default it queues the Celery
    send task. Safe to run twice, or on two workers at once.
    """
    if enqueue is None:
        from members.billing.tasks import membership_notices_send_task

        def enqueue(ids: list[int]) -> None:
            membership_notices_send_task.delay(ids)

    today = today or timezone.localdate()
    result = SweepResult()
    grace_start = today - datetime.timedelta(days=GRACE_DAYS)
    result.to_grace = _transition(
        Membership.objects.filter(
            status=Status.ACTIVE, expires_on__lt=today, expires_on__gte=grace_start
        ),
        Status.IN_GRACE,
    )
    result.to_lapsed = _transition(
        Membership.objects.filter(
            status__in=[Status.ACTIVE, Status.IN_GRACE], expires_on__lt=grace_start
        ),
        Status.LAPSED,
    )
    for kind, (start, end) in RENEWAL_WINDOWS.items():
        # A seat's year is renewed by its organisation, whose
        # administrators are reminded instead (members/organisations).
        due = _current_periods(Status.ACTIVE).filter(
            ends_on__gte=today + datetime.timedelta(days=start),
            ends_on__lte=today + datetime.timedelta(days=end),
            seat_holding__isnull=True,
        )
        result.notices[kind] = _record_and_queue(due, kind, enqueue)
    result.notices[Kind.EXPIRED] = _record_and_queue(
        _current_periods(Status.IN_GRACE), Kind.EXPIRED, enqueue
    )
    lapsed_since = today - datetime.timedelta(days=GRACE_DAYS + LAPSED_NOTICE_WITHIN_DAYS)
    result.notices[Kind.LAPSED] = _record_and_queue(
        _current_periods(Status.LAPSED).filter(ends_on__gte=lapsed_since), Kind.LAPSED, enqueue
    )
    result.requeued = _requeue_unsent(enqueue)
    return result


def _transition(candidates, to_status: str) -> int:
    """Change ``candidates`` to ``to_status`` a batch at a time, auditing
    each. Rows another sweep holds are skipped; it will do them."""
    moved = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(
                candidates.filter(pk__gt=last_pk)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")
                .values_list("pk", "status", "user_id")[:BATCH]
            )
            if not batch:
                return moved
            Membership.objects.filter(pk__in=[pk for pk, _, _ in batch]).update(
                status=to_status, updated_at=timezone.now()
            )
            AuditEntry.objects.bulk_create(
                AuditEntry(
                    **audit_fields(
                        actor=None,
                        subject=User(pk=user_id),
                        target=Membership(pk=pk),
                        action="status_changed",
                        from_state=status,
                        to_state=to_status,
                    )
                )
                for pk, status, user_id in batch
            )
        moved += len(batch)
        last_pk = batch[-1][0]


def _current_periods(status: str):
    """Each membership's latest period, for memberships in ``status``."""
    return MembershipPeriod.objects.filter(
        membership__status=status, ends_on=F("membership__expires_on")
    )


def _record_and_queue(periods, kind: str, enqueue) -> int:
    recorded = 0
    for batch in notices_record(periods, MembershipNotice, "period_id", kind):
        enqueue([notice_id for notice_id, _ in batch])
        recorded += len(batch)
    return recorded


def _requeue_unsent(enqueue) -> int:
    return notices_requeue_unsent(MembershipNotice, enqueue)


def notices_send(*, notice_ids: list[int]) -> int:
    def build(notice: MembershipNotice, smtp):
        membership = notice.period.membership
        return email_build(
            to=membership.user.email,
            template=f"members/email/notice_{notice.kind}",
            context={"membership": membership, "period": notice.period},
            connection=smtp,
        )

    return recorded_notices_send(
        MembershipNotice.objects.select_related(
            "period__membership__user", "period__membership__grade"
        ),
        notice_ids,
        build,
    )
