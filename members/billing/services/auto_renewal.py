"""Automatic renewal: a membership's yearly fee collected by card or Bacs
Direct Debit through a Stripe Billing subscription, or by the offline
provider standing in for Stripe on a portal without Stripe keys.

The rules:

- One source of truth for a year: a year is bought by exactly one paid
  Stripe invoice (``Payment.stripe_invoice_id`` is unique) through the same
  ``year_buy_locked`` as every other payment.
- Stripe collects; the portal only copies what Stripe says, re-read from
  Stripe before it is written (``auto_renewal_sync`` in
  ``stripe_webhooks``), so the order webhooks arrive in does not matter.
- The first collection is on the day the current year ends (a trial until
  then), so switching to automatic renewal loses no days; a joiner, or a
  member whose year has ended, pays on the day they set it up.
- Stopping is one action: cancel at period end, and a full refund, once,
  when the member stops within 14 days after an automatic collection.
- Stripe is only ever called outside a database transaction; a
  session-level advisory lock per membership keeps two clicks from making
  two subscriptions.
"""

import datetime
import logging
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from members.audit import audit_fields, audit_record
from members.billing import stripe_gateway
from members.exceptions import MembershipError, PaymentProviderError, PaymentProviderRefused
from members.models import (
    AuditEntry,
    AutoRenewal,
    CollectionNotice,
    Membership,
    Payment,
    Refund,
    RefundIntent,
    User,
)

from .payments import offline_provider_enabled, open_payments_cancel, year_buy_locked
from .refunds import refund_record
from .stripe_refunds import (
    refund_intent_close_owed,
    refund_intent_open,
    refund_intent_record,
    refund_retry_countdown,
)

logger = logging.getLogger(__name__)

Status = AutoRenewal.Status
Notice = CollectionNotice.Kind

# A collection refunded in full when the member stops within this many days
# after it (the Digital Markets, Competition and Consumers Act 2024's
# cooling-off period after a subscription renews).
COOLING_OFF_DAYS = 14
# Stripe retries a failed collection; the member hears about the first two
# failures and then about the last one, never more than three emails.
FAILED_NOTICES = 2
# Stripe Checkout wants a trial to end at least 48 hours ahead; a year that
# ends sooner is collected at set-up (the year it buys still starts after
# the current one, so nothing is lost).
MIN_TRIAL = datetime.timedelta(hours=49)
COOLING_OFF_REASON = (
    f"Automatic renewal stopped within {COOLING_OFF_DAYS} days of the "
    "collection: refunded in full."
)
STOP_SALT = "members.auto_renewal.stop"
# Advisory lock namespace (the first key of pg_advisory_lock(int, int)).
_LOCK_CLASS = 0x1A12


@dataclass(frozen=True)
class AutoRenewalOffer:
    """What the member is told before they choose automatic renewal."""

    method: str
    grade: object
    amount_pence: int
    amount_display: str
    # The first automatic collection: the day after the current year ends,
    # or today when there is no current year (joining, or after it ended).
    first_collection_on: datetime.date
    # Whether the first collection is made at set-up.
    pays_now: bool
    # How many days before each collection the member is emailed.
    notice_days: int
    available: bool
    why_not: str = ""


@dataclass(frozen=True)
class StopResult:
    auto_renewal: AutoRenewal
    # Whether this call stopped it (False: it had stopped already).
    changed: bool
    # The last day of membership the member keeps.
    ends_on: datetime.date | None
    refund: Refund | None = None
    # The cooling-off refund owed but not yet made by Stripe (pence).
    refund_owed_pence: int | None = None


def provider() -> str:
    """Who collects: "stripe", "offline" or "" (nobody: not offered)."""
    if stripe_gateway.is_configured():
        return "stripe"
    if offline_provider_enabled():
        return "offline"
    return ""


def notice_days() -> int:
    return settings.AUTO_RENEWAL_NOTICE_DAYS


def _current_year_ends(membership: Membership, today: datetime.date) -> datetime.date | None:
    if membership.status in Membership.IN_GOOD_STANDING and membership.expires_on >= today:
        return membership.expires_on
    return None


def auto_renewal_offer(
    *, membership: Membership, method: str, today: datetime.date | None = None
) -> AutoRenewalOffer:
    today = today or timezone.localdate()
    grade = membership.grade
    ends = _current_year_ends(membership, today)
    first = ends + datetime.timedelta(days=1) if ends else today
    if ends and _starts_at(first) - timezone.now() < MIN_TRIAL:
        first = today
    pays_now = first == today
    why_not = ""
    live = AutoRenewal.objects.filter(membership=membership).exclude(status=Status.ENDED).first()
    if method not in AutoRenewal.Method.values:
        why_not = "Choose to renew by card or by Direct Debit."
    elif not provider():
        why_not = "Automatic renewal is not available at the moment: pay once instead."
    elif membership.status == Membership.Status.PENDING_APPROVAL:
        why_not = (
            "Your application needs the membership team's approval first; "
            "you can choose automatic renewal when you pay."
        )
    elif membership.status == Membership.Status.CANCELLED:
        why_not = "This membership has ended: choose a grade to rejoin first."
    elif grade.annual_fee_pence <= 0:
        why_not = "Your grade has no fee to collect."
    elif live is not None and live.status != Status.SETTING_UP:
        why_not = (
            "Your membership already renews automatically."
            if live.collects
            else "Your automatic renewal is stopping at the end of your year; "
            "you can set it up again after that."
        )
    return AutoRenewalOffer(
        method=method,
        grade=grade,
        amount_pence=grade.annual_fee_pence,
        amount_display=grade.fee_display,
        first_collection_on=first,
        pays_now=pays_now,
        notice_days=notice_days(),
        available=not why_not,
        why_not=why_not,
    )


def _starts_at(day: datetime.date) -> datetime.datetime:
    """When Stripe starts a collection day's collection: just after
    midnight in the portal's time zone, so a card payment (Stripe charges
    about an hour later) arrives before the morning's membership sweep."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(0, 5)))


@contextmanager
def _membership_lock(membership_id: int):
    """Serialise set-up and stopping for one membership across processes
    without holding a transaction open while Stripe answers."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [_LOCK_CLASS, membership_id])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, membership_id])


# An organisation's arrangements are serialised per account, apart from
# the memberships' (members/organisations/auto_renewal.py).
_ORGANISATION_LOCK_CLASS = 0x1A13


@contextmanager
def _renewal_lock(renewal: AutoRenewal):
    """The lock of what ``renewal`` renews: its membership, or its
    organisation account."""
    if renewal.membership_id is not None:
        with _membership_lock(renewal.membership_id):
            yield
        return
    with _advisory_lock(_ORGANISATION_LOCK_CLASS, renewal.organisation_account_id):
        yield


@contextmanager
def _advisory_lock(lock_class: int, key: int):
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [lock_class, key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [lock_class, key])


def paid_until(renewal: AutoRenewal) -> datetime.date | None:
    """The last day paid for of what ``renewal`` renews: the membership's
    expiry, or the end of the organisation's latest paid year."""
    if renewal.membership_id is not None:
        return Membership.objects.values_list("expires_on", flat=True).get(
            pk=renewal.membership_id
        )
    from members.organisations.auto_renewal import organisation_paid_until

    return organisation_paid_until(account_id=renewal.organisation_account_id)


# --- Setting up -------------------------------------------------------------


def auto_renewal_start(
    *, membership: Membership, method: str, user: User, success_url: str, cancel_url: str
) -> AutoRenewal:
    """The set-up page for automatic renewal: the open one when the member
    comes back with the same choice, otherwise a new one (which replaces an
    unfinished set-up). ``checkout_url`` is where to send the member."""
    with _membership_lock(membership.pk):
        renewal, reused = _start_row(membership=membership, method=method, user=user)
        if reused:
            return renewal
        if provider() == "offline":
            renewal.checkout_url = reverse("members:auto_renewal_offline", args=[renewal.pk])
            renewal.save(update_fields=["checkout_url", "updated_at"])
            return renewal
        return _stripe_checkout(
            renewal=renewal, user=user, success_url=success_url, cancel_url=cancel_url
        )


@transaction.atomic
def _start_row(*, membership: Membership, method: str, user: User) -> tuple[AutoRenewal, bool]:
    membership = (
        Membership.objects.select_for_update().select_related("grade").get(pk=membership.pk)
    )
    offer = auto_renewal_offer(membership=membership, method=method)
    if not offer.available:
        raise MembershipError(offer.why_not)
    open_one = (
        AutoRenewal.objects.select_for_update()
        .filter(membership=membership, status=Status.SETTING_UP)
        .first()
    )
    if open_one is not None:
        fresh = open_one.created_at > timezone.now() - datetime.timedelta(hours=23)
        if (
            fresh
            and open_one.method == method
            and open_one.grade_id == membership.grade_id
            and open_one.checkout_url
        ):
            return open_one, True
        _end_locked(renewal=open_one, reason=AutoRenewal.EndReason.ABANDONED, actor=user, label="")
    customer = (
        AutoRenewal.objects.filter(membership=membership)
        .exclude(stripe_customer_id="")
        .values_list("stripe_customer_id", flat=True)
        .first()
    )
    renewal = AutoRenewal.objects.create(
        membership=membership,
        method=method,
        grade=membership.grade,
        stripe_customer_id=customer or "",
        next_collection_on=offer.first_collection_on,
        next_amount_pence=offer.amount_pence,
        mandate_status=(
            AutoRenewal.Mandate.PENDING
            if method == AutoRenewal.Method.BACS_DEBIT
            else AutoRenewal.Mandate.NONE
        ),
    )
    audit_record(
        actor=user,
        subject=membership.user,
        target=renewal,
        action="auto_renewal_started",
        to_state=renewal.status,
        data={
            "method": method,
            "amount_pence": offer.amount_pence,
            "first_collection_on": str(offer.first_collection_on),
        },
    )
    return renewal, False


def _stripe_checkout(
    *, renewal: AutoRenewal, user: User, success_url: str, cancel_url: str
) -> AutoRenewal:
    try:
        if renewal.for_organisation:
            # An organisation's year is one item: its seats at its fee.
            price_id = stripe_gateway.price_yearly(
                key=f"igpm-organisation-{renewal.organisation_account_id}-"
                f"{renewal.next_amount_pence}",
                product_name=f"IGPM organisation seats ({renewal.grade.name}), yearly",
                amount_pence=renewal.next_amount_pence,
            )
        else:
            price_id = stripe_gateway.price_for_grade(
                grade_id=renewal.grade_id,
                grade_name=renewal.grade.name,
                amount_pence=renewal.next_amount_pence,
            )
        trial_end = None
        if renewal.next_collection_on > timezone.localdate():
            trial_end = int(_starts_at(renewal.next_collection_on).timestamp())
        session = stripe_gateway.subscription_checkout_create(
            auto_renewal_id=renewal.pk,
            price_id=price_id,
            method=renewal.method,
            customer_id=renewal.stripe_customer_id,
            customer_email=user.email,
            trial_end=trial_end,
            success_url=success_url,
            cancel_url=cancel_url,
        )
    except PaymentProviderError:
        with transaction.atomic():
            locked = AutoRenewal.objects.select_for_update().get(pk=renewal.pk)
            if locked.status == Status.SETTING_UP:
                _end_locked(
                    renewal=locked,
                    reason=AutoRenewal.EndReason.ABANDONED,
                    actor=None,
                    label="system: Stripe not answering",
                )
        raise
    AutoRenewal.objects.filter(pk=renewal.pk).update(
        stripe_checkout_session_id=session.id,
        checkout_url=session.url,
        stripe_price_id=price_id,
        updated_at=timezone.now(),
    )
    renewal.refresh_from_db()
    return renewal


def _end_locked(*, renewal: AutoRenewal, reason: str, actor: User | None, label: str) -> None:
    """End the locked ``renewal`` now (no more collections)."""
    old = renewal.status
    renewal.status = Status.ENDED
    renewal.end_reason = reason
    renewal.ended_at = timezone.now()
    renewal.next_collection_on = None
    renewal.save(
        update_fields=["status", "end_reason", "ended_at", "next_collection_on", "updated_at"]
    )
    audit_record(
        actor=actor,
        actor_label=label,
        subject=renewal.audit_subject,
        target=renewal,
        action="auto_renewal_ended",
        from_state=old,
        to_state=renewal.status,
        data={"reason": reason},
    )
    if old == Status.SETTING_UP and renewal.stripe_checkout_session_id:
        from members.billing.tasks import auto_renewal_checkout_expire_task

        auto_renewal_checkout_expire_task.delay_on_commit(renewal.stripe_checkout_session_id)


def auto_renewals_end_for_memberships(
    *, membership_ids, actor: User | None, label: str, cause: str
) -> int:
    """The memberships were ended on purpose (a refund that ends them or
    takes their year off, a staff status change, a lapse): their live
    arrangements end now and their subscriptions are cancelled at Stripe
    once this commits, so nothing more is collected for them. Money Stripe
    still takes for one is held (``invoice_settle``). Call inside the
    transaction that ends the memberships. A fixed number of queries
    however many end (one when none renews automatically), so the daily
    sweep's lapses stay flat per batch. Returns how many ended."""
    from members.billing.tasks import (
        auto_renewal_checkout_expire_task,
        auto_renewal_subscription_cancel_task,
    )

    live = list(
        AutoRenewal.objects.select_for_update(of=("self",))
        .filter(membership_id__in=list(membership_ids))
        .exclude(status=Status.ENDED)
        .order_by("pk")
        .values_list(
            "pk",
            "status",
            "membership__user_id",
            "stripe_subscription_id",
            "stripe_checkout_session_id",
        )
    )
    if not live:
        return 0
    now = timezone.now()
    reason = AutoRenewal.EndReason.MEMBERSHIP_ENDED
    AutoRenewal.objects.filter(pk__in=[row[0] for row in live]).update(
        status=Status.ENDED,
        end_reason=reason,
        ended_at=now,
        next_collection_on=None,
        updated_at=now,
    )
    AuditEntry.objects.bulk_create(
        AuditEntry(
            **audit_fields(
                actor=actor,
                actor_label=label,
                subject=User(pk=user_id),
                target=AutoRenewal(pk=pk),
                action="auto_renewal_ended",
                from_state=status,
                to_state=Status.ENDED,
                data={"reason": reason, "cause": cause},
            )
        )
        for pk, status, user_id, _sub, _session in live
    )
    for _pk, status, _user, subscription_id, session_id in live:
        if subscription_id:
            auto_renewal_subscription_cancel_task.delay_on_commit(subscription_id)
        elif status == Status.SETTING_UP and session_id:
            auto_renewal_checkout_expire_task.delay_on_commit(session_id)
    return len(live)


# --- The offline provider ----------------------------------------------------


def _offline_only(renewal: AutoRenewal) -> None:
    if not offline_provider_enabled() or renewal.stripe_subscription_id:
        raise MembershipError("The offline test provider is not available here.")


@transaction.atomic
def offline_setup_complete(*, auto_renewal_id: int, actor: User) -> AutoRenewal:
    """The offline provider's stand-in for finishing Stripe Checkout: the
    arrangement is active, and a member with no current year pays now."""
    renewal = AutoRenewal.objects.select_for_update().get(pk=auto_renewal_id)
    _offline_only(renewal)
    if renewal.status != Status.SETTING_UP:
        return renewal
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(pk=renewal.membership_id)
    )
    today = timezone.localdate()
    open_payments_cancel(membership_id=membership.pk)
    renewal.status = Status.ACTIVE
    if renewal.method == AutoRenewal.Method.CARD:
        renewal.card_brand, renewal.card_last4 = "visa", "4242"
        renewal.card_exp_month, renewal.card_exp_year = 12, today.year + 3
    else:
        renewal.mandate_reference = f"IGPM-TEST-{renewal.pk:06d}"
        renewal.bank_last4 = "2345"
    if renewal.next_collection_on is None or renewal.next_collection_on <= today:
        payment = _offline_payment(renewal=renewal, membership=membership, automatic=False)
        year_buy_locked(
            payment=payment, membership=membership, actor=actor, label="offline provider"
        )
        renewal.next_collection_on = membership.expires_on + datetime.timedelta(days=1)
    renewal.save()
    audit_record(
        actor=actor,
        actor_label="offline provider",
        subject=membership.user,
        target=renewal,
        action="auto_renewal_active",
        from_state=Status.SETTING_UP,
        to_state=renewal.status,
        data={"next_collection_on": str(renewal.next_collection_on)},
    )
    return renewal


def _offline_payment(*, renewal: AutoRenewal, membership: Membership, automatic: bool) -> Payment:
    grade = renewal.grade
    return Payment.objects.create(
        membership=membership,
        user=membership.user,
        grade=grade,
        purpose=(
            Payment.Purpose.JOIN
            if membership.status == Membership.Status.AWAITING_PAYMENT
            else Payment.Purpose.RENEW
        ),
        method=Payment.Method.OFFLINE,
        amount_pence=renewal.next_amount_pence or grade.annual_fee_pence,
        auto_renewal=renewal,
        auto_collected=automatic,
    )


@transaction.atomic
def offline_collection_simulate(*, auto_renewal_id: int, outcome: str = "paid") -> AutoRenewal:
    """The offline provider plays the next automatic collection end to end:
    the notice before it, then the money (a year bought) or a failure
    (notices; the third failure ends the arrangement, as Stripe's retries
    do)."""
    if outcome not in ("paid", "failed"):
        raise ValueError(outcome)
    renewal = (
        AutoRenewal.objects.select_for_update(of=("self",))
        .select_related("grade")
        .get(pk=auto_renewal_id)
    )
    _offline_only(renewal)
    if not renewal.collects:
        raise MembershipError("There is no automatic collection coming.")
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "grade")
        .get(pk=renewal.membership_id)
    )
    # A fee change reaches the next collection.
    renewal.grade = membership.grade
    renewal.next_amount_pence = membership.grade.annual_fee_pence
    if renewal.mandate_status == AutoRenewal.Mandate.PENDING:
        renewal.mandate_status = AutoRenewal.Mandate.ACTIVE
    collection_on = renewal.next_collection_on
    collection_notice_queue(
        renewal=renewal,
        kind=Notice.UPCOMING,
        collection_on=collection_on,
        amount_pence=renewal.next_amount_pence,
    )
    if outcome == "paid":
        payment = _offline_payment(renewal=renewal, membership=membership, automatic=True)
        year_buy_locked(
            payment=payment, membership=membership, actor=None, label="offline provider"
        )
        renewal.status = Status.ACTIVE
        renewal.next_collection_on = membership.expires_on + datetime.timedelta(days=1)
        renewal.save()
        return renewal
    attempt = renewal.notices.filter(kind=Notice.FAILED, collection_on=collection_on).count() + 1
    collection_failed_locked(
        renewal=renewal,
        collection_on=collection_on,
        attempt=attempt,
        message="The offline test provider turned the collection down.",
        final=attempt > FAILED_NOTICES,
        label="offline provider",
    )
    return renewal


def collection_failed_locked(
    *,
    renewal: AutoRenewal,
    collection_on: datetime.date | None,
    attempt: int,
    message: str,
    final: bool,
    label: str,
) -> None:
    """Record a failed collection of the locked ``renewal``: retrying
    (attempts 1 and 2 tell the member), or, when the retries have ended,
    the arrangement ends and the membership runs out as any other."""
    renewal.last_failure_at = timezone.now()
    renewal.last_failure_message = message[:300]
    if final:
        renewal.save(update_fields=["last_failure_at", "last_failure_message", "updated_at"])
        if renewal.status != Status.ENDED:
            _end_locked(
                renewal=renewal,
                reason=AutoRenewal.EndReason.RETRIES_ENDED,
                actor=None,
                label=label,
            )
            if renewal.stripe_subscription_id:
                from members.billing.tasks import auto_renewal_subscription_cancel_task

                auto_renewal_subscription_cancel_task.delay_on_commit(
                    renewal.stripe_subscription_id
                )
        # One per arrangement, whichever event (or the offline provider)
        # says the retries are over.
        collection_notice_queue(renewal=renewal, kind=Notice.RETRIES_ENDED)
        return
    old = renewal.status
    if renewal.status == Status.ACTIVE:
        renewal.status = Status.PAST_DUE
    renewal.save(update_fields=["status", "last_failure_at", "last_failure_message", "updated_at"])
    if old != renewal.status:
        audit_record(
            actor=None,
            actor_label=label,
            subject=renewal.audit_subject,
            target=renewal,
            action="auto_renewal_collection_failed",
            from_state=old,
            to_state=renewal.status,
            data={"attempt": attempt, "message": message[:300]},
        )
    if 1 <= attempt <= FAILED_NOTICES:
        collection_notice_queue(
            renewal=renewal,
            kind=Notice.FAILED,
            collection_on=collection_on,
            attempt=attempt,
            amount_pence=renewal.next_amount_pence,
        )


# --- Stopping ----------------------------------------------------------------


def auto_renewal_stop(*, auto_renewal_id: int, actor: User | None, actor_label: str) -> StopResult:
    """Stop automatic renewal: no more collections; the member keeps the
    year they paid for, or has the last collection back in full when it
    was made less than 14 days ago. Safe to call twice."""
    renewal = AutoRenewal.objects.select_related("membership").get(pk=auto_renewal_id)
    with _renewal_lock(renewal):
        renewal.refresh_from_db()
        if renewal.status in (Status.STOPPING, Status.ENDED):
            return StopResult(auto_renewal=renewal, changed=False, ends_on=paid_until(renewal))
        if renewal.status == Status.SETTING_UP:
            with transaction.atomic():
                locked = AutoRenewal.objects.select_for_update().get(pk=renewal.pk)
                _end_locked(
                    renewal=locked,
                    reason=AutoRenewal.EndReason.STOPPED,
                    actor=actor,
                    label=actor_label,
                )
            return StopResult(auto_renewal=locked, changed=True, ends_on=paid_until(renewal))
        refundable = cooling_off_payment(renewal)
        if renewal.stripe_subscription_id:
            # Stripe first: when it does not answer, nothing has changed here
            # and the member can simply try again.
            if refundable is not None:
                stripe_gateway.subscription_cancel(renewal.stripe_subscription_id)
            else:
                stripe_gateway.subscription_stop_at_period_end(renewal.stripe_subscription_id)
        stripe_refund = intent = None
        if refundable is not None and refundable.stripe_payment_intent_id:
            # Written down before Stripe is asked: should recording it fail
            # after Stripe refunded, charge.refunded or reconciliation
            # still takes the year off (``stripe_refunds``).
            intent = refund_intent_open(
                payment=refundable,
                amount_pence=refundable.amount_pence - refundable.refunded_pence,
                reason=COOLING_OFF_REASON,
                effect=Refund.Effect.SHORTEN,
                by=actor,
                owed=True,
            )
            try:
                stripe_refund = stripe_gateway.refund_create(
                    payment_intent_id=refundable.stripe_payment_intent_id,
                    amount_pence=intent.amount_pence,
                    key=intent.stripe_key,
                    intent_id=intent.pk,
                )
            except PaymentProviderRefused:
                # The refund is still owed: the membership team makes it.
                refund_intent_close_owed(intent_id=intent.pk)
            except PaymentProviderError:
                # The subscription is cancelled already and the refund is
                # owed whatever Stripe answers: the stop goes through, the
                # refund is asked again (``refund_intent_retry``).
                logger.warning("Cooling-off refund intent %s: Stripe did not answer", intent.pk)
        return _stop_locked(
            renewal_id=renewal.pk,
            refundable=refundable,
            stripe_refund=stripe_refund,
            intent=intent,
            actor=actor,
            actor_label=actor_label,
        )


def cooling_off_payment(renewal: AutoRenewal) -> Payment | None:
    """The automatic collection the member may still have back in full."""
    since = timezone.now() - datetime.timedelta(days=COOLING_OFF_DAYS)
    return (
        renewal.payments.filter(
            auto_collected=True,
            status=Payment.Status.PAID,
            refunded_pence=0,
            paid_at__gte=since,
        )
        .order_by("-paid_at")
        .first()
    )


@transaction.atomic
def _stop_locked(
    *,
    renewal_id: int,
    refundable: Payment | None,
    stripe_refund,
    intent=None,
    actor: User | None,
    actor_label: str,
) -> StopResult:
    renewal = AutoRenewal.objects.select_for_update(of=("self",)).get(pk=renewal_id)
    old = renewal.status
    # Stripe's own event about the cancellation may have been handled
    # while Stripe answered: the arrangement is then stopping or ended
    # already, and only the refund is left to do.
    if old in (Status.ACTIVE, Status.PAST_DUE):
        renewal.status = Status.STOPPING
        renewal.stopped_at = timezone.now()
        renewal.next_collection_on = None
        renewal.save(update_fields=["status", "stopped_at", "next_collection_on", "updated_at"])
        audit_record(
            actor=actor,
            actor_label=actor_label,
            subject=renewal.audit_subject,
            target=renewal,
            action="auto_renewal_stopped",
            from_state=old,
            to_state=renewal.status,
        )
    refund = None
    if refundable is not None:
        # The refunded year was the one the subscription was collecting for:
        # nothing is left to run to (ended before the refund is recorded, so
        # it ends as stopped by the member).
        if renewal.status != Status.ENDED:
            _end_locked(
                renewal=renewal,
                reason=AutoRenewal.EndReason.STOPPED,
                actor=actor,
                label=actor_label,
            )
        if intent is not None and stripe_refund is None:
            still_open = RefundIntent.objects.filter(
                pk=intent.pk, status=RefundIntent.Status.OPEN
            ).exists()
            # Not made yet: asked again until it is, or made by the
            # membership team; the member is told it is on its way.
            from members.billing.tasks import refund_intent_retry_task

            intent_id = intent.pk
            if still_open:  # else Stripe refused: in the team's queue
                transaction.on_commit(
                    lambda: refund_intent_retry_task.apply_async(
                        (intent_id,), countdown=refund_retry_countdown(0)
                    )
                )
        elif intent is not None:
            refund = refund_intent_record(
                intent_id=intent.pk, made=stripe_refund, actor_label=actor_label, notify=False
            )
        else:  # the offline provider: nothing to ask Stripe for
            refund = refund_record(
                payment=refundable,
                amount_pence=refundable.amount_pence - refundable.refunded_pence,
                reason=COOLING_OFF_REASON,
                effect=Refund.Effect.SHORTEN,
                by=actor,
                actor_label=actor_label,
            )
        collection_notice_queue(
            renewal=renewal,
            kind=Notice.REFUNDED,
            amount_pence=refund.amount_pence if refund is not None else intent.amount_pence,
        )
    else:
        collection_notice_queue(renewal=renewal, kind=Notice.STOPPED)
    owed = intent.amount_pence if intent is not None and refund is None else None
    return StopResult(
        auto_renewal=renewal,
        changed=True,
        ends_on=paid_until(renewal),
        refund=refund,
        refund_owed_pence=owed,
    )


def stop_token(renewal: AutoRenewal) -> str:
    """The key in every notice's stop link: no sign-in needed."""
    return signing.dumps(renewal.pk, salt=STOP_SALT)


def stop_token_read(token: str) -> AutoRenewal | None:
    try:
        renewal_id = signing.loads(token, salt=STOP_SALT, max_age=datetime.timedelta(days=400))
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(renewal_id, int):
        return None
    return AutoRenewal.objects.select_related("membership__user").filter(pk=renewal_id).first()


# --- Changing the card or bank account --------------------------------------


def auto_renewal_portal_url(*, auto_renewal: AutoRenewal, return_url: str) -> str:
    """Stripe's customer portal for this member, where they can change the
    card or bank account and nothing else. The offline provider has no
    portal: back where the member came from."""
    if not auto_renewal.stripe_customer_id:
        if provider() == "offline":
            return return_url
        raise MembershipError("There is no card or bank account to change yet.")
    return stripe_gateway.portal_session_create(
        customer_id=auto_renewal.stripe_customer_id, return_url=return_url
    )


# --- Collection notices ------------------------------------------------------


def collection_notice_queue(
    *,
    renewal: AutoRenewal,
    kind: str,
    collection_on: datetime.date | None = None,
    attempt: int = 0,
    amount_pence: int | None = None,
) -> bool:
    """Record an email about ``renewal`` unless the same one exists, and
    send it after commit. Returns whether this call recorded it."""
    from members.billing.tasks import collection_notice_send_task

    notice, created = CollectionNotice.objects.get_or_create(
        auto_renewal=renewal,
        kind=kind,
        collection_on=collection_on,
        attempt=attempt,
        defaults={"amount_pence": amount_pence},
    )
    if created:
        collection_notice_send_task.delay_on_commit(notice.pk)
    return created


def upcoming_notices_sweep(*, today: datetime.date | None = None) -> int:
    """The daily safety net under ``invoice.upcoming``: every arrangement
    collecting within the notice period whose member has not yet been told
    about that collection is told now (the first collection after a trial,
    an event Stripe did not send, the offline provider). Returns how many
    notices it queued; a second run queues none."""
    today = today or timezone.localdate()
    told = CollectionNotice.objects.filter(
        auto_renewal=OuterRef("pk"),
        kind=Notice.UPCOMING,
        collection_on=OuterRef("next_collection_on"),
    )
    due = (
        AutoRenewal.objects.filter(
            status__in=[Status.ACTIVE, Status.PAST_DUE],
            next_collection_on__gte=today,
            next_collection_on__lte=today + datetime.timedelta(days=notice_days()),
        )
        .exclude(Exists(told))
        .only("pk", "next_collection_on", "next_amount_pence")
    )
    queued = 0
    for renewal in due.iterator(chunk_size=500):
        with transaction.atomic():
            queued += collection_notice_queue(
                renewal=renewal,
                kind=Notice.UPCOMING,
                collection_on=renewal.next_collection_on,
                amount_pence=renewal.next_amount_pence,
            )
    return queued
