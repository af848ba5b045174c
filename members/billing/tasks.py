"""Billing's Celery entry points: thin, take ids, safe to run twice.

Each task keeps the name it had in ``members.tasks`` (``name=``), so the
beat schedule and messages queued before a deploy still find it. Celery
discovers only ``members.tasks``, which imports this module."""

from smtplib import SMTPException

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from igpm.emails import email_build
from members.billing import stripe_gateway
from members.exceptions import PaymentProviderError
from members.models import Membership, Payment

from .services.auto_renewal import upcoming_notices_sweep
from .services.auto_renewal_events import auto_renewals_reprice
from .services.card_payments import payment_sessions_expire
from .services.collection_notices import collection_notice_send
from .services.documents import receipt_pdf, receipt_period_start
from .services.invoices import invoice_email_send
from .services.notices import notices_send, notices_sweep
from .services.payment_notices import payment_notice_send
from .services.reconciliation import stripe_reconcile
from .services.stripe_refunds import (
    MAX_ASKS,
    WAITING,
    refund_intent_retry,
    refund_intents_reconcile,
    refund_retry_countdown,
)

RETRY = {"autoretry_for": (SMTPException, OSError), "retry_backoff": True, "max_retries": 5}


@shared_task(name="members.tasks.membership_notices_sweep_task")
def membership_notices_sweep_task() -> dict:
    result = notices_sweep()
    return {"to_grace": result.to_grace, "to_lapsed": result.to_lapsed, **result.notices}


@shared_task(name="members.tasks.membership_notices_send_task", **RETRY)
def membership_notices_send_task(notice_ids: list[int]) -> int:
    return notices_send(notice_ids=notice_ids)


@shared_task(name="members.tasks.payment_receipt_email_task", **RETRY)
def payment_receipt_email_task(payment_id: int) -> bool:
    """Email the receipt once, with the PDF attached."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("membership", "user", "grade", "period")
            .get(pk=payment_id)
        )
        if payment.receipt_emailed_at is not None or payment.paid_at is None:
            return False
        pdf = receipt_pdf(payment=payment)
        email_build(
            to=payment.user.email,
            template="members/email/receipt",
            context={
                "payment": payment,
                "membership": payment.membership,
                "period_start": receipt_period_start(payment=payment),
            },
            attachments=[(f"{payment.receipt_number}.pdf", pdf, "application/pdf")],
        ).send()
        payment.receipt_emailed_at = timezone.now()
        payment.save(update_fields=["receipt_emailed_at"])
    return True


@shared_task(name="members.tasks.invoice_email_task", **RETRY)
def invoice_email_task(send_id: int) -> bool:
    """Email one recorded sending of an invoice, with the PDF attached."""
    return invoice_email_send(send_id=send_id)


@shared_task(name="members.tasks.membership_decision_email_task", **RETRY)
def membership_decision_email_task(membership_id: int, approved: bool, reason: str) -> None:
    membership = Membership.objects.select_related("user", "grade").get(pk=membership_id)
    email_build(
        to=membership.user.email,
        template=f"members/email/decision_{'approved' if approved else 'declined'}",
        context={"membership": membership, "reason": reason},
    ).send()


@shared_task(
    name="members.tasks.checkout_sessions_expire_task",
    autoretry_for=(PaymentProviderError,),
    retry_backoff=True,
    max_retries=8,
)
def checkout_sessions_expire_task(payment_ids: list[int]) -> int:
    """Close the Checkout sessions of replaced card payments at Stripe."""
    return payment_sessions_expire(payment_ids=payment_ids)


@shared_task(name="members.tasks.payment_notice_send_task", **RETRY)
def payment_notice_send_task(notice_id: int) -> bool:
    return payment_notice_send(notice_id=notice_id)


@shared_task(name="members.tasks.stripe_reconcile_task")
def stripe_reconcile_task() -> dict:
    result = stripe_reconcile().as_dict()
    recorded, not_made = refund_intents_reconcile()
    return {**result, "refunds_recorded": recorded, "refunds_not_made": not_made}


@shared_task(name="members.tasks.collection_notice_send_task", **RETRY)
def collection_notice_send_task(notice_id: int) -> bool:
    return collection_notice_send(notice_id=notice_id)


@shared_task(
    name="members.tasks.auto_renewal_checkout_expire_task",
    autoretry_for=(PaymentProviderError,),
    retry_backoff=True,
    max_retries=8,
)
def auto_renewal_checkout_expire_task(session_id: str) -> bool:
    """Close the Checkout page of an automatic renewal that was replaced
    or stopped before it was finished."""
    return stripe_gateway.checkout_session_expire(session_id) is not None


@shared_task(
    name="members.tasks.auto_renewal_subscription_cancel_task",
    autoretry_for=(PaymentProviderError,),
    retry_backoff=True,
    max_retries=8,
)
def auto_renewal_subscription_cancel_task(subscription_id: str) -> bool:
    """End at Stripe a subscription that can collect nothing any more
    (mandate revoked, retries over)."""
    return stripe_gateway.subscription_cancel(subscription_id) is not None


@shared_task(
    name="members.tasks.auto_renewals_reprice_task",
    autoretry_for=(PaymentProviderError,),
    retry_backoff=True,
    max_retries=8,
)
def auto_renewals_reprice_task(grade_id: int) -> int:
    """A grade's fee changed: its subscriptions collect the new fee from
    their next collection."""
    return auto_renewals_reprice(grade_id=grade_id)


@shared_task(name="members.tasks.auto_renewal_notices_sweep_task")
def auto_renewal_notices_sweep_task() -> int:
    """Daily: tell every member whose automatic collection is coming and
    who has not heard about it yet."""
    return upcoming_notices_sweep()


@shared_task(bind=True, name="members.tasks.refund_intent_retry_task", max_retries=MAX_ASKS)
def refund_intent_retry_task(self, intent_id: int) -> str:
    """Ask Stripe again for a refund the portal owes (``MAX_ASKS`` in all,
    then the needs-attention queue); the daily reconciliation is the net."""
    outcome = refund_intent_retry(intent_id=intent_id)
    if outcome == WAITING:
        raise self.retry(countdown=refund_retry_countdown(self.request.retries + 1))
    return outcome
