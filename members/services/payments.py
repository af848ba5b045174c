import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from members import stripe_gateway
from members.audit import audit_record
from members.exceptions import IllegalTransition, MembershipError
from members.models import Membership, MembershipPeriod, Payment, Refund, User

from .membership import next_period_start, period_end, status_for_expiry

PaymentStatus = Payment.Status


def offline_provider_enabled() -> bool:
    return bool(settings.PAYMENTS_OFFLINE_PROVIDER)


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
    if method == Payment.Method.OFFLINE and not offline_provider_enabled():
        raise MembershipError("The offline test provider is not available here.")
    if method == Payment.Method.STRIPE and not stripe_gateway.is_configured():
        raise MembershipError("Card payments are not available at the moment.")
    Payment.objects.filter(membership=membership, status=PaymentStatus.PENDING).update(
        status=PaymentStatus.CANCELLED, updated_at=timezone.now()
    )
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


def payment_checkout_start(*, payment: Payment, success_url: str, cancel_url: str) -> str:
    """Create the Stripe Checkout session for ``payment``; return its URL.

    Called after ``payment_create`` has committed: no database transaction
    is held open while Stripe is asked.
    """
    session = stripe_gateway.checkout_session_create(
        payment_id=payment.pk,
        amount_pence=payment.amount_pence,
        description=f"IGPM {payment.grade.name} membership, 12 months",
        customer_email=payment.user.email,
        success_url=success_url,
        cancel_url=cancel_url,
    )
    Payment.objects.filter(pk=payment.pk).update(
        stripe_session_id=session.id, checkout_url=session.url, updated_at=timezone.now()
    )
    return session.url


@transaction.atomic
def payment_fulfil(*, payment_id: int, actor: User | None = None, actor_label: str = "") -> bool:
    """Record that the money arrived and extend the membership by a year.

    Safe to call any number of times, from any number of processes: the
    payment row is locked, and a payment that is already paid changes
    nothing. Returns whether this call did the work.
    """
    from members.tasks import payment_receipt_email_task

    payment = Payment.objects.select_for_update().get(pk=payment_id)
    if payment.status not in Payment.FULFILLABLE:
        return False
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(pk=payment.membership_id)
    )
    now = timezone.now()
    today = timezone.localdate(now)
    old_payment_status = payment.status
    payment.status = PaymentStatus.PAID
    payment.paid_at = now
    payment.receipt_number = f"RCT-{today:%Y}-{payment.pk:06d}"
    payment.save(update_fields=["status", "paid_at", "receipt_number", "updated_at"])
    label = actor_label or (actor.email if actor else "system")
    # A checkout can finish after its account was erased: the money is
    # recorded, but nothing is renewed or emailed, and staff refund it.
    erased = membership.user.erased_at is not None
    audit_record(
        actor=actor,
        actor_label=label,
        subject=membership.user,
        target=payment,
        action="payment_received_after_erasure" if erased else "payment_received",
        from_state=old_payment_status,
        to_state=payment.status,
        reason="The account was erased before this payment arrived: refund it." if erased else "",
        data={"amount_pence": payment.amount_pence, "method": payment.method},
    )
    if erased:
        return True

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
        membership.number = f"IGPM-{membership.pk:06d}"
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
    payment_receipt_email_task.delay_on_commit(payment.pk)
    return True


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
        subject=payment.membership.user,
        target=payment,
        action=f"payment_{status}",
        from_state=PaymentStatus.PENDING,
        to_state=status,
    )
    return True


@transaction.atomic
def refund_record(
    *, payment: Payment, amount_pence: int, reason: str, effect: str, by: User
) -> Refund:
    """Record a refund made outside the portal and apply its effect."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status not in (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED):
        raise IllegalTransition("Only a paid payment can be refunded.")
    if not 0 < amount_pence <= payment.refundable_pence:
        raise MembershipError(
            f"Enter an amount between £0.01 and the £{payment.refundable_pence / 100:.2f} "
            "not yet refunded."
        )
    if not reason.strip():
        raise MembershipError("Give a reason for the refund.")
    membership = Membership.objects.select_for_update().get(pk=payment.membership_id)
    if effect == Refund.Effect.SHORTEN and payment.refunds.filter(effect=effect).exists():
        # The year this payment bought has already been taken off.
        effect = Refund.Effect.NONE
    refund = Refund.objects.create(
        payment=payment, amount_pence=amount_pence, reason=reason, effect=effect, recorded_by=by
    )
    old_payment_status = payment.status
    payment.refunded_pence += amount_pence
    payment.status = (
        PaymentStatus.REFUNDED
        if payment.refunded_pence == payment.amount_pence
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    payment.save(update_fields=["refunded_pence", "status", "updated_at"])
    audit_record(
        actor=by,
        subject=membership.user,
        target=payment,
        action="refunded",
        from_state=old_payment_status,
        to_state=payment.status,
        reason=reason,
        data={"amount_pence": amount_pence, "effect": effect},
    )
    _apply_refund_effect(
        membership=membership, payment=payment, effect=effect, by=by, reason=reason
    )
    return refund


def _apply_refund_effect(
    *, membership: Membership, payment: Payment, effect: str, by: User, reason: str
) -> None:
    today = timezone.localdate()
    old = (membership.status, membership.expires_on)
    period = getattr(payment, "period", None)
    if effect == Refund.Effect.END_NOW:
        membership.status = Membership.Status.CANCELLED
        membership.expires_on = min(membership.expires_on, today - datetime.timedelta(days=1))
    elif effect == Refund.Effect.SHORTEN and period is not None:
        if membership.periods.exclude(pk=period.pk).exists():
            # Take the refunded year off the end; later years move back.
            length = period.ends_on - period.starts_on + datetime.timedelta(days=1)
            membership.expires_on -= length
            membership.status = status_for_expiry(membership.expires_on, today)
        else:
            membership.expires_on = period.starts_on - datetime.timedelta(days=1)
            membership.status = Membership.Status.CANCELLED
    if (membership.status, membership.expires_on) == old:
        return
    membership.save(update_fields=["status", "expires_on", "updated_at"])
    audit_record(
        actor=by,
        subject=membership.user,
        target=membership,
        action="refund_applied",
        from_state=old[0],
        to_state=membership.status,
        reason=reason,
        data={"effect": effect, "expires_on": str(membership.expires_on), "was": str(old[1])},
    )
