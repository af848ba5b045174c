"""The only place that talks to Stripe.

``STRIPE_API_BASE`` points the official client somewhere other than Stripe's
own servers (a local fake in tests and offline demos).
"""

from dataclasses import dataclass

import stripe
from django.conf import settings

from .exceptions import PaymentProviderError


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    payment_status: str
    status: str
    amount_total: int
    currency: str
    payment_intent: str
    client_reference_id: str


def is_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=2,
    )


def _session(obj) -> CheckoutSession:
    obj = obj.to_dict()
    intent = obj.get("payment_intent") or ""
    return CheckoutSession(
        id=obj["id"],
        url=obj.get("url") or "",
        payment_status=obj.get("payment_status") or "",
        status=obj.get("status") or "",
        amount_total=obj.get("amount_total") or 0,
        currency=obj.get("currency") or "",
        payment_intent=intent if isinstance(intent, str) else intent.get("id", ""),
        client_reference_id=obj.get("client_reference_id") or "",
    )


def checkout_session_create(
    *,
    payment_id: int,
    amount_pence: int,
    description: str,
    customer_email: str,
    success_url: str,
    cancel_url: str,
) -> CheckoutSession:
    params = {
        "mode": "payment",
        "client_reference_id": str(payment_id),
        "customer_email": customer_email,
        "metadata": {"payment_id": str(payment_id)},
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "gbp",
                    "unit_amount": amount_pence,
                    "product_data": {"name": description},
                },
            }
        ],
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    try:
        session = _client().v1.checkout.sessions.create(
            params=params, options={"idempotency_key": f"igpm-payment-{payment_id}"}
        )
    except stripe.StripeError as exc:
        raise PaymentProviderError(
            "The card payment service is not answering. Try again in a few "
            "minutes, or pay by invoice."
        ) from exc
    return _session(session)


def checkout_session_retrieve(session_id: str) -> CheckoutSession:
    """Stripe's current view of a session: the webhook's payload is never
    trusted for money."""
    return _session(_client().v1.checkout.sessions.retrieve(session_id))


def event_construct(payload: bytes, signature: str) -> stripe.Event:
    """Verify the signature (and its age) and parse the event.

    Raises ``ValueError`` for a malformed body and
    ``stripe.SignatureVerificationError`` for a bad or stale signature.
    """
    return stripe.Webhook.construct_event(
        payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=300
    )
