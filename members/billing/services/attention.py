"""The membership team's needs-attention queue: card money that did not
fit (paid for a replaced payment, the wrong amount, after erasure,
disputed, asked back, or a refund Stripe did not make: a cooling-off
refund still owed after its retries, or one staff asked for). Each
action is audited and safe to repeat."""

from django.db import transaction
from django.utils import timezone

from members.audit import audit_record
from members.exceptions import IllegalTransition, MembershipError
from members.models import Membership, Payment, PaymentNotice, Refund, User

from .payments import attention_flag_fields, payment_notice_queue, year_buy_locked
from .stripe_refunds import refund_intent_ask, refund_intent_open

Attention = Payment.Attention
# Money Stripe took (by card, or by Bacs Direct Debit for an automatic
# renewal) and can give back.
STRIPE_METHODS = frozenset({Payment.Method.STRIPE, Payment.Method.BACS_DEBIT})
# A member may ask for a card payment back within this many days of paying
# (the UK's cooling-off expectation for subscriptions).
REFUND_REQUEST_DAYS = 14
# The actions each reason allows (besides "mark resolved", always there).
ACCEPTABLE = frozenset({Attention.SUPERSEDED, Attention.WRONG_AMOUNT})
REFUNDABLE = frozenset(
    {
        Attention.SUPERSEDED,
        Attention.WRONG_AMOUNT,
        Attention.AFTER_ERASURE,
        Attention.REFUND_REQUESTED,
        Attention.REFUND_OWED,
        Attention.REFUND_NOT_MADE,
    }
)


def can_accept(payment: Payment) -> bool:
    return (
        payment.needs_attention
        and payment.attention_reason in ACCEPTABLE
        and payment.status == Payment.Status.HELD
        # An organisation's money buys its year only through its order.
        and payment.membership_id is not None
        and payment.received_currency == "gbp"
        and payment.refunded_pence == 0
    )


def can_refund(payment: Payment) -> bool:
    return (
        payment.needs_attention
        and payment.attention_reason in REFUNDABLE
        and payment.method in STRIPE_METHODS
        and bool(payment.stripe_payment_intent_id)
        and payment.status in Payment.REFUNDABLE
        and payment.refundable_pence > 0
    )


def _locked(payment: Payment) -> Payment:
    return (
        Payment.objects.select_for_update(of=("self",))
        .select_related("membership__user")
        .get(pk=payment.pk)
    )


def _resolve_fields(payment: Payment, resolution: str) -> list[str]:
    payment.attention_resolved_at = timezone.now()
    payment.attention_resolution = resolution
    return ["attention_resolved_at", "attention_resolution", "updated_at"]


@transaction.atomic
def payment_accept(*, payment: Payment, by: User, reason: str) -> bool:
    """Let held money buy the member's next year after all (staff judged
    it right). False when it already has, or is no longer held."""
    if not reason.strip():
        raise MembershipError("Say why the payment is accepted.")
    payment = _locked(payment)
    if payment.status != Payment.Status.HELD:
        return False
    if not can_accept(payment):
        raise IllegalTransition("This payment cannot be accepted as a year's membership.")
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(pk=payment.membership_id)
    )
    if membership.user.erased_at is not None:
        raise IllegalTransition("The account was erased: refund the payment instead.")
    fields = _resolve_fields(payment, f"Accepted as a year's membership: {reason}")
    payment.save(update_fields=fields)
    audit_record(
        actor=by,
        subject=membership.user,
        target=payment,
        action="attention_accepted",
        from_state=payment.attention_reason,
        to_state="resolved",
        reason=reason,
    )
    year_buy_locked(payment=payment, membership=membership, actor=by, label=by.email)
    return True


@transaction.atomic
def payment_attention_resolve(*, payment: Payment, by: User, reason: str) -> bool:
    """Take ``payment`` off the queue with staff's reason. False when it
    was not on it (already resolved)."""
    if not reason.strip():
        raise MembershipError("Give a reason for marking this resolved.")
    payment = _locked(payment)
    if not payment.needs_attention:
        return False
    payment.save(update_fields=_resolve_fields(payment, reason))
    audit_record(
        actor=by,
        subject=payment.membership.user if payment.membership_id else payment.user,
        target=payment,
        action="attention_resolved",
        from_state=payment.attention_reason,
        to_state="resolved",
        reason=reason,
    )
    return True


def payment_refund_card(
    *, payment: Payment, amount_pence: int, reason: str, effect: str, by: User
) -> Refund:
    """Refund card or Direct Debit money through Stripe, then record it.

    What staff ask for is committed first (``stripe_refunds``), Stripe is
    asked outside any transaction with that record's idempotency key, and
    the refund is recorded once (``stripe_refund_id`` is unique). A retry
    after a timeout gets Stripe's first refund back; when the portal fails
    after Stripe made the refund, ``charge.refunded`` or reconciliation
    records it with the effect chosen here.
    """
    payment = Payment.objects.get(pk=payment.pk)
    if payment.method not in STRIPE_METHODS or not payment.stripe_payment_intent_id:
        raise IllegalTransition("Only card and Direct Debit payments are refunded through Stripe.")
    if payment.status not in Payment.REFUNDABLE:
        raise IllegalTransition("Only a paid payment can be refunded.")
    if not 0 < amount_pence <= payment.refundable_pence:
        raise MembershipError(
            f"Enter an amount between £0.01 and the £{payment.refundable_pence / 100:.2f} "
            "not yet refunded."
        )
    if not reason.strip():
        raise MembershipError("Give a reason for the refund.")
    intent = refund_intent_open(
        payment=payment, amount_pence=amount_pence, reason=reason, effect=effect, by=by
    )
    return refund_intent_ask(intent)


@transaction.atomic
def payment_flag(
    *, payment_id: int, reason: str, actor: User | None, actor_label: str, note: str = ""
) -> bool:
    """Put a payment in the queue for ``reason`` (a dispute, a refund
    request). False when it is already there for that reason."""
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("membership__user")
        .get(pk=payment_id)
    )
    if payment.needs_attention and payment.attention_reason == reason:
        return False
    was = payment.attention_reason if payment.needs_attention else ""
    fields = attention_flag_fields(payment=payment, reason=reason, now=timezone.now())
    payment.save(update_fields=[*fields, "updated_at"])
    audit_record(
        actor=actor,
        actor_label=actor_label,
        subject=payment.membership.user if payment.membership_id else payment.user,
        target=payment,
        action=f"attention_{reason}",
        from_state=was,
        to_state=reason,
        reason=note,
    )
    if reason == Attention.DISPUTED:
        payment_notice_queue(payment=payment, kind=PaymentNotice.Kind.DISPUTE_TEAM)
    return True


def can_request_refund(payment: Payment, *, user: User) -> bool:
    return (
        payment.membership_id is not None
        and payment.membership.user_id == user.pk
        and payment.method == Payment.Method.STRIPE
        and payment.status == Payment.Status.PAID
        and payment.paid_at is not None
        and payment.paid_at >= timezone.now() - timezone.timedelta(days=REFUND_REQUEST_DAYS)
        and not payment.needs_attention
    )


def payment_refund_request(*, payment: Payment, by: User, reason: str) -> bool:
    """The member asks for their card payment back: it goes to the
    membership team's queue. False when it is there already."""
    if payment.attention_reason == Attention.REFUND_REQUESTED and payment.needs_attention:
        return False
    if not can_request_refund(payment, user=by):
        raise IllegalTransition(
            f"A refund can be asked for online within {REFUND_REQUEST_DAYS} days of paying "
            "by card. Contact the membership team about this payment."
        )
    return payment_flag(
        payment_id=payment.pk,
        reason=Attention.REFUND_REQUESTED,
        actor=by,
        actor_label="",
        note=reason.strip(),
    )
