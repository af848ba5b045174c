"""Stripe webhook events: verified, stored once, acted on only when the
payment's state allows it."""

import logging

from django.db import IntegrityError, transaction

from members import stripe_gateway
from members.models import Payment, StripeEvent

from .payments import payment_close, payment_fulfil

logger = logging.getLogger(__name__)

HANDLED = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
}


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
    commits, then finds it and does nothing.
    """
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
        if event["type"] not in HANDLED:
            return "ignored"
        return _handle(event)


def _handle(event) -> str:
    session_id = event["data"]["object"]["id"]
    payment = Payment.objects.filter(stripe_session_id=session_id).first()
    if payment is None:
        logger.warning("Stripe event %s for unknown session %s", event["id"], session_id)
        return "unknown session"
    # Re-read the session from Stripe: its payment status and amount, not the
    # event's copy of them, decide whether money arrived.
    session = stripe_gateway.checkout_session_retrieve(session_id)
    if event["type"] == "checkout.session.async_payment_failed":
        changed = payment_close(payment_id=payment.pk, status="failed", actor_label="stripe")
        return "failed" if changed else "no change"
    if event["type"] == "checkout.session.expired":
        if session.payment_status == "paid":
            return _fulfil(payment, session)
        changed = payment_close(payment_id=payment.pk, status="expired", actor_label="stripe")
        return "expired" if changed else "no change"
    if session.payment_status != "paid":
        return "not paid yet"
    return _fulfil(payment, session)


def _fulfil(payment: Payment, session: stripe_gateway.CheckoutSession) -> str:
    if session.amount_total != payment.amount_pence or session.currency != "gbp":
        logger.error(
            "Stripe session %s paid %s %s for payment %s of %s gbp; not fulfilled",
            session.id,
            session.amount_total,
            session.currency,
            payment.pk,
            payment.amount_pence,
        )
        return "amount mismatch"
    if session.payment_intent:
        Payment.objects.filter(pk=payment.pk).update(
            stripe_payment_intent_id=session.payment_intent
        )
    done = payment_fulfil(payment_id=payment.pk, actor_label="stripe")
    return "fulfilled" if done else "no change"
