import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from members.audit import audit_record
from members.billing import stripe_gateway
from members.exceptions import MembershipError
from members.models import (
    AutoRenewal,
    Membership,
    MembershipPeriod,
    Payment,
    PaymentNotice,
    User,
)
from members.reports.summary import membership_figures_refresh

from .membership import next_period_start, period_end
from .numbers import membership_number_next

PaymentStatus = Payment.Status


def offline_provider_enabled() -> bool:
    return bool(settings.PAYMENTS_OFFLINE_PROVIDER)


AUTO_RENEWS_MESSAGE = (
    "Your membership renews automatically: the next collection pays for your "
    "next year. To pay once instead, stop automatic renewal on your dashboard first."
)


def one_off_refusal(membership: Membership) -> str:
    """Why ``membership`` may not be paid for by hand now ("" when it may):
    a live automatic renewal collects the next year itself, on its own
    date, so a payment by hand would buy a second year."""
    collecting = AutoRenewal.objects.filter(
        membership=membership,
        status__in=[AutoRenewal.Status.ACTIVE, AutoRenewal.Status.PAST_DUE],
    ).exists()
    return AUTO_RENEWS_MESSAGE if collecting else ""


def open_payments_cancel(*, membership_id: int) -> int:
    """Cancel the open one-off payments of a membership (a new payment
    replaces them, or automatic renewal now collects the year), so two
    tabs, or a card page left open, cannot buy the same year twice: money
    that still arrives for one is held (``_superseded``). Call inside the
    transaction that holds the membership's lock."""
    superseded = Payment.objects.filter(
        membership_id=membership_id, status=PaymentStatus.PENDING, auto_renewal__isnull=True
    )
    open_sessions = list(
        superseded.filter(stripe_session_id__isnull=False).values_list("pk", flat=True)
    )
    cancelled = superseded.update(status=PaymentStatus.CANCELLED, updated_at=timezone.now())
    if open_sessions:
        # A cancelled card payment's Checkout page must stop taking money:
        # closed at Stripe after commit, by a task, outside this transaction.
        from members.billing.tasks import checkout_sessions_expire_task

        checkout_sessions_expire_task.delay_on_commit(open_sessions)
    return cancelled


@transaction.atomic
def payment_create(
    *,
    membership: Membership,
    method: str,
    by: User,
    invoice_organisation: str = "",
    invoice_purchase_order: str = "",
) -> Payment:
    """Open a payment for the next year of ``membership``.

    Earlier open payments are cancelled, so two browser tabs cannot buy
    the same year twice.
    """
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if not membership.payable:
        raise MembershipError("There is nothing to pay for at the moment.")
    if refusal := one_off_refusal(membership):
        raise MembershipError(refusal)
    if method == Payment.Method.OFFLINE and not offline_provider_enabled():
        raise MembershipError("The offline test provider is not available here.")
    if method == Payment.Method.STRIPE and not stripe_gateway.is_configured():
        raise MembershipError("Card payments are not available at the moment.")
    open_payments_cancel(membership_id=membership.pk)
    purpose = (
        Payment.Purpose.JOIN
        if membership.status == Membership.Status.AWAITING_PAYMENT
        else Payment.Purpose.RENEW
    )
    payment = Payment.objects.create(
        membership=membership,
        user=by,
        grade=membership.grade,
        purpose=purpose,
        method=method,
        amount_pence=membership.grade.annual_fee_pence,
        invoice_organisation=invoice_organisation,
        invoice_purchase_order=invoice_purchase_order,
    )
    if method == Payment.Method.INVOICE:
        payment.invoice_number = f"INV-{payment.created_at:%Y}-{payment.pk:06d}"
        payment.save(update_fields=["invoice_number"])
    audit_record(
        actor=by,
        subject=membership.user,
        target=payment,
        action="payment_started",
        to_state=payment.status,
        data={"method": method, "amount_pence": payment.amount_pence},
    )
    return payment


@transaction.atomic
def payment_fulfil(*, payment_id: int, actor: User | None = None, actor_label: str = "") -> bool:
    """Record that the money arrived and extend the membership by a year.

    Safe to call any number of times, from any number of processes: the
    payment row is locked, and a payment that is already settled changes
    nothing. Returns whether this call did the work.

    Card money for a payment the portal had replaced by a newer one, or
    that arrives after the account was erased, buys no year: it is held
    and put in the membership team's needs-attention queue (a year is
    bought by exactly one paid payment).
    """
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    if payment.status not in Payment.FULFILLABLE:
        return False
    if payment.organisation_membership_id is not None:
        # An organisation's year and its seats (members/organisations).
        from members.organisations.seats import organisation_year_buy_locked

        organisation_year_buy_locked(
            payment=payment, actor=actor, label=actor_label or (actor.email if actor else "system")
        )
        return True
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(pk=payment.membership_id)
    )
    label = actor_label or (actor.email if actor else "system")
    if membership.user.erased_at is not None:
        payment_hold_locked(
            payment=payment,
            reason=Payment.Attention.AFTER_ERASURE,
            actor_label=label,
            action="payment_received_after_erasure",
            audit_reason="The account was erased before this payment arrived: refund it.",
        )
        return True
    if payment.method == Payment.Method.STRIPE and _superseded(payment):
        payment_hold_locked(
            payment=payment,
            reason=Payment.Attention.SUPERSEDED,
            actor_label=label,
            action="payment_received_superseded",
            audit_reason="Paid for a card payment the member had replaced: refund it "
            "or accept it.",
        )
        return True
    year_buy_locked(payment=payment, membership=membership, actor=actor, label=label)
    return True


def _superseded(payment: Payment) -> bool:
    """Whether card money for ``payment`` comes too late to buy a year:
    the member replaced it by another payment (or the portal cancelled it).
    An expired or failed payment with nothing newer is still honoured (a
    late bank confirmation)."""
    if payment.status == PaymentStatus.CANCELLED:
        return True
    return (
        Payment.objects.filter(membership_id=payment.membership_id, pk__gt=payment.pk)
        .filter(status__in=[PaymentStatus.PENDING, PaymentStatus.PAID])
        .exists()
    )


def payment_paid_locked(
    *, payment: Payment, subject: User, actor: User | None, label: str
) -> datetime.date:
    """Make the locked ``payment`` paid, with its receipt number, and audit
    it; the day it was paid is returned. What the money buys (a member's
    year, an organisation's seats) is the caller's."""
    now = timezone.now()
    today = timezone.localdate(now)
    old = payment.status
    payment.status = PaymentStatus.PAID
    payment.paid_at = payment.paid_at or now
    payment.receipt_number = f"RCT-{today:%Y}-{payment.pk:06d}"
    payment.save(update_fields=["status", "paid_at", "receipt_number", "updated_at"])
    audit_record(
        actor=actor,
        actor_label=label,
        subject=subject,
        target=payment,
        action="payment_received",
        from_state=old,
        to_state=payment.status,
        data={"amount_pence": payment.amount_pence, "method": payment.method},
    )
    return today


def year_buy_locked(
    *, payment: Payment, membership: Membership, actor: User | None, label: str
) -> MembershipPeriod:
    """Make the locked ``payment`` paid and the year it buys; queue the
    receipt."""
    from members.billing.tasks import payment_receipt_email_task

    today = payment_paid_locked(payment=payment, subject=membership.user, actor=actor, label=label)

    starts_on = next_period_start(membership, today)
    period = MembershipPeriod.objects.create(
        membership=membership,
        payment=payment,
        grade=payment.grade,
        starts_on=starts_on,
        ends_on=period_end(starts_on),
    )
    old_status = membership.status
    membership.status = Membership.Status.ACTIVE
    membership.grade = payment.grade
    membership.expires_on = period.ends_on
    if not membership.number:
        membership.number = membership_number_next()
    membership.save(update_fields=["status", "grade", "expires_on", "number", "updated_at"])

    audit_record(
        actor=actor,
        actor_label=label,
        subject=membership.user,
        target=membership,
        action="extended" if old_status in Membership.IN_GOOD_STANDING else "activated",
        from_state=old_status,
        to_state=membership.status,
        data={"starts_on": str(starts_on), "expires_on": str(period.ends_on)},
    )
    membership_figures_refresh(membership_id=membership.pk)
    payment_receipt_email_task.delay_on_commit(payment.pk)
    return period


# --- Card money that buys no year: held for the membership team ----------

# What the member is told, by reason (shown to staff in the queue).
MEMBER_TOLD = {
    Payment.Attention.SUPERSEDED: (
        "Emailed: the money arrived for a payment they had replaced, bought no "
        "extra year, and will be refunded."
    ),
    Payment.Attention.WRONG_AMOUNT: (
        "Emailed, and shown on their payment page: the membership team is checking the payment."
    ),
    Payment.Attention.AFTER_ERASURE: "Nothing: the account had been erased.",
    Payment.Attention.DISPUTED: "Nothing: the member opened the dispute with their bank.",
    Payment.Attention.REFUND_REQUESTED: (
        "Shown on their payment page: the request has reached the membership team."
    ),
    Payment.Attention.REFUND_OWED: (
        "Emailed when they stopped automatic renewal: the collection is being "
        "refunded to them in full."
    ),
    Payment.Attention.REFUND_NOT_MADE: (
        "Nothing: the refund was asked for by the membership team and Stripe made none."
    ),
}
NOTICE_FOR = {
    Payment.Attention.SUPERSEDED: PaymentNotice.Kind.HELD,
    Payment.Attention.WRONG_AMOUNT: PaymentNotice.Kind.CHECKING,
}


def payment_hold_locked(
    *,
    payment: Payment,
    reason: str,
    actor_label: str,
    action: str,
    audit_reason: str,
    received_pence: int | None = None,
    received_currency: str = "",
) -> None:
    """Record that money arrived for the locked ``payment`` without buying
    a year, flag it for the membership team and tell the member (once)."""
    now = timezone.now()
    old_status = payment.status
    payment.status = PaymentStatus.HELD
    payment.paid_at = now
    payment.received_pence = payment.amount_pence if received_pence is None else received_pence
    payment.received_currency = received_currency or payment.currency
    fields = ["status", "paid_at", "received_pence", "received_currency", "updated_at"]
    fields += attention_flag_fields(payment=payment, reason=reason, now=now)
    payment.save(update_fields=fields)
    audit_record(
        actor=None,
        actor_label=actor_label,
        subject=payment.membership.user if payment.membership_id else payment.user,
        target=payment,
        action=action,
        from_state=old_status,
        to_state=payment.status,
        reason=audit_reason,
        data={
            "amount_pence": payment.received_pence,
            "currency": payment.received_currency,
            "attention": reason,
        },
    )
    if kind := NOTICE_FOR.get(reason):
        payment_notice_queue(payment=payment, kind=kind)


def attention_flag_fields(*, payment: Payment, reason: str, now) -> list[str]:
    """Put ``payment`` (in memory) in the needs-attention queue for
    ``reason``; return the fields to save."""
    payment.attention_reason = reason
    payment.attention_since = now
    payment.attention_member_told = MEMBER_TOLD[reason]
    payment.attention_resolved_at = None
    payment.attention_resolution = ""
    return [
        "attention_reason",
        "attention_since",
        "attention_member_told",
        "attention_resolved_at",
        "attention_resolution",
    ]


def payment_notice_queue(*, payment: Payment, kind: str) -> bool:
    """Record a ``kind`` email about ``payment`` unless one exists, and send
    it after commit. Returns whether this call recorded it."""
    from members.billing.tasks import payment_notice_send_task

    notice, created = PaymentNotice.objects.get_or_create(payment=payment, kind=kind)
    if created:
        payment_notice_send_task.delay_on_commit(notice.pk)
    return created


@transaction.atomic
def payment_close(*, payment_id: int, status: str, actor_label: str) -> bool:
    """Mark an open payment failed or expired; anything else is left alone."""
    if status not in (PaymentStatus.FAILED, PaymentStatus.EXPIRED, PaymentStatus.CANCELLED):
        raise ValueError(status)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    if payment.status != PaymentStatus.PENDING:
        return False
    payment.status = status
    payment.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=None,
        actor_label=actor_label,
        subject=payment.membership.user if payment.membership_id else payment.user,
        target=payment,
        action=f"payment_{status}",
        from_state=PaymentStatus.PENDING,
        to_state=status,
    )
    if status in (PaymentStatus.FAILED, PaymentStatus.EXPIRED):
        payment_notice_queue(payment=payment, kind=status)
    return True
