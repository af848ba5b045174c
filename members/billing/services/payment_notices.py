"""Emails about a payment (failed, expired, held, being checked, refunded,
disputed), each sent once: recorded as a ``PaymentNotice`` under a unique
constraint before it is queued, marked sent under a lock."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from igpm.emails import email_build
from members.models import PaymentNotice

Kind = PaymentNotice.Kind


def payment_notice_send(*, notice_id: int) -> bool:
    """Send one recorded notice unless it has gone already."""
    with transaction.atomic():
        notice = (
            PaymentNotice.objects.select_for_update(of=("self",))
            .select_related("payment__membership__user", "payment__user", "payment__grade")
            .filter(pk=notice_id, sent_at__isnull=True)
            .first()
        )
        if notice is None:
            return False
        payment = notice.payment
        # An organisation's payment: the administrator who paid it.
        user = payment.membership.user if payment.membership_id else payment.user
        if notice.kind == Kind.DISPUTE_TEAM:
            to = settings.MEMBERSHIP_TEAM_EMAIL
        elif user.erased_at is None:
            to = user.email
        else:
            to = ""
        if to:
            email_build(
                to=to,
                template=f"members/email/payment_{notice.kind}",
                context={"payment": payment, "membership": payment.membership, "user": user},
            ).send()
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
    return bool(to)
