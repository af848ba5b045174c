"""Renewal reminders for organisation memberships, to the organisation's
administrators (never to each seat holder: the organisation renews).

A year due a reminder is one that is active, ends inside the window and
has not been renewed. Each reminder is recorded once per (year, kind)
before it is queued, so the sweep can run twice or on two workers.
"""

import datetime

from django.db.models import Exists, OuterRef
from django.utils import timezone

from igpm.emails import email_build
from igpm.notices import notices_record, recorded_notices_send
from members.billing.services.notices import RENEWAL_WINDOWS
from members.models import AutoRenewal, OrganisationMembership, OrganisationNotice, User

Kind = OrganisationNotice.Kind


def organisation_notices_sweep(*, today: datetime.date | None = None, enqueue=None) -> dict:
    if enqueue is None:
        from .tasks import organisation_notices_send_task

        def enqueue(ids: list[int]) -> None:
            organisation_notices_send_task.delay(ids)

    today = today or timezone.localdate()
    renewed = OrganisationMembership.objects.filter(
        renews=OuterRef("pk"), status=OrganisationMembership.Status.ACTIVE
    )
    current = OrganisationMembership.objects.filter(
        status=OrganisationMembership.Status.ACTIVE
    ).filter(~Exists(renewed))
    counts = {}
    for kind, (start, end) in RENEWAL_WINDOWS.items():
        due = current.filter(
            ends_on__gte=today + datetime.timedelta(days=start),
            ends_on__lte=today + datetime.timedelta(days=end),
        )
        counts[kind] = 0
        for batch in notices_record(due, OrganisationNotice, "organisation_membership_id", kind):
            enqueue([notice_id for notice_id, _ in batch])
            counts[kind] += len(batch)
    return counts


def organisation_notices_send(*, notice_ids: list[int]) -> int:
    def build(notice: OrganisationNotice, smtp):
        year = notice.organisation_membership
        to = list(
            User.objects.filter(organisation_roles__account_id=year.account_id)
            .order_by("pk")
            .values_list("email", flat=True)
        )
        # Seats that renew automatically are told so, not "renew now".
        collecting = (
            AutoRenewal.objects.filter(
                organisation_account_id=year.account_id,
                status__in=[AutoRenewal.Status.ACTIVE, AutoRenewal.Status.PAST_DUE],
            )
            .order_by("-pk")
            .first()
        )
        return email_build(
            to=to,
            template="members/email/organisation_renewal",
            context={
                "year": year,
                "account": year.account,
                "kind": notice.kind,
                "auto_renewal": collecting,
            },
            connection=smtp,
        )

    return recorded_notices_send(
        OrganisationNotice.objects.select_related(
            "organisation_membership__account", "organisation_membership__grade"
        ),
        notice_ids,
        build,
    )
