"""Recording a refund, and what it does to the membership: nothing, the
year it bought taken off, or the membership ended now."""

import datetime

from django.db import transaction
from django.utils import timezone

from members.audit import audit_record
from members.exceptions import IllegalTransition, MembershipError
from members.models import Membership, Payment, Refund, User
from members.reports.summary import membership_figures_refresh

from .membership import status_for_expiry

PaymentStatus = Payment.Status


@transaction.atomic
def refund_record(
    *,
    payment: Payment,
    amount_pence: int,
    reason: str,
    effect: str,
    by: User | None,
    stripe_refund_id: str | None = None,
    actor_label: str = "",
) -> Refund:
    """Record a refund (made outside the portal, or through Stripe) and
    apply its effect. A Stripe refund already recorded is returned as it
    is: the staff action and Stripe's ``charge.refunded`` both record it."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if stripe_refund_id:
        known = Refund.objects.filter(stripe_refund_id=stripe_refund_id).first()
        if known is not None:
            return known
    if payment.status not in Payment.REFUNDABLE:
        raise IllegalTransition("Only a paid payment can be refunded.")
    if payment.status == PaymentStatus.HELD:
        # Held money bought no year: there is nothing to take off.
        effect = Refund.Effect.NONE
    if not 0 < amount_pence <= payment.refundable_pence:
        raise MembershipError(
            f"Enter an amount between £0.01 and the £{payment.refundable_pence / 100:.2f} "
            "not yet refunded."
        )
    if not reason.strip():
        raise MembershipError("Give a reason for the refund.")
    # An organisation's payment (members/organisations): a refund that
    # takes the year off ends the organisation year it bought and frees
    # its seats; otherwise the year and its seats stay.
    membership = None
    if payment.membership_id is None:
        if effect != Refund.Effect.NONE:
            effect = Refund.Effect.END_NOW
    else:
        membership = Membership.objects.select_for_update().get(pk=payment.membership_id)
    if (
        effect != Refund.Effect.NONE
        and payment.membership_id is None
        and payment.refunds.exclude(effect=Refund.Effect.NONE).exists()
    ):
        effect = Refund.Effect.NONE  # the organisation year has ended already
    if effect == Refund.Effect.SHORTEN and payment.refunds.filter(effect=effect).exists():
        # The year this payment bought has already been taken off.
        effect = Refund.Effect.NONE
    refund = Refund.objects.create(
        payment=payment,
        amount_pence=amount_pence,
        reason=reason,
        effect=effect,
        recorded_by=by,
        stripe_refund_id=stripe_refund_id or None,
    )
    old_payment_status = payment.status
    payment.refunded_pence += amount_pence
    fields = ["refunded_pence", "status", "updated_at"]
    if payment.refunded_pence == payment.amount_pence:
        payment.status = PaymentStatus.REFUNDED
        if payment.needs_attention and payment.attention_reason != Payment.Attention.DISPUTED:
            payment.attention_resolved_at = timezone.now()
            payment.attention_resolution = f"Refunded in full: {reason}"
            fields += ["attention_resolved_at", "attention_resolution"]
    elif payment.status != PaymentStatus.HELD:
        payment.status = PaymentStatus.PARTIALLY_REFUNDED
    payment.save(update_fields=fields)
    audit_record(
        actor=by,
        actor_label=actor_label,
        subject=membership.user if membership else payment.user,
        target=payment,
        action="refunded",
        from_state=old_payment_status,
        to_state=payment.status,
        reason=reason,
        data={"amount_pence": amount_pence, "effect": effect},
    )
    if membership is None:
        if effect != Refund.Effect.NONE:
            from members.organisations.seats import organisation_year_end

            organisation_year_end(year_id=payment.organisation_membership_id, by=by, reason=reason)
        return refund
    _apply_refund_effect(
        membership=membership, payment=payment, effect=effect, by=by, reason=reason
    )
    # A year refunded in full no longer counts, and ending the membership
    # takes it out of lapses and retention.
    membership_figures_refresh(membership_id=membership.pk)
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
    # The year the arrangement was collecting towards is gone, or the
    # membership is: nothing more may be collected for it.
    from .auto_renewal import auto_renewals_end_for_memberships

    auto_renewals_end_for_memberships(
        membership_ids=[membership.pk], actor=by, label="", cause=f"refund ({effect})"
    )
