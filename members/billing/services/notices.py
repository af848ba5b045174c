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
from django.db.models import Exists, F, OuterRef, Subquery, Value
from django.urls import reverse
from django.utils import timezone

from igpm.emails import email_build
from igpm.notices import BATCH, notices_record, notices_requeue_unsent, recorded_notices_send
from members.audit import audit_fields
from members.billing.models.auto_renewal import AutoRenewal
from members.billing.models.membership import format_pence
from members.models import AuditEntry, Membership, MembershipNotice, MembershipPeriod, User

from .auto_renewal import auto_renewals_end_for_memberships, stop_token
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
    # A member whose automatic collection is still under way (a Direct
    # Debit takes days, a card is being retried) has the collection emails;
    # should it end without paying, the next sweep tells them.
    collecting = AutoRenewal.objects.filter(
        membership=OuterRef("membership"),
        status__in=[AutoRenewal.Status.ACTIVE, AutoRenewal.Status.PAST_DUE],
    )
    result.notices[Kind.EXPIRED] = _record_and_queue(
        _current_periods(Status.IN_GRACE).exclude(Exists(collecting)), Kind.EXPIRED, enqueue
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
            rows = candidates.filter(pk__gt=last_pk)
            if to_status == Status.LAPSED:
                # Read in the same query: which of them still renew
                # automatically, so a batch with none costs nothing more.
                rows = rows.annotate(
                    renews=Exists(
                        AutoRenewal.objects.filter(membership=OuterRef("pk")).exclude(
                            status=AutoRenewal.Status.ENDED
                        )
                    )
                )
            else:
                rows = rows.annotate(renews=Value(False))
            batch = list(
                rows.select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")
                .values_list("pk", "status", "user_id", "renews")[:BATCH]
            )
            if not batch:
                return moved
            Membership.objects.filter(pk__in=[pk for pk, _, _, _ in batch]).update(
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
                for pk, status, user_id, _ in batch
            )
            renewing = [pk for pk, _, _, renews in batch if renews]
            if renewing:
                # Lapsed: whatever automatic renewal is left collects no more.
                auto_renewals_end_for_memberships(
                    membership_ids=renewing,
                    actor=None,
                    label="system: membership lapsed",
                    cause="lapsed",
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


# Reminders that, for a membership renewing automatically, say it will renew.
RENEWAL_KINDS = frozenset(RENEWAL_WINDOWS)


@dataclass(frozen=True)
class AutomaticRenewalDue:
    """What a renewal reminder tells a member whose membership renews
    automatically: when, how much, and how it is collected."""

    renews_on: datetime.date
    amount_pence: int
    method: str
    # The signed one-click stop link's key (members:auto_renewal_stop_link).
    stop_token: str

    @property
    def amount_display(self) -> str:
        return format_pence(self.amount_pence)

    @property
    def stop_path(self) -> str:
        return reverse("members:auto_renewal_stop_link", args=[self.stop_token])

    @property
    def by_direct_debit(self) -> bool:
        return self.method == AutoRenewal.Method.BACS_DEBIT


def _with_automatic_renewal(notices):
    """``notices`` with the membership's collecting automatic renewal (its
    next collection date, amount and method) read in the same query, so a
    batch of reminders costs what it did before automatic renewal."""
    collecting = AutoRenewal.objects.filter(
        membership=OuterRef("period__membership"),
        status__in=[AutoRenewal.Status.ACTIVE, AutoRenewal.Status.PAST_DUE],
        next_collection_on__isnull=False,
    ).order_by("-pk")
    return notices.annotate(
        auto_renews_on=Subquery(collecting.values("next_collection_on")[:1]),
        auto_amount_pence=Subquery(collecting.values("next_amount_pence")[:1]),
        auto_method=Subquery(collecting.values("method")[:1]),
        auto_renewal_pk=Subquery(collecting.values("pk")[:1]),
    )


def automatic_renewal_due(notice: MembershipNotice) -> AutomaticRenewalDue | None:
    """For a renewal reminder whose membership renews automatically, what
    to tell the member instead of "renew now"; otherwise None."""
    renews_on = getattr(notice, "auto_renews_on", None)
    if notice.kind not in RENEWAL_KINDS or renews_on is None:
        return None
    membership = notice.period.membership
    amount = getattr(notice, "auto_amount_pence", None)
    return AutomaticRenewalDue(
        renews_on=renews_on,
        amount_pence=membership.grade.annual_fee_pence if amount is None else amount,
        method=notice.auto_method,
        stop_token=stop_token(AutoRenewal(pk=notice.auto_renewal_pk)),
    )


def notices_send(*, notice_ids: list[int]) -> int:
    def build(notice: MembershipNotice, smtp):
        membership = notice.period.membership
        automatic = automatic_renewal_due(notice)
        template = f"members/email/notice_{notice.kind}"
        if automatic is not None:
            template = "members/email/notice_renewal_automatic"
        return email_build(
            to=membership.user.email,
            template=template,
            context={"membership": membership, "period": notice.period, "automatic": automatic},
            connection=smtp,
        )

    return recorded_notices_send(
        _with_automatic_renewal(
            MembershipNotice.objects.select_related(
                "period__membership__user", "period__membership__grade"
            )
        ),
        notice_ids,
        build,
    )
