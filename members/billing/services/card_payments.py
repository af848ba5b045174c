"""Starting a card payment: one open Checkout session per payment, earlier
ones closed at Stripe, and no payment left pending without a session.

Stripe is only ever called outside a database transaction.
"""

import datetime
import logging
from contextlib import contextmanager

from django.db import connection, transaction
from django.utils import timezone

from members.billing import stripe_gateway
from members.exceptions import MembershipError, PaymentProviderError
from members.models import Membership, Payment, User

from .payments import one_off_refusal, payment_close, payment_create

logger = logging.getLogger(__name__)

# Stripe closes a Checkout session 24 hours after it was made; one older
# than this is not handed out again.
SESSION_REUSE_FOR = datetime.timedelta(hours=23)
# Advisory lock namespace (the first key of pg_advisory_lock(int, int)).
_LOCK_CLASS = 0x1A11


@transaction.atomic
def card_payment_start(*, membership: Membership, by: User) -> Payment:
    """The card payment for the member's next year: the open one if there is
    one for the same grade and amount (another tab, or back and retry),
    otherwise a new one (which cancels the others)."""
    membership = (
        Membership.objects.select_for_update().select_related("grade").get(pk=membership.pk)
    )
    if refusal := one_off_refusal(membership):
        # Not even an open card page from before automatic renewal began.
        raise MembershipError(refusal)
    reusable = (
        Payment.objects.filter(
            membership=membership,
            method=Payment.Method.STRIPE,
            status=Payment.Status.PENDING,
            grade=membership.grade,
            amount_pence=membership.grade.annual_fee_pence,
        )
        .exclude(checkout_started_at__lt=timezone.now() - SESSION_REUSE_FOR)
        .order_by("-pk")
        .first()
    )
    if reusable is not None:
        return reusable
    return payment_create(membership=membership, method=Payment.Method.STRIPE, by=by)


@contextmanager
def _payment_lock(payment_id: int):
    """Serialise session creation for one payment across processes without
    holding a transaction open while Stripe answers: a session-level
    PostgreSQL advisory lock (held by the connection, not a transaction)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [_LOCK_CLASS, payment_id])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, payment_id])


def card_checkout_url(*, payment: Payment, success_url: str, cancel_url: str) -> str:
    """The Checkout page for ``payment``: its open session, or a new one.

    Raises ``PaymentProviderError`` when Stripe does not answer in time;
    the payment is then cancelled, so the member's dashboard shows no
    pending payment that can never be paid.
    """
    with _payment_lock(payment.pk):
        payment = Payment.objects.select_related(
            "grade", "user", "organisation_membership__account"
        ).get(pk=payment.pk)
        if payment.status != Payment.Status.PENDING:
            raise MembershipError("This payment was replaced. Start again from the pay page.")
        if payment.stripe_session_id:
            return payment.checkout_url
        try:
            session = stripe_gateway.checkout_session_create(
                payment_id=payment.pk,
                amount_pence=payment.amount_pence,
                description=_description(payment),
                customer_email=payment.user.email,
                success_url=success_url,
                cancel_url=cancel_url,
            )
        except PaymentProviderError:
            payment_close(
                payment_id=payment.pk,
                status=Payment.Status.CANCELLED,
                actor_label="system: card payments not answering",
            )
            raise
        stored = Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
            stripe_session_id=session.id,
            checkout_url=session.url,
            checkout_started_at=timezone.now(),
            updated_at=timezone.now(),
        )
    if not stored:
        # Replaced while Stripe was answering: this session must not take
        # money either.
        checkout_sessions_expire(session_ids=[session.id])
        raise MembershipError("This payment was replaced. Start again from the pay page.")
    return session.url


def _description(payment: Payment) -> str:
    if year := payment.organisation_membership:
        return (
            f"IGPM {payment.grade.name} membership, {year.seats} seat"
            f"{'s' if year.seats != 1 else ''} for {year.account.name}, 12 months"
        )
    return f"IGPM {payment.grade.name} membership, 12 months"


def checkout_sessions_expire(*, session_ids: list[str]) -> int:
    """Close these Checkout sessions at Stripe so they can no longer be
    paid; return how many Stripe closed. A session that is already paid or
    closed is left alone: money that still arrives is held and flagged."""
    closed = 0
    for session_id in session_ids:
        if stripe_gateway.checkout_session_expire(session_id) is not None:
            closed += 1
    return closed


def payment_sessions_expire(*, payment_ids: list[int]) -> int:
    """Close the sessions of these (cancelled) payments."""
    session_ids = list(
        Payment.objects.filter(pk__in=payment_ids, stripe_session_id__isnull=False)
        .exclude(status=Payment.Status.PENDING)
        .values_list("stripe_session_id", flat=True)
    )
    return checkout_sessions_expire(session_ids=session_ids)
