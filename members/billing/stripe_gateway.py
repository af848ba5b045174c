"""The only place that talks to Stripe.

``STRIPE_API_BASE`` points the official client somewhere other than Stripe's
own servers (a local fake in tests and offline demos).

Every call has a short connect and read timeout and a bounded number of
retries (settings ``STRIPE_CONNECT_TIMEOUT``, ``STRIPE_READ_TIMEOUT``,
``STRIPE_MAX_RETRIES``), so the slowest call is ``worst_case_seconds()``;
the web server's worker timeout must be longer than that.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass

import stripe
from django.conf import settings

from members.exceptions import PaymentProviderError


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
    created: int = 0


@dataclass(frozen=True)
class StripeRefund:
    id: str
    amount: int
    status: str


NOT_ANSWERING = (
    "Card payments are not answering at the moment. Try again in a few minutes, or pay by invoice."
)
# The client's longest pause between two attempts (stripe-python doubles
# 0.5 s per retry, at most 5 s, with jitter that only shortens it).
_RETRY_PAUSE_MAX = 5.0


def is_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def worst_case_seconds() -> float:
    """The longest one call can take: every attempt connecting and then
    waiting the full read timeout, with the pauses between attempts."""
    retries = settings.STRIPE_MAX_RETRIES
    attempt = settings.STRIPE_CONNECT_TIMEOUT + settings.STRIPE_READ_TIMEOUT
    pauses = sum(min(0.5 * 2 ** (n - 1), _RETRY_PAUSE_MAX) for n in range(1, retries + 1))
    return attempt * (retries + 1) + pauses


def _client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=settings.STRIPE_MAX_RETRIES,
        http_client=stripe.RequestsClient(
            timeout=(settings.STRIPE_CONNECT_TIMEOUT, settings.STRIPE_READ_TIMEOUT)
        ),
    )


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except stripe.StripeError as exc:
        raise PaymentProviderError(NOT_ANSWERING) from exc


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
        created=obj.get("created") or 0,
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
    session = _call(
        _client().v1.checkout.sessions.create,
        params=params,
        options={"idempotency_key": f"igpm-payment-{payment_id}"},
    )
    return _session(session)


def checkout_session_retrieve(session_id: str) -> CheckoutSession:
    """Stripe's current view of a session: the webhook's payload is never
    trusted for money."""
    return _session(_call(_client().v1.checkout.sessions.retrieve, session_id))


def checkout_session_expire(session_id: str) -> CheckoutSession | None:
    """Close an open session so it can no longer be paid. None when Stripe
    says it is not open any more (paid, or already expired)."""
    try:
        return _session(_client().v1.checkout.sessions.expire(session_id))
    except stripe.InvalidRequestError:
        return None
    except stripe.StripeError as exc:
        raise PaymentProviderError(NOT_ANSWERING) from exc


def checkout_sessions_since(created_gte: int, *, page_size: int = 100) -> Iterator[list]:
    """Every Checkout session created at or after ``created_gte`` (a Unix
    time), newest first, one page (a list of sessions) at a time."""
    params: dict = {"created": {"gte": created_gte}, "limit": page_size}
    client = _client()
    while True:
        page = _call(client.v1.checkout.sessions.list, params=params)
        sessions = [_session(obj) for obj in page.data]
        if sessions:
            yield sessions
        if not page.has_more or not sessions:
            return
        params = {**params, "starting_after": sessions[-1].id}


def payment_intent_charge(payment_intent_id: str) -> str:
    """The charge id of a payment intent ("" when it has none yet)."""
    intent = _call(_client().v1.payment_intents.retrieve, payment_intent_id).to_dict()
    charge = intent.get("latest_charge") or ""
    return charge if isinstance(charge, str) else charge.get("id", "")


def refund_create(*, payment_intent_id: str, amount_pence: int, key: str) -> StripeRefund:
    """Refund (part of) a card payment. ``key`` makes a retry of the same
    refund return the first one instead of refunding twice."""
    try:
        made = _client().v1.refunds.create(
            params={"payment_intent": payment_intent_id, "amount": amount_pence},
            options={"idempotency_key": key},
        )
    except stripe.InvalidRequestError as exc:
        raise PaymentProviderError(f"Stripe refused the refund: {exc.user_message}") from exc
    except stripe.StripeError as exc:
        raise PaymentProviderError(NOT_ANSWERING) from exc
    refund = made.to_dict()
    return StripeRefund(id=refund["id"], amount=refund["amount"], status=refund.get("status", ""))


def event_construct(payload: bytes, signature: str) -> stripe.Event:
    """Verify the signature (and its age) and parse the event.

    Raises ``ValueError`` for a body the portal cannot read (not JSON, or
    without an event id, a type or the id of the object it is about) and
    ``stripe.SignatureVerificationError`` for a bad or stale signature.
    """
    stripe.WebhookSignature.verify_header(
        payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=300
    )
    # Signed is not the same as readable: an event the portal cannot act on
    # is refused here rather than failing half-way through (a 500 that
    # Stripe would retry for days).
    body = json.loads(payload)
    try:
        readable = (
            isinstance(body.get("id"), str)
            and isinstance(body.get("type"), str)
            and isinstance(body["data"]["object"]["id"], str)
        )
    except (KeyError, TypeError, AttributeError):
        readable = False
    if not readable:
        raise ValueError("The event has no id, type or object id.")
    return stripe.Event.construct_from(body, stripe.api_key)


def charge_refunds(charge_id: str) -> list[StripeRefund]:
    """The refunds of a charge, as Stripe has them now."""
    page = _call(_client().v1.refunds.list, params={"charge": charge_id, "limit": 100})
    return [
        StripeRefund(id=obj["id"], amount=obj["amount"], status=obj.get("status", ""))
        for obj in (item.to_dict() for item in page.data)
    ]
