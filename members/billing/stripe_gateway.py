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

from members.exceptions import PaymentProviderError, PaymentProviderRefused


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
    mode: str = "payment"
    subscription: str = ""
    customer: str = ""


@dataclass(frozen=True)
class StripeRefund:
    id: str
    amount: int
    status: str
    # The portal's RefundIntent that asked for it ("" when made elsewhere).
    intent_id: str = ""


def _refund(obj: dict) -> StripeRefund:
    return StripeRefund(
        id=obj["id"],
        amount=obj["amount"],
        status=obj.get("status", ""),
        intent_id=str((obj.get("metadata") or {}).get("igpm_refund_intent", "")),
    )


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
        mode=obj.get("mode") or "payment",
        subscription=_id(obj.get("subscription")),
        customer=_id(obj.get("customer")),
    )


def _id(value) -> str:
    """The id of a field Stripe gives as an id or as the expanded object."""
    if not value:
        return ""
    return value if isinstance(value, str) else value.get("id", "")


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


def refund_create(
    *, payment_intent_id: str, amount_pence: int, key: str, intent_id: int | None = None
) -> StripeRefund:
    """Refund (part of) a card payment. ``key`` makes a retry of the same
    refund return the first one instead of refunding twice; ``intent_id``
    (the portal's RefundIntent) goes in its metadata, so the refund can be
    matched to what staff asked for when the answer is lost."""
    params = {"payment_intent": payment_intent_id, "amount": amount_pence}
    if intent_id is not None:
        params["metadata"] = {"igpm_refund_intent": str(intent_id)}
    try:
        made = _client().v1.refunds.create(params=params, options={"idempotency_key": key})
    except stripe.InvalidRequestError as exc:
        raise PaymentProviderRefused(f"Stripe refused the refund: {exc.user_message}") from exc
    except stripe.StripeError as exc:
        raise PaymentProviderError(NOT_ANSWERING) from exc
    return _refund(made.to_dict())


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
        obj = body["data"]["object"]
        readable = (
            isinstance(body.get("id"), str)
            and isinstance(body.get("type"), str)
            # An upcoming invoice has no id yet: its subscription says
            # what it is about.
            and (
                isinstance(obj.get("id"), str)
                or (body["type"] == "invoice.upcoming" and bool(invoice_subscription(obj)))
            )
        )
    except (KeyError, TypeError, AttributeError):
        readable = False
    if not readable:
        raise ValueError("The event has no id, type or object id.")
    return stripe.Event.construct_from(body, stripe.api_key)


def charge_refunds(charge_id: str) -> list[StripeRefund]:
    """The refunds of a charge, as Stripe has them now."""
    page = _call(_client().v1.refunds.list, params={"charge": charge_id, "limit": 100})
    return [_refund(item.to_dict()) for item in page.data]


# --- Automatic renewal: Stripe Billing ----------------------------------------


@dataclass(frozen=True)
class Subscription:
    id: str
    status: str
    customer: str
    cancel_at_period_end: bool
    # When the next collection is due (Unix time; 0 when none).
    next_collection_at: int
    price_id: str
    item_id: str
    amount_pence: int
    auto_renewal_id: str
    payment_method_id: str = ""
    payment_method_type: str = ""
    card_brand: str = ""
    card_last4: str = ""
    card_exp_month: int | None = None
    card_exp_year: int | None = None
    bank_last4: str = ""
    cancellation_reason: str = ""
    canceled_at: int = 0


@dataclass(frozen=True)
class Invoice:
    id: str
    status: str
    subscription: str
    customer: str
    amount_paid: int
    amount_due: int
    currency: str
    billing_reason: str
    attempt_count: int
    # None once Stripe has stopped retrying.
    next_payment_attempt: int | None
    payment_intent: str
    created: int
    failure_message: str = ""


@dataclass(frozen=True)
class Mandate:
    id: str
    status: str
    payment_method: str
    reference: str


def price_for_grade(*, grade_id: int, grade_name: str, amount_pence: int) -> str:
    """The yearly price for a grade at this fee: found by its lookup key,
    made (with its product) the first time."""
    return price_yearly(
        key=f"igpm-grade-{grade_id}-{amount_pence}",
        product_name=f"IGPM {grade_name} membership, yearly",
        amount_pence=amount_pence,
        metadata={"grade_id": str(grade_id)},
    )


def price_yearly(
    *, key: str, product_name: str, amount_pence: int, metadata: dict | None = None
) -> str:
    """A yearly price found by its lookup ``key``, made (with its product)
    the first time."""
    client = _client()
    found = _call(client.v1.prices.list, params={"lookup_keys": [key], "active": True, "limit": 1})
    if found.data:
        return found.data[0]["id"]
    price = _call(
        client.v1.prices.create,
        params={
            "currency": "gbp",
            "unit_amount": amount_pence,
            "recurring": {"interval": "year"},
            "lookup_key": key,
            "product_data": {"name": product_name},
            "metadata": metadata or {},
        },
        options={"idempotency_key": f"igpm-price-{key}"},
    )
    return price["id"]


def subscription_checkout_create(
    *,
    auto_renewal_id: int,
    price_id: str,
    method: str,
    customer_id: str,
    customer_email: str,
    trial_end: int | None,
    success_url: str,
    cancel_url: str,
) -> CheckoutSession:
    """Checkout in subscription mode: Stripe's own page takes the card or
    the Bacs Direct Debit mandate. With ``trial_end`` nothing is collected
    until then (the day the current year ends)."""
    subscription_data: dict = {"metadata": {"auto_renewal_id": str(auto_renewal_id)}}
    if trial_end:
        subscription_data["trial_end"] = trial_end
        subscription_data["trial_settings"] = {
            "end_behavior": {"missing_payment_method": "cancel"}
        }
    params: dict = {
        "mode": "subscription",
        "client_reference_id": f"auto-renewal-{auto_renewal_id}",
        "payment_method_types": [method],
        "line_items": [{"price": price_id, "quantity": 1}],
        "subscription_data": subscription_data,
        "metadata": {"auto_renewal_id": str(auto_renewal_id)},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if customer_id:
        params["customer"] = customer_id
    else:
        params["customer_email"] = customer_email
    session = _call(
        _client().v1.checkout.sessions.create,
        params=params,
        options={"idempotency_key": f"igpm-auto-renewal-{auto_renewal_id}"},
    )
    return _session(session)


def _subscription(obj) -> Subscription:
    obj = obj.to_dict() if hasattr(obj, "to_dict") else obj
    items = (obj.get("items") or {}).get("data") or [{}]
    item = items[0]
    price = item.get("price") or {}
    method = obj.get("default_payment_method") or {}
    method = method if isinstance(method, dict) else {"id": method}
    card = method.get("card") or {}
    bacs = method.get("bacs_debit") or {}
    if obj.get("status") == "trialing" and obj.get("trial_end"):
        next_at = obj["trial_end"]
    else:
        next_at = item.get("current_period_end") or obj.get("current_period_end") or 0
    return Subscription(
        id=obj["id"],
        status=obj.get("status") or "",
        customer=_id(obj.get("customer")),
        cancel_at_period_end=bool(obj.get("cancel_at_period_end") or obj.get("cancel_at")),
        next_collection_at=next_at,
        price_id=price.get("id", ""),
        item_id=item.get("id", ""),
        amount_pence=price.get("unit_amount") or 0,
        auto_renewal_id=str((obj.get("metadata") or {}).get("auto_renewal_id", "")),
        payment_method_id=method.get("id", ""),
        payment_method_type=method.get("type", ""),
        card_brand=card.get("brand", ""),
        card_last4=card.get("last4", ""),
        card_exp_month=card.get("exp_month"),
        card_exp_year=card.get("exp_year"),
        bank_last4=bacs.get("last4", ""),
        cancellation_reason=(obj.get("cancellation_details") or {}).get("reason") or "",
        canceled_at=obj.get("canceled_at") or 0,
    )


def subscription_retrieve(subscription_id: str) -> Subscription:
    """Stripe's current view of a subscription, with its payment method."""
    return _subscription(
        _call(
            _client().v1.subscriptions.retrieve,
            subscription_id,
            params={"expand": ["default_payment_method"]},
        )
    )


def subscription_stop_at_period_end(subscription_id: str) -> Subscription:
    """No more collections; the paid period runs to its end."""
    return _subscription(
        _call(
            _client().v1.subscriptions.update,
            subscription_id,
            params={"cancel_at_period_end": True, "expand": ["default_payment_method"]},
        )
    )


def subscription_cancel(subscription_id: str) -> Subscription | None:
    """End a subscription now. None when Stripe says it has ended already."""
    try:
        return _subscription(_client().v1.subscriptions.cancel(subscription_id))
    except stripe.InvalidRequestError:
        return None
    except stripe.StripeError as exc:
        raise PaymentProviderError(NOT_ANSWERING) from exc


def subscription_next_collection_set(*, subscription_id: str, at: int) -> Subscription:
    """Move the next collection to ``at`` (a Unix time) with nothing
    charged or credited meanwhile: Stripe's way is a trial until then."""
    return _subscription(
        _call(
            _client().v1.subscriptions.update,
            subscription_id,
            params={
                "trial_end": at,
                "proration_behavior": "none",
                "expand": ["default_payment_method"],
            },
        )
    )


def subscription_price_set(*, subscription_id: str, item_id: str, price_id: str) -> Subscription:
    """Collect ``price_id`` from the next collection on: nothing charged or
    credited for the current period."""
    return _subscription(
        _call(
            _client().v1.subscriptions.update,
            subscription_id,
            params={
                "items": [{"id": item_id, "price": price_id}],
                "proration_behavior": "none",
                "expand": ["default_payment_method"],
            },
        )
    )


def _invoice(obj) -> Invoice:
    obj = obj.to_dict() if hasattr(obj, "to_dict") else obj
    parent = (obj.get("parent") or {}).get("subscription_details") or {}
    subscription = _id(parent.get("subscription")) or _id(obj.get("subscription"))
    intent = ""
    for made in (obj.get("payments") or {}).get("data") or []:
        payment = made.get("payment") or {}
        if made.get("status") in ("paid", None) or not intent:
            intent = _id(payment.get("payment_intent")) or intent
    intent = intent or _id(obj.get("payment_intent"))
    error = obj.get("last_finalization_error") or {}
    return Invoice(
        id=obj.get("id") or "",
        status=obj.get("status") or "",
        subscription=subscription,
        customer=_id(obj.get("customer")),
        amount_paid=obj.get("amount_paid") or 0,
        amount_due=obj.get("amount_due") or 0,
        currency=obj.get("currency") or "",
        billing_reason=obj.get("billing_reason") or "",
        attempt_count=obj.get("attempt_count") or 0,
        next_payment_attempt=obj.get("next_payment_attempt"),
        payment_intent=intent,
        created=obj.get("created") or 0,
        failure_message=error.get("message") or "",
    )


def invoice_retrieve(invoice_id: str) -> Invoice:
    """Stripe's current view of an invoice, with the payments made on it."""
    return _invoice(
        _call(_client().v1.invoices.retrieve, invoice_id, params={"expand": ["payments"]})
    )


def invoice_subscription(payload: dict) -> str:
    """The subscription an invoice (as an event carries it) belongs to."""
    return _invoice(payload).subscription


def paid_invoices_since(created_gte: int, *, page_size: int = 100) -> Iterator[list[Invoice]]:
    """Every paid invoice created at or after ``created_gte``, a page at a
    time (for the daily reconciliation)."""
    params: dict = {
        "status": "paid",
        "created": {"gte": created_gte},
        "limit": page_size,
        "expand": ["data.payments"],
    }
    client = _client()
    while True:
        page = _call(client.v1.invoices.list, params=params)
        invoices = [_invoice(obj) for obj in page.data]
        if invoices:
            yield invoices
        if not page.has_more or not invoices:
            return
        params = {**params, "starting_after": invoices[-1].id}


def mandate_retrieve(mandate_id: str) -> Mandate:
    obj = _call(_client().v1.mandates.retrieve, mandate_id).to_dict()
    details = (obj.get("payment_method_details") or {}).get("bacs_debit") or {}
    return Mandate(
        id=obj["id"],
        status=obj.get("status") or "",
        payment_method=_id(obj.get("payment_method")),
        reference=details.get("reference") or "",
    )


PORTAL_METADATA = {"igpm": "payment-method-only"}


def _portal_configuration(client) -> str:
    """A customer portal configuration that lets a member change their card
    or bank account and nothing else (no cancelling there: stopping is the
    portal's own one click, which refunds when it must)."""
    if settings.STRIPE_PORTAL_CONFIGURATION:
        return settings.STRIPE_PORTAL_CONFIGURATION
    page = _call(client.v1.billing_portal.configurations.list, params={"limit": 100})
    for config in (item.to_dict() for item in page.data):
        if config.get("active") and (config.get("metadata") or {}) == PORTAL_METADATA:
            return config["id"]
    made = _call(
        client.v1.billing_portal.configurations.create,
        params={
            "features": {
                "payment_method_update": {"enabled": True},
                "invoice_history": {"enabled": False},
                "customer_update": {"enabled": False},
                "subscription_cancel": {"enabled": False},
                "subscription_update": {"enabled": False},
            },
            "business_profile": {"headline": "Change how your IGPM membership is paid"},
            "metadata": PORTAL_METADATA,
        },
        options={"idempotency_key": "igpm-portal-configuration-1"},
    )
    return made["id"]


def portal_session_create(*, customer_id: str, return_url: str) -> str:
    """The address of a customer portal session for ``customer_id``."""
    client = _client()
    session = _call(
        client.v1.billing_portal.sessions.create,
        params={
            "customer": customer_id,
            "return_url": return_url,
            "configuration": _portal_configuration(client),
        },
    )
    return session["url"]
