"""Emails about automatic collections (coming up, failed, retries ended,
Direct Debit failed, stopped, refunded), each sent once: recorded as a
``CollectionNotice`` under a unique constraint before it is queued, marked
sent under a lock."""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from igpm.emails import email_build
from members.models import CollectionNotice, RefundIntent

from .auto_renewal import stop_token


def collection_notice_send(*, notice_id: int) -> bool:
    """Send one recorded notice unless it has gone already."""
    with transaction.atomic():
        notice = (
            CollectionNotice.objects.select_for_update(of=("self",))
            .select_related("auto_renewal__membership__user", "auto_renewal__grade")
            .filter(pk=notice_id, sent_at__isnull=True)
            .first()
        )
        if notice is None:
            return False
        renewal = notice.auto_renewal
        membership = renewal.membership
        user = membership.user
        if user.erased_at is None:
            email_build(
                to=user.email,
                template=f"members/email/collection_{notice.kind}",
                context={
                    "notice": notice,
                    "renewal": renewal,
                    "membership": membership,
                    "user": user,
                    "amount": _pence(notice.amount_pence or renewal.next_amount_pence or 0),
                    # The cooling-off refund not confirmed by Stripe yet.
                    "refund_pending": notice.kind == CollectionNotice.Kind.REFUNDED
                    and RefundIntent.objects.filter(
                        payment__auto_renewal=renewal, owed=True, refund__isnull=True
                    ).exists(),
                    "stop_path": reverse(
                        "members:auto_renewal_stop_link", args=[stop_token(renewal)]
                    ),
                },
            ).send()
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
    return user.erased_at is None


def _pence(pence: int) -> str:
    pounds, rest = divmod(pence, 100)
    return f"£{pounds:,}.{rest:02d}"
