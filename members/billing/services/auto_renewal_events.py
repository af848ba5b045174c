"""Stripe's events about automatic renewals: the subscription's Checkout,
its invoices (upcoming, paid, failed), the subscription itself (updated,
deleted) and Bacs mandates.

Every handler re-reads the object from Stripe and acts on what Stripe says
now, not on the event, so the order events arrive in changes nothing:

- the arrangement's state is always a copy of the subscription's, except
  that an ended arrangement never comes back;
- a paid invoice buys one year however often, and in whatever order, its
  events arrive (the renewal row is locked, ``stripe_invoice_id`` is
  unique), even after the subscription has ended: money taken is honoured,
  except that money for a membership ended on purpose (refunded, cancelled,
  lapsed) is held for the membership team, never applied and never lost;
- each email is recorded once under ``CollectionNotice``'s unique key, so a
  repeated ``invoice.upcoming`` or ``invoice.payment_failed`` is silent.
"""

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from members.audit import audit_record
from members.billing import stripe_gateway
from members.models import AuditEntry, AutoRenewal, Grade, Membership, Payment

from .auto_renewal import (
    FAILED_NOTICES,
    MIN_TRIAL,
    Notice,
    Status,
    _end_locked,
    _starts_at,
    collection_failed_locked,
    collection_notice_queue,
    paid_until,
)
from .payments import open_payments_cancel, payment_hold_locked, year_buy_locked

logger = logging.getLogger(__name__)

EVENTS = {
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.upcoming",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "mandate.updated",
}
ENDED = {"canceled", "incomplete_expired", "unpaid"}


class NotYet(Exception):
    """The event is about something the portal does not know (yet): its
    row is rolled back so a later delivery is processed afresh."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


def _day(timestamp: int) -> datetime.date | None:
    if not timestamp:
        return None
    return timezone.localdate(datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC))


def auto_renewal_event(event) -> str:
    """Handle one stored event; raise ``NotYet`` for one about a
    subscription the portal does not know."""
    kind = event["type"]
    obj = event.to_dict()["data"]["object"]
    if kind.startswith("customer.subscription."):
        renewal = _renewal_for(stripe_gateway.subscription_retrieve(obj["id"]))
        return _sync(renewal)
    if kind == "mandate.updated":
        return _mandate_event(obj["id"])
    if kind == "invoice.upcoming":
        return _upcoming(stripe_gateway.invoice_subscription(obj))
    invoice = stripe_gateway.invoice_retrieve(obj["id"])
    if not invoice.subscription:
        return "ignored"
    renewal = _renewal_for(stripe_gateway.subscription_retrieve(invoice.subscription))
    if kind == "invoice.paid":
        outcome = invoice_settle(renewal=renewal, invoice=invoice, actor_label="stripe")
        if outcome == "fulfilled":
            renewal = _align(renewal)
        _sync(renewal)
        return outcome
    return _failed(renewal=renewal, invoice=invoice)


def invoice_paid_reconcile(*, renewal: AutoRenewal, invoice, actor_label: str) -> str:
    """Reconciliation's ``invoice.paid``: the same settlement as the
    webhook's, and, when it bought a year, the subscription re-read and the
    next collection brought forward as the webhook does (a renewal in grace
    whose year is backdated)."""
    outcome = invoice_settle(renewal=renewal, invoice=invoice, actor_label=actor_label)
    if outcome == "fulfilled":
        found = (renewal, stripe_gateway.subscription_retrieve(invoice.subscription))
        _sync(_align(found), label=actor_label)
    return outcome


def _align(found: tuple) -> tuple:
    """After a year is bought, the next collection is the day after it
    ends. A year backdated to the end of the last one (a renewal in grace)
    ends sooner than Stripe's cycle: the collection is brought forward."""
    renewal, sub = found
    want = paid_until(renewal) + datetime.timedelta(days=1)
    due = _day(sub.next_collection_at)
    if sub.status not in ("active", "trialing") or sub.cancel_at_period_end or due is None:
        return found
    at = _starts_at(want)
    if want >= due or at - timezone.now() < MIN_TRIAL:
        return found
    return renewal, stripe_gateway.subscription_next_collection_set(
        subscription_id=sub.id, at=int(at.timestamp())
    )


def _renewal_for(subscription: stripe_gateway.Subscription) -> tuple:
    renewal = AutoRenewal.objects.filter(stripe_subscription_id=subscription.id).first()
    if renewal is None and subscription.auto_renewal_id.isdigit():
        renewal = AutoRenewal.objects.filter(
            pk=int(subscription.auto_renewal_id), stripe_subscription_id__isnull=True
        ).first()
    if renewal is None:
        raise NotYet("unknown subscription")
    return renewal, subscription


# --- Checkout ----------------------------------------------------------------


def auto_renewal_checkout_settle(*, auto_renewal_id: int, actor_label: str) -> str:
    """The member finished (or abandoned) the subscription's Checkout: as
    Stripe says now. The one path for the webhook and the return page."""
    renewal = AutoRenewal.objects.get(pk=auto_renewal_id)
    session = stripe_gateway.checkout_session_retrieve(renewal.stripe_checkout_session_id)
    if session.status == "expired":
        with transaction.atomic():
            locked = AutoRenewal.objects.select_for_update().get(pk=renewal.pk)
            if locked.status != Status.SETTING_UP:
                return "no change"
            _end_locked(
                renewal=locked,
                reason=AutoRenewal.EndReason.ABANDONED,
                actor=None,
                label=actor_label,
            )
        return "abandoned"
    if session.status != "complete" or not session.subscription:
        return "not finished"
    subscription = stripe_gateway.subscription_retrieve(session.subscription)
    return _sync((renewal, subscription), label=actor_label)


def subscription_session_event(event) -> str | None:
    """A Checkout event about an automatic renewal's session; None when the
    session is not one."""
    session_id = event["data"]["object"]["id"]
    renewal = AutoRenewal.objects.filter(stripe_checkout_session_id=session_id).first()
    if renewal is None:
        return None
    return auto_renewal_checkout_settle(auto_renewal_id=renewal.pk, actor_label="stripe")


# --- The subscription --------------------------------------------------------


def _sync(found: tuple, *, label: str = "stripe") -> str:
    """Copy the subscription (as Stripe said just now) onto its renewal."""
    renewal, sub = found
    with transaction.atomic():
        renewal = (
            AutoRenewal.objects.select_for_update(of=("self",))
            .select_related("membership__user")
            .get(pk=renewal.pk)
        )
        before = renewal.status
        renewal.stripe_subscription_id = sub.id
        renewal.stripe_customer_id = sub.customer or renewal.stripe_customer_id
        if sub.price_id:
            renewal.stripe_price_id = sub.price_id
            renewal.next_amount_pence = sub.amount_pence
        if sub.payment_method_id:
            renewal.stripe_payment_method_id = sub.payment_method_id
        if sub.card_last4:
            renewal.card_brand, renewal.card_last4 = sub.card_brand, sub.card_last4
            renewal.card_exp_month, renewal.card_exp_year = sub.card_exp_month, sub.card_exp_year
        if sub.bank_last4:
            renewal.bank_last4 = sub.bank_last4
        if renewal.status == Status.ENDED:
            renewal.save()
            if sub.status not in ENDED:
                # Ended here (abandoned for another choice, stopped while
                # its Checkout was open, the membership ended) yet Stripe
                # still has it: it must collect nothing, so it goes too.
                from members.billing.tasks import auto_renewal_subscription_cancel_task

                auto_renewal_subscription_cancel_task.delay_on_commit(sub.id)
            return "ended already"
        if sub.status in ENDED:
            renewal.save()
            _end_from_stripe(renewal=renewal, sub=sub, label=label)
            return "ended"
        if sub.status == "incomplete":
            renewal.save()
            return "not finished"
        if sub.cancel_at_period_end:
            renewal.status = Status.STOPPING
            renewal.stopped_at = renewal.stopped_at or timezone.now()
            renewal.next_collection_on = None
        else:
            renewal.status = Status.PAST_DUE if sub.status == "past_due" else Status.ACTIVE
            renewal.next_collection_on = _day(sub.next_collection_at)
        renewal.save()
        if before == Status.SETTING_UP and renewal.membership_id is not None:
            # Set up: the subscription collects the year from now on, so a
            # one-off card page or invoice still open must not buy it too.
            open_payments_cancel(membership_id=renewal.membership_id)
        if renewal.status != before:
            audit_record(
                actor=None,
                actor_label=label,
                subject=renewal.audit_subject,
                target=renewal,
                action=f"auto_renewal_{renewal.status}",
                from_state=before,
                to_state=renewal.status,
                data={"next_collection_on": str(renewal.next_collection_on)},
            )
            if renewal.status == Status.STOPPING and before != Status.SETTING_UP:
                # Stopped somewhere other than the portal (by Stripe's
                # dashboard): the member hears it as from the portal.
                collection_notice_queue(renewal=renewal, kind=Notice.STOPPED)
    return renewal.status


def _end_from_stripe(*, renewal: AutoRenewal, sub, label: str) -> None:
    if renewal.mandate_status == AutoRenewal.Mandate.INACTIVE:
        reason = AutoRenewal.EndReason.MANDATE_REVOKED
    elif renewal.status == Status.STOPPING or sub.cancellation_reason == "cancellation_requested":
        reason = AutoRenewal.EndReason.STOPPED
    elif renewal.status == Status.SETTING_UP:
        reason = AutoRenewal.EndReason.ABANDONED
    else:
        # Stripe cancels a subscription whose retries have run out.
        reason = AutoRenewal.EndReason.RETRIES_ENDED
    _end_locked(renewal=renewal, reason=reason, actor=None, label=label)
    if reason == AutoRenewal.EndReason.RETRIES_ENDED:
        collection_notice_queue(renewal=renewal, kind=Notice.RETRIES_ENDED)


def _mandate_event(mandate_id: str) -> str:
    mandate = stripe_gateway.mandate_retrieve(mandate_id)
    renewal = _mandate_renewal(mandate)
    if renewal is None:
        raise NotYet("unknown mandate")
    status = {
        "active": AutoRenewal.Mandate.ACTIVE,
        "pending": AutoRenewal.Mandate.PENDING,
        "inactive": AutoRenewal.Mandate.INACTIVE,
    }.get(mandate.status)
    if status is None:
        return "ignored"
    cancel = ""
    with transaction.atomic():
        renewal = (
            AutoRenewal.objects.select_for_update(of=("self",))
            .select_related("membership__user")
            .get(pk=renewal.pk)
        )
        before = renewal.mandate_status
        renewal.stripe_mandate_id = mandate.id
        renewal.mandate_reference = mandate.reference or renewal.mandate_reference
        if before == AutoRenewal.Mandate.INACTIVE:
            # Revoked is final: a mandate is never reinstated.
            renewal.save()
            return "no change"
        renewal.mandate_status = status
        renewal.save()
        if status == before:
            return "no change"
        audit_record(
            actor=None,
            actor_label="stripe",
            subject=renewal.audit_subject,
            target=renewal,
            action=f"mandate_{status}",
            from_state=before,
            to_state=status,
        )
        if status == AutoRenewal.Mandate.INACTIVE:
            collection_notice_queue(renewal=renewal, kind=Notice.MANDATE_FAILED)
            if renewal.status != Status.ENDED:
                cancel = renewal.stripe_subscription_id or ""
                _end_locked(
                    renewal=renewal,
                    reason=AutoRenewal.EndReason.MANDATE_REVOKED,
                    actor=None,
                    label="stripe",
                )
    if cancel:
        # Nothing can be collected any more: the subscription goes too, so
        # Stripe sends no failures on top of the mandate notice.
        from members.billing.tasks import auto_renewal_subscription_cancel_task

        auto_renewal_subscription_cancel_task.delay_on_commit(cancel)
    return f"mandate {status}"


def _mandate_renewal(mandate) -> AutoRenewal | None:
    """The arrangement a mandate belongs to: by the mandate, then by its
    payment method; a live one before any ended one (a member who set up
    again with the same bank account), the newest first."""
    found = [AutoRenewal.objects.filter(stripe_mandate_id=mandate.id)]
    if mandate.payment_method:
        found.append(AutoRenewal.objects.filter(stripe_payment_method_id=mandate.payment_method))
    for rows in found:
        live = rows.exclude(status=Status.ENDED).order_by("-pk").first()
        if live is not None:
            return live
    for rows in found:
        ended = rows.order_by("-pk").first()
        if ended is not None:
            return ended
    return None


def _ended_unfinished(renewal: AutoRenewal) -> bool:
    """Whether ``renewal`` ended before it was ever set up: abandoned, or
    stopped (or ended) while its Checkout was still open. Money a
    subscription made from it collects buys nothing by itself."""
    if renewal.status != Status.ENDED:
        return False
    if renewal.end_reason == AutoRenewal.EndReason.ABANDONED:
        return True
    return AuditEntry.objects.filter(
        target_type=AutoRenewal._meta.model_name,
        target_id=renewal.pk,
        action="auto_renewal_ended",
        from_state=Status.SETTING_UP,
    ).exists()


# --- Invoices ----------------------------------------------------------------


def _upcoming(subscription_id: str) -> str:
    renewal, sub = _renewal_for(stripe_gateway.subscription_retrieve(subscription_id))
    if renewal.membership_id is not None:
        grade = Grade.objects.get(pk=renewal.membership.grade_id)
        if (
            sub.price_id
            and sub.amount_pence != grade.annual_fee_pence
            and sub.status != "canceled"
        ):
            # The grade's fee changed and the subscription has not caught
            # up: the next collection is at the new fee, and the notice
            # says so.
            sub = _reprice(renewal=renewal, sub=sub, grade=grade)
    _sync((renewal, sub))
    renewal.refresh_from_db()
    if not renewal.collects or renewal.next_collection_on is None:
        return "nothing to collect"
    sent = collection_notice_queue(
        renewal=renewal,
        kind=Notice.UPCOMING,
        collection_on=renewal.next_collection_on,
        amount_pence=renewal.next_amount_pence,
    )
    return "notice queued" if sent else "notice sent already"


def _reprice(*, renewal: AutoRenewal, sub, grade: Grade):
    price_id = stripe_gateway.price_for_grade(
        grade_id=grade.pk, grade_name=grade.name, amount_pence=grade.annual_fee_pence
    )
    return stripe_gateway.subscription_price_set(
        subscription_id=sub.id, item_id=sub.item_id, price_id=price_id
    )


def auto_renewals_reprice(*, grade_id: int) -> int:
    """After a grade's fee changed: every subscription collecting for it
    moves to the new fee from its next collection. Returns how many moved."""
    grade = Grade.objects.get(pk=grade_id)
    moved = 0
    live = AutoRenewal.objects.filter(
        membership__grade=grade, status__in=[Status.ACTIVE, Status.PAST_DUE, Status.SETTING_UP]
    )
    for renewal in live.exclude(stripe_subscription_id__isnull=True).iterator():
        sub = stripe_gateway.subscription_retrieve(renewal.stripe_subscription_id)
        if sub.amount_pence != grade.annual_fee_pence and sub.status not in ENDED:
            _sync((renewal, _reprice(renewal=renewal, sub=sub, grade=grade)), label="fee change")
            moved += 1
    # The offline provider's arrangements: the next simulated collection.
    moved += live.filter(stripe_subscription_id__isnull=True).update(
        grade=grade, next_amount_pence=grade.annual_fee_pence, updated_at=timezone.now()
    )
    return moved


def invoice_settle(*, renewal: AutoRenewal | tuple, invoice, actor_label: str) -> str:
    """A subscription invoice Stripe says is paid: one payment and one year
    for it, however often this is called. The one path for webhooks and
    reconciliation."""
    if isinstance(renewal, tuple):
        renewal = renewal[0]
    if invoice.status != "paid":
        return "not paid"
    if invoice.amount_paid <= 0:
        return "nothing collected"
    with transaction.atomic():
        renewal = AutoRenewal.objects.select_for_update(of=("self",)).get(pk=renewal.pk)
        if Payment.objects.filter(stripe_invoice_id=invoice.id).exists():
            return "no change"
        if renewal.for_organisation:
            from members.organisations.auto_renewal import organisation_invoice_settle_locked

            return organisation_invoice_settle_locked(
                renewal=renewal, invoice=invoice, actor_label=actor_label
            )
        membership = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(pk=renewal.membership_id)
        )
        method = (
            Payment.Method.BACS_DEBIT
            if renewal.method == AutoRenewal.Method.BACS_DEBIT
            else Payment.Method.STRIPE
        )
        payment = Payment.objects.create(
            membership=membership,
            user=membership.user,
            grade=membership.grade,
            purpose=(
                Payment.Purpose.JOIN
                if membership.status == Membership.Status.AWAITING_PAYMENT
                else Payment.Purpose.RENEW
            ),
            method=method,
            amount_pence=invoice.amount_paid,
            stripe_invoice_id=invoice.id,
            stripe_payment_intent_id=invoice.payment_intent,
            auto_renewal=renewal,
            auto_collected=invoice.billing_reason == "subscription_cycle",
        )
        if membership.user.erased_at is not None or invoice.currency != "gbp":
            payment_hold_locked(
                payment=payment,
                reason=(
                    Payment.Attention.AFTER_ERASURE
                    if membership.user.erased_at is not None
                    else Payment.Attention.WRONG_AMOUNT
                ),
                actor_label=actor_label,
                action="payment_received_held",
                audit_reason=f"Stripe invoice {invoice.id}: refund it.",
                received_pence=invoice.amount_paid,
                received_currency=invoice.currency,
            )
            return "held"
        if _ended_unfinished(renewal):
            # The member left this set-up (chose something else, or stopped
            # it) and Stripe made the subscription all the same: the money
            # buys nothing until the membership team decide.
            payment_hold_locked(
                payment=payment,
                reason=Payment.Attention.SUPERSEDED,
                actor_label=actor_label,
                action="payment_received_held",
                audit_reason=(
                    f"Stripe invoice {invoice.id} was paid for an automatic renewal "
                    "set-up that had been abandoned or stopped: accept it or refund it."
                ),
                received_pence=invoice.amount_paid,
                received_currency=invoice.currency,
            )
            return "held"
        if (
            renewal.end_reason == AutoRenewal.EndReason.MEMBERSHIP_ENDED
            or membership.status == Membership.Status.CANCELLED
        ):
            # The membership was ended on purpose (refunded, cancelled by
            # the team, lapsed) before Stripe's cancellation took: the money
            # buys nothing until the membership team decide.
            payment_hold_locked(
                payment=payment,
                reason=Payment.Attention.SUPERSEDED,
                actor_label=actor_label,
                action="payment_received_held",
                audit_reason=(
                    f"Stripe invoice {invoice.id} was paid after the membership's "
                    "automatic renewal was ended: accept it or refund it."
                ),
                received_pence=invoice.amount_paid,
                received_currency=invoice.currency,
            )
            return "held"
        year_buy_locked(payment=payment, membership=membership, actor=None, label=actor_label)
        if renewal.status == Status.PAST_DUE:
            renewal.status = Status.ACTIVE
        if renewal.mandate_status == AutoRenewal.Mandate.PENDING:
            # Money arrived by Direct Debit: the mandate works.
            renewal.mandate_status = AutoRenewal.Mandate.ACTIVE
        renewal.save(update_fields=["status", "mandate_status", "updated_at"])
    return "fulfilled"


def _failed(*, renewal: tuple, invoice) -> str:
    found, sub = renewal
    if invoice.status == "paid":
        return "paid since"
    _sync((found, sub))
    with transaction.atomic():
        locked = (
            AutoRenewal.objects.select_for_update(of=("self",))
            .select_related("membership__user")
            .get(pk=found.pk)
        )
        final = invoice.next_payment_attempt is None and invoice.attempt_count > FAILED_NOTICES
        if locked.status == Status.ENDED and not final:
            # The subscription ended (retries over, or stopped) before this
            # event came: the member has heard already.
            locked.last_failure_at = locked.last_failure_at or timezone.now()
            locked.save(update_fields=["last_failure_at", "updated_at"])
            return "ended already"
        collection_failed_locked(
            renewal=locked,
            collection_on=_day(invoice.created),
            attempt=invoice.attempt_count,
            message=invoice.failure_message or "The bank or card provider turned it down.",
            final=final,
            label="stripe",
        )
    return "retries ended" if final else f"failed, attempt {invoice.attempt_count}"
