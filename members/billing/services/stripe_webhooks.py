"""Stripe webhook events: verified, stored once, acted on only when the
payment's state allows it."""

import logging

from django.db import IntegrityError, transaction

from members.billing import stripe_gateway
from members.models import Payment, StripeEvent

from .attention import payment_flag
from .auto_renewal_events import EVENTS as AUTO_RENEWAL_EVENTS
from .auto_renewal_events import NotYet as _NotYet
from .auto_renewal_events import auto_renewal_event, subscription_session_event
from .payments import payment_close, payment_fulfil, payment_hold_locked
from .refunds import refund_record

logger = logging.getLogger(__name__)

SESSION_EVENTS = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
}
CHARGE_EVENTS = {"charge.refunded", "charge.dispute.created"}
HANDLED = SESSION_EVENTS | CHARGE_EVENTS | AUTO_RENEWAL_EVENTS


def stripe_event_kept(payload: dict) -> dict:
    """What the portal keeps of an event: its id and type and the id of the
    object it is about. The rest (the customer's name, email address,
    billing details) is personal data the portal does not need: a session
    is always read again from Stripe before anything is done."""
    return {
        "id": payload.get("id"),
        "type": payload.get("type"),
        "data": {"object": {"id": payload.get("data", {}).get("object", {}).get("id")}},
    }


def stripe_event_receive(*, event) -> str:
    """Process one verified event; return what happened, for the log.

    The event row and every change it causes commit together: if anything
    fails, nothing is stored and Stripe's retry starts afresh. A second
    delivery of the same event waits on the unique index until the first
    commits, then finds it and does nothing. An event about a session or
    charge the portal does not know is answered but not stored, so a retry
    after the payment exists still works.
    """
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    StripeEvent.objects.create(
                        event_id=event["id"],
                        type=event["type"],
                        payload=stripe_event_kept(event.to_dict()),
                    )
            except IntegrityError:
                return "duplicate"
            # Anything failing from here rolls the event row back too, so the
            # error reaches Stripe (5xx) and its retry starts afresh.
            if event["type"] in SESSION_EVENTS:
                return _session_event(event)
            if event["type"] in CHARGE_EVENTS:
                return _charge_event(event)
            if event["type"] in AUTO_RENEWAL_EVENTS:
                return auto_renewal_event(event)
            return "ignored"
    except _NotYet as not_yet:
        logger.warning(
            "Stripe event %s (%s): %s %s; not stored",
            event["id"],
            event["type"],
            not_yet.outcome,
            event.to_dict()["data"]["object"].get("id"),
        )
        return not_yet.outcome


def _session_event(event) -> str:
    session_id = event["data"]["object"]["id"]
    payment = Payment.objects.filter(stripe_session_id=session_id).first()
    if payment is None:
        outcome = subscription_session_event(event)
        if outcome is not None:
            return outcome
        raise _NotYet("unknown session")
    # Re-read the session from Stripe: its payment status and amount, not the
    # event's copy of them, decide whether money arrived.
    session = stripe_gateway.checkout_session_retrieve(session_id)
    if event["type"] == "checkout.session.async_payment_failed":
        changed = payment_close(payment_id=payment.pk, status="failed", actor_label="stripe")
        return "failed" if changed else "no change"
    if event["type"] == "checkout.session.expired":
        if session.payment_status == "paid":
            return session_settle(payment=payment, session=session, actor_label="stripe")
        changed = payment_close(payment_id=payment.pk, status="expired", actor_label="stripe")
        return "expired" if changed else "no change"
    if session.payment_status != "paid":
        return "not paid yet"
    return session_settle(payment=payment, session=session, actor_label="stripe")


@transaction.atomic
def session_settle(
    *, payment: Payment, session: stripe_gateway.CheckoutSession, actor_label: str
) -> str:
    """Money arrived in ``session`` (paid, as Stripe itself says) for
    ``payment``: fulfil it, or hold it when the amount or currency is not
    what was asked. The one path for webhooks and reconciliation."""
    if session.payment_intent:
        Payment.objects.filter(pk=payment.pk).update(
            stripe_payment_intent_id=session.payment_intent
        )
    if session.amount_total != payment.amount_pence or session.currency != "gbp":
        locked = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("membership__user")
            .get(pk=payment.pk)
        )
        if locked.status not in Payment.FULFILLABLE:
            return "no change"
        logger.error(
            "Stripe session %s paid %s %s for payment %s of %s gbp; held for the team",
            session.id,
            session.amount_total,
            session.currency,
            payment.pk,
            payment.amount_pence,
        )
        expected = locked.amount_pence
        # The payment records the money actually taken (and so what can be
        # refunded); the fee it should have been is in the audit entry.
        locked.amount_pence = session.amount_total
        locked.save(update_fields=["amount_pence"])
        payment_hold_locked(
            payment=locked,
            reason=Payment.Attention.WRONG_AMOUNT,
            actor_label=actor_label,
            action="payment_received_wrong_amount",
            audit_reason=f"Expected {expected} gbp; Stripe took {session.amount_total} "
            f"{session.currency}.",
            received_pence=session.amount_total,
            received_currency=session.currency,
        )
        return "amount mismatch"
    if not payment_fulfil(payment_id=payment.pk, actor_label=actor_label):
        return "no change"
    # Money for a replaced payment, or after erasure, is held, not applied.
    held = Payment.objects.filter(pk=payment.pk, status=Payment.Status.HELD).exists()
    return "held" if held else "fulfilled"


def _charge_event(event) -> str:
    obj = event.to_dict()["data"]["object"]
    intent = obj.get("payment_intent") or ""
    payment = Payment.objects.filter(stripe_payment_intent_id=intent).first() if intent else None
    if payment is None:
        raise _NotYet("unknown charge")
    charge_id = obj.get("charge") or obj["id"]
    if payment.stripe_charge_id != charge_id:
        Payment.objects.filter(pk=payment.pk).update(stripe_charge_id=charge_id)
    if event["type"] == "charge.dispute.created":
        changed = payment_flag(
            payment_id=payment.pk,
            reason=Payment.Attention.DISPUTED,
            actor=None,
            actor_label="stripe",
            note=f"Dispute {obj['id']}: {obj.get('reason', '')}".strip(),
        )
        return "disputed" if changed else "no change"
    # charge.refunded: the refunds themselves are read from Stripe.
    recorded = 0
    for refund in stripe_gateway.charge_refunds(charge_id):
        if refund.status not in ("succeeded", "pending"):
            continue
        before = payment.refunds.filter(stripe_refund_id=refund.id).exists()
        if not before:
            refund_record(
                payment=payment,
                amount_pence=refund.amount,
                reason="Refunded in Stripe.",
                effect="none",
                by=None,
                stripe_refund_id=refund.id,
                actor_label="stripe",
            )
            recorded += 1
    return f"refunds recorded: {recorded}" if recorded else "no change"
