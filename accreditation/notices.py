"""Expiry reminders for accreditation certificates: 90, 30 and 7 days
before a certificate expires, each recorded once before it is sent."""

import datetime

from django.utils import timezone

from igpm.emails import email_build
from igpm.notices import (
    notices_record,
    notices_requeue_unsent,
    recorded_notices_send,
)

from .models import Certificate, CertificateNotice

Kind = CertificateNotice.Kind
WINDOWS = {Kind.EXPIRY_90: (31, 90), Kind.EXPIRY_30: (8, 30), Kind.EXPIRY_7: (0, 7)}


def certificate_notices_sweep(*, today: datetime.date | None = None, enqueue=None) -> dict:
    if enqueue is None:
        from .tasks import certificate_notices_send_task

        def enqueue(ids: list[int]) -> None:
            certificate_notices_send_task.delay(ids)

    today = today or timezone.localdate()
    recorded = {}
    for kind, (start, end) in WINDOWS.items():
        due = Certificate.objects.filter(
            status=Certificate.Status.VALID,
            holder__erased_at__isnull=True,  # an erased account has no address
            expires_on__gte=today + datetime.timedelta(days=start),
            expires_on__lte=today + datetime.timedelta(days=end),
        )
        recorded[kind] = 0
        for batch in notices_record(due, CertificateNotice, "certificate_id", kind):
            enqueue([notice_id for notice_id, _ in batch])
            recorded[kind] += len(batch)
    recorded["requeued"] = notices_requeue_unsent(CertificateNotice, enqueue)
    return recorded


def certificate_notices_send(*, notice_ids: list[int]) -> int:
    def build(notice: CertificateNotice, smtp):
        return email_build(
            to=notice.certificate.holder.email,
            template="accreditation/email/expiry",
            context={"certificate": notice.certificate, "notice": notice},
            connection=smtp,
        )

    return recorded_notices_send(
        CertificateNotice.objects.select_related("certificate__holder", "certificate__pathway"),
        notice_ids,
        build,
    )
