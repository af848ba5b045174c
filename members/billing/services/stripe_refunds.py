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
  same, or closes an intent Stripe made no refund for and puts its
  payment in the needs-attention queue.

A refund the portal owes (``owed``: the cooling-off refund on stopping)
is never just closed: when Stripe did not answer, it is asked again under
the same key (after checking Stripe made none) by a retrying task and by
the daily reconciliation, at most ``MAX_ASKS`` times in all; then it goes
to the needs-attention queue, where staff make it.
"""

import datetime
import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from members.audit import audit_record
from members.billing import stripe_gateway
from members.exceptions import MembershipError, PaymentProviderError, PaymentProviderRefused
from members.models import Payment, PaymentNotice, Refund, RefundIntent, User

from .payments import attention_flag_fields, payment_notice_queue
from .refunds import refund_record

logger = logging.getLogger(__name__)

# An intent younger than this may still be waiting for Stripe's answer:
# reconciliation leaves it alone.
IN_FLIGHT = datetime.timedelta(minutes=10)
# How many times in all an owed refund is asked of Stripe before it goes
# to the membership team.
MAX_ASKS = 4


def refund_retry_countdown(retries: int) -> int:
    """Seconds before the next ask of an owed refund: 2, 8, 32 minutes.
    Each ask first reads back what Stripe made, so a slow answer to the
    last one is recorded, not asked for again."""
    return 120 * 4**retries


@transaction.atomic
def refund_intent_open(
    *,
    payment: Payment,
    amount_pence: int,
    reason: str,
    effect: str,
    by: User | None,
    owed: bool = False,
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
        owed=owed,
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
        outcome = refund_intent_retry(intent_id=intent.pk)
        if outcome == RECORDED:
            recorded += 1
        elif outcome in (NOT_MADE, ATTENTION):
            not_made += 1
    return recorded, not_made


# What ``refund_intent_retry`` did.
RECORDED, NOT_MADE, ATTENTION, WAITING, SETTLED = (
    "recorded",
    "not_made",
    "attention",
    "waiting",
    "settled",
)


def _made_at_stripe(intent: RefundIntent) -> stripe_gateway.StripeRefund | None:
    """The refund Stripe made for ``intent``, if any (read back from the
    charge). Raises ``PaymentProviderError`` when Stripe does not answer."""
    payment = intent.payment
    charge = payment.stripe_charge_id or stripe_gateway.payment_intent_charge(
        payment.stripe_payment_intent_id
    )
    return next(
        (
            r
            for r in (stripe_gateway.charge_refunds(charge) if charge else [])
            if r.intent_id == str(intent.pk) and r.status in ("succeeded", "pending")
        ),
        None,
    )


def refund_intent_retry(*, intent_id: int) -> str:
    """Settle one open intent: record the refund Stripe made for it; else
    close it (asked by staff) or, when the portal owes it, ask Stripe again
    under the same key, at most ``MAX_ASKS`` times in all, then hand it to
    the membership team. Safe to run twice or at once: returns what it did
    (``RECORDED``, ``NOT_MADE``, ``ATTENTION``, ``WAITING`` for another
    try, ``SETTLED`` when there was nothing left to do)."""
    intent = RefundIntent.objects.select_related("payment").get(pk=intent_id)
    if intent.status != RefundIntent.Status.OPEN:
        return SETTLED
    try:
        made = _made_at_stripe(intent)
    except PaymentProviderError:
        if not intent.owed:
            return WAITING  # nothing is owed: the next run looks again
        # Never ask without knowing Stripe made none (a key is forgotten
        # after a day); this counts as a try, so the tries stay bounded.
        if not _count_ask(intent):
            return SETTLED
        return _waiting_or_attention(intent, asks=intent.asks + 1)
    if made is not None:
        refund_intent_record(
            intent_id=intent.pk,
            made=made,
            actor_label="stripe reconciliation",
            notify=not intent.owed,
        )
        logger.warning("Refund intent %s recorded as %s", intent.pk, made.id)
        return RECORDED
    if not intent.owed:
        _close_not_made(intent, reason=Payment.Attention.REFUND_NOT_MADE)
        logger.warning("Stripe made no refund for intent %s", intent.pk)
        return NOT_MADE
    if intent.asks >= MAX_ASKS:
        _close_not_made(intent, reason=Payment.Attention.REFUND_OWED)
        return ATTENTION
    if not _count_ask(intent):
        return SETTLED  # another run is asking right now
    try:
        made = stripe_gateway.refund_create(
            payment_intent_id=intent.payment.stripe_payment_intent_id,
            amount_pence=intent.amount_pence,
            key=intent.stripe_key,
            intent_id=intent.pk,
        )
    except PaymentProviderRefused:
        _close_not_made(intent, reason=Payment.Attention.REFUND_OWED)
        return ATTENTION
    except PaymentProviderError:
        return _waiting_or_attention(intent, asks=intent.asks + 1)
    # The member was told when they stopped: no second email.
    refund_intent_record(
        intent_id=intent.pk, made=made, actor_label="stripe refund retry", notify=False
    )
    logger.warning("Owed refund intent %s made on ask %s", intent.pk, intent.asks + 1)
    return RECORDED


def _count_ask(intent: RefundIntent) -> bool:
    """Count one more ask, unless another run counted it first."""
    return bool(
        RefundIntent.objects.filter(
            pk=intent.pk, status=RefundIntent.Status.OPEN, asks=intent.asks
        ).update(asks=F("asks") + 1, updated_at=timezone.now())
    )


def _waiting_or_attention(intent: RefundIntent, *, asks: int) -> str:
    if asks >= MAX_ASKS:
        _close_not_made(intent, reason=Payment.Attention.REFUND_OWED)
        return ATTENTION
    return WAITING


@transaction.atomic
def refund_intent_close_owed(*, intent_id: int) -> None:
    """Stripe refused an owed refund outright: the membership team makes it."""
    intent = RefundIntent.objects.select_related("payment").get(pk=intent_id)
    _close_not_made(intent, reason=Payment.Attention.REFUND_OWED)


@transaction.atomic
def _close_not_made(intent: RefundIntent, *, reason: str) -> None:
    """Close the intent as not made and put its payment in the membership
    team's queue, where "Refund" makes it (under a new key)."""
    closed = RefundIntent.objects.filter(pk=intent.pk, status=RefundIntent.Status.OPEN).update(
        status=RefundIntent.Status.NOT_MADE, updated_at=timezone.now()
    )
    if not closed:
        return
    intent.refresh_from_db(fields=["asks"])
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("membership__user")
        .get(pk=intent.payment_id)
    )
    if payment.needs_attention and payment.attention_reason in (
        reason,
        Payment.Attention.DISPUTED,  # the dispute decides: never refund twice
    ):
        return
    was = payment.attention_reason if payment.needs_attention else ""
    fields = attention_flag_fields(payment=payment, reason=reason, now=timezone.now())
    payment.save(update_fields=[*fields, "updated_at"])
    audit_record(
        actor=None,
        actor_label="stripe refunds",
        subject=payment.membership.user,
        target=payment,
        action=f"attention_{reason}",
        from_state=was,
        to_state=reason,
        reason=(
            f"Refund of £{intent.amount_pence / 100:.2f} (intent {intent.pk}) not made by "
            f"Stripe after {intent.asks} ask(s)"
        ),
    )
    logger.warning("Refund intent %s not made: payment %s to the queue", intent.pk, payment.pk)
