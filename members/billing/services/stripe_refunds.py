"""Refunds made through Stripe, safe against the portal failing half-way.

What staff ask for (amount, reason, effect on the membership), and the
cooling-off refund when a member stops automatic renewal, is written down
as a ``RefundIntent`` and committed before Stripe is asked, with the
idempotency key it is asked under; its id goes in the refund's metadata.
So if the portal fails after Stripe made the refund (the answer lost on
the way back, the database write failing), nothing is refunded twice and
nothing is lost:

- staff trying again reuse the open intent, and Stripe answers with the
  refund it made the first time;
- Stripe's ``charge.refunded`` names the intent, and records the refund
  with the effect staff chose (not "leave the membership as it is");
- the daily reconciliation reads the charge's refunds back and does the
  same, or closes an intent Stripe made no refund for.
"""

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from members.billing import stripe_gateway
from members.exceptions import MembershipError, PaymentProviderRefused
from members.models import Payment, PaymentNotice, Refund, RefundIntent, User

from .payments import payment_notice_queue
from .refunds import refund_record

logger = logging.getLogger(__name__)

# An intent younger than this may still be waiting for Stripe's answer:
# reconciliation leaves it alone.
IN_FLIGHT = datetime.timedelta(minutes=10)


@transaction.atomic
def refund_intent_open(
    *, payment: Payment, amount_pence: int, reason: str, effect: str, by: User | None
) -> RefundIntent:
    """Write down the refund staff ask for, or return the unconfirmed one
    for the same amount (a retry after an error)."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    open_one = payment.refund_intents.filter(status=RefundIntent.Status.OPEN).first()
    if open_one is not None:
        if open_one.amount_pence != amount_pence:
            raise MembershipError(
                "A refund of this payment is still being confirmed with Stripe. "
                "Try again in a few minutes."
            )
        return open_one
    key = f"igpm-refund-{payment.pk}-{payment.refunded_pence}-{amount_pence}"
    earlier = RefundIntent.objects.filter(stripe_key=key).first()
    if earlier is not None and earlier.status == RefundIntent.Status.RECORDED:
        # The same ask made from a page that did not yet show the refund:
        # Stripe answers with the refund it made, recorded already.
        return earlier
    if earlier is not None:
        # Stripe made nothing under that key: a new ask, a new key.
        key = f"{key}-{payment.refund_intents.count()}"
    return RefundIntent.objects.create(
        payment=payment,
        amount_pence=amount_pence,
        reason=reason,
        effect=effect,
        requested_by=by,
        stripe_key=key,
    )


def refund_intent_ask(intent: RefundIntent) -> Refund:
    """Ask Stripe for the intent's refund and record it. Stripe saying no
    closes the intent; Stripe not answering leaves it open for a retry or
    for reconciliation."""
    if intent.status == RefundIntent.Status.RECORDED:
        return intent.refund
    try:
        made = stripe_gateway.refund_create(
            payment_intent_id=intent.payment.stripe_payment_intent_id,
            amount_pence=intent.amount_pence,
            key=intent.stripe_key,
            intent_id=intent.pk,
        )
    except PaymentProviderRefused:
        RefundIntent.objects.filter(pk=intent.pk, status=RefundIntent.Status.OPEN).update(
            status=RefundIntent.Status.NOT_MADE, updated_at=timezone.now()
        )
        raise
    return refund_intent_record(intent_id=intent.pk, made=made)


@transaction.atomic
def refund_intent_record(
    *,
    intent_id: int,
    made: stripe_gateway.StripeRefund,
    actor_label: str = "",
    notify: bool = True,
) -> Refund:
    """Record the refund Stripe made for the intent, with the effect staff
    chose; once, whoever (staff, webhook, reconciliation) gets here first.
    ``notify=False``: the caller tells the member its own way."""
    intent = RefundIntent.objects.select_for_update().select_related("payment").get(pk=intent_id)
    if intent.status == RefundIntent.Status.RECORDED:
        return intent.refund
    refund = refund_record(
        payment=intent.payment,
        amount_pence=made.amount,
        reason=intent.reason,
        effect=intent.effect,
        by=intent.requested_by,
        stripe_refund_id=made.id,
        actor_label=actor_label,
    )
    intent.status = RefundIntent.Status.RECORDED
    intent.refund = refund
    intent.save(update_fields=["status", "refund", "updated_at"])
    if notify:
        # One email per payment, whichever refund came first.
        payment_notice_queue(payment=intent.payment, kind=PaymentNotice.Kind.REFUNDED)
    return refund


def refund_intent_of(made: stripe_gateway.StripeRefund) -> RefundIntent | None:
    """The portal's intent a refund at Stripe was made for, if any."""
    if not made.intent_id.isdigit():
        return None
    return RefundIntent.objects.filter(pk=int(made.intent_id)).first()


def refund_intents_reconcile(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Settle every intent left open by a failure: record the refund Stripe
    made for it, or close it when Stripe made none. Returns (recorded, not
    made); a second run changes nothing."""
    now = now or timezone.now()
    recorded = not_made = 0
    stale = RefundIntent.objects.filter(
        status=RefundIntent.Status.OPEN, created_at__lt=now - IN_FLIGHT
    ).select_related("payment")
    for intent in stale:
        payment = intent.payment
        charge = payment.stripe_charge_id or stripe_gateway.payment_intent_charge(
            payment.stripe_payment_intent_id
        )
        made = next(
            (
                r
                for r in (stripe_gateway.charge_refunds(charge) if charge else [])
                if r.intent_id == str(intent.pk) and r.status in ("succeeded", "pending")
            ),
            None,
        )
        if made is not None:
            refund_intent_record(
                intent_id=intent.pk, made=made, actor_label="stripe reconciliation"
            )
            recorded += 1
            logger.warning("Reconciliation: refund intent %s recorded as %s", intent.pk, made.id)
            continue
        RefundIntent.objects.filter(pk=intent.pk, status=RefundIntent.Status.OPEN).update(
            status=RefundIntent.Status.NOT_MADE, updated_at=timezone.now()
        )
        not_made += 1
        logger.warning("Reconciliation: Stripe made no refund for intent %s", intent.pk)
    return recorded, not_made
