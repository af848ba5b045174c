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
            .select_related(
                "auto_renewal__membership__user",
                "auto_renewal__grade",
                "auto_renewal__organisation_account",
            )
            .filter(pk=notice_id, sent_at__isnull=True)
            .first()
        )
        if notice is None:
            return False
        renewal = notice.auto_renewal
        membership = renewal.membership
        context = {
            "notice": notice,
            "renewal": renewal,
            "membership": membership,
            # What is renewed, as the email names it.
            "renewed": (
                f"{renewal.grade.name} membership ({membership.number})"
                if membership is not None
                else f"{renewal.organisation_account.name} organisation membership"
            ),
            "amount": _pence(notice.amount_pence or renewal.next_amount_pence or 0),
            "stop_path": reverse("members:auto_renewal_stop_link", args=[stop_token(renewal)]),
            # Where to pay once instead: the member's pay page, or the
            # organisation's account page for its administrators.
            "pay_path": (
                reverse("members:pay")
                if membership is not None
                else reverse("members:organisation", args=[renewal.organisation_account_id])
            ),
            # The cooling-off refund not confirmed by Stripe yet.
            "refund_pending": notice.kind == CollectionNotice.Kind.REFUNDED
            and RefundIntent.objects.filter(
                payment__auto_renewal=renewal, owed=True, refund__isnull=True
            ).exists(),
        }
        if membership is None:
            # An organisation's seats: its administrators hear, each by name.
            from members.organisations.auto_renewal import organisation_notice_recipients

            recipients = organisation_notice_recipients(renewal=renewal)
        else:
            recipients = [membership.user] if membership.user.erased_at is None else []
        for user in recipients:
            email_build(
                to=user.email,
                template=f"members/email/collection_{notice.kind}",
                context={**context, "user": user},
            ).send()
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
    return bool(recipients)


def _pence(pence: int) -> str:
    pounds, rest = divmod(pence, 100)
    return f"£{pounds:,}.{rest:02d}"
