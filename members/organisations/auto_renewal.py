"""Automatic renewal of an organisation's seats, on the members' machinery
(members/billing/services/auto_renewal*.py).

An organisation administrator chooses card or Bacs Direct Debit; the
arrangement is an ``AutoRenewal`` whose ``organisation_account`` is set (its
``membership`` is empty). Stripe Billing collects the year's fee (the
seats at the organisation's fee, as one item) first on the day after the
organisation's year ends. Each paid invoice buys the next organisation
year, on the same grade and number of seats, through the organisation's
own fulfilment (``organisation_year_buy_locked``): the seats carry across.
A year is bought once per invoice (``Payment.stripe_invoice_id`` is unique
and the invoice is settled under the arrangement's row lock).

Everything else is the members' code: the webhooks, reconciliation,
stopping (``auto_renewal_stop``, one click, with the full refund within
14 days after a collection), failures and upcoming notices (sent to every
administrator of the account).
"""

import datetime

from django.db import transaction
from django.utils import timezone

from members.audit import audit_record
from members.billing.services.auto_renewal import (
    MIN_TRIAL,
    _end_locked,
    _renewal_lock,
    _starts_at,
    _stripe_checkout,
    provider,
)
from members.billing.services.payments import payment_hold_locked
from members.exceptions import MembershipError
from members.models import (
    AutoRenewal,
    OrganisationAccount,
    OrganisationMembership,
    Payment,
    User,
)

from .seats import (
    _long,
    current_year,
    is_administrator,
    organisation_order,
    organisation_year_buy_locked,
    seat_fee_pence,
)

Status = AutoRenewal.Status
OrgStatus = OrganisationMembership.Status


def organisation_paid_until(*, account_id: int) -> datetime.date | None:
    """The last day of the organisation's latest paid year."""
    return (
        OrganisationMembership.objects.filter(account_id=account_id, status=OrgStatus.ACTIVE)
        .order_by("-ends_on")
        .values_list("ends_on", flat=True)
        .first()
    )


def organisation_notice_recipients(*, renewal: AutoRenewal) -> list[User]:
    """Who hears about an organisation's collections: its administrators."""
    return list(
        User.objects.filter(
            organisation_roles__account_id=renewal.organisation_account_id,
            erased_at__isnull=True,
        ).order_by("pk")
    )


def organisation_auto_renewal(account: OrganisationAccount) -> AutoRenewal | None:
    """The account's live arrangement, if any."""
    return (
        AutoRenewal.objects.filter(organisation_account=account)
        .exclude(status=Status.ENDED)
        .first()
    )


def organisation_auto_renewal_end(*, account_id: int, actor: User | None, reason: str) -> bool:
    """The organisation's year was ended on purpose (a refund took it off):
    its live arrangement ends now (``MEMBERSHIP_ENDED``) and its
    subscription is cancelled at Stripe once this commits, as for a person
    (``auto_renewals_end_for_memberships``). Returns whether one ended."""
    from members.billing.tasks import auto_renewal_subscription_cancel_task

    renewal = (
        AutoRenewal.objects.select_for_update()
        .filter(organisation_account_id=account_id)
        .exclude(status=Status.ENDED)
        .first()
    )
    if renewal is None:
        return False
    _end_locked(
        renewal=renewal,
        reason=AutoRenewal.EndReason.MEMBERSHIP_ENDED,
        actor=actor,
        label="" if actor else "system",
    )
    if renewal.stripe_subscription_id:
        auto_renewal_subscription_cancel_task.delay_on_commit(renewal.stripe_subscription_id)
    return True


def organisation_auto_renewal_start(
    *,
    account: OrganisationAccount,
    method: str,
    by: User,
    success_url: str,
    cancel_url: str,
) -> AutoRenewal:
    """Set up automatic renewal of the account's seats: the open set-up
    when the administrator comes back with the same choice, otherwise a
    new one. ``checkout_url`` is Stripe's page for the card or mandate."""
    if not is_administrator(account=account, user=by):
        raise MembershipError("Only the organisation's administrators can set this up.")
    if method not in AutoRenewal.Method.values:
        raise MembershipError("Choose to renew automatically by card or by Direct Debit.")
    if provider() != "stripe":
        raise MembershipError(
            "Automatic renewal of seats needs card payments, which are not available at "
            "the moment: renew by invoice."
        )
    probe = AutoRenewal(organisation_account=account)
    with _renewal_lock(probe):
        renewal, reused = _start_row(account=account, method=method, by=by)
        if reused:
            return renewal
        return _stripe_checkout(
            renewal=renewal, user=by, success_url=success_url, cancel_url=cancel_url
        )


@transaction.atomic
def _start_row(*, account: OrganisationAccount, method: str, by: User):
    account = OrganisationAccount.objects.select_for_update().get(pk=account.pk)
    today = timezone.localdate()
    year = current_year(account=account)
    if year is None or year.ends_on < today:
        raise MembershipError(
            "Automatic renewal starts from a paid year: buy this year's seats first."
        )
    live = (
        AutoRenewal.objects.select_for_update()
        .filter(organisation_account=account)
        .exclude(status=Status.ENDED)
        .first()
    )
    if live is not None:
        if live.status == Status.SETTING_UP and live.method == method and live.checkout_url:
            return live, True
        if live.status != Status.SETTING_UP:
            raise MembershipError("The seats already renew automatically.")
        from members.billing.services.auto_renewal import _end_locked

        _end_locked(
            renewal=live, reason=AutoRenewal.EndReason.ABANDONED, actor=by, label="replaced"
        )
    first = year.ends_on + datetime.timedelta(days=1)
    if _starts_at(first) - timezone.now() < MIN_TRIAL:
        # Stripe refuses a trial this short; the personal path collects
        # today instead, but an organisation's next year is bought by order.
        raise MembershipError(
            f"Your organisation's year ends on {_long(year.ends_on)}, too soon to set up "
            "automatic renewal in time for it. Renew this year's seats by invoice or card "
            "below; you can choose automatic renewal once the new year is paid for."
        )
    grade = year.grade
    amount = year.seats * seat_fee_pence(grade=grade, account=account)
    renewal = AutoRenewal.objects.create(
        organisation_account=account,
        started_by=by,
        method=method,
        grade=grade.member_grade,
        next_collection_on=first,
        next_amount_pence=amount,
        mandate_status=(
            AutoRenewal.Mandate.PENDING
            if method == AutoRenewal.Method.BACS_DEBIT
            else AutoRenewal.Mandate.NONE
        ),
    )
    audit_record(
        actor=by,
        subject=by,
        target=renewal,
        action="auto_renewal_started",
        to_state=renewal.status,
        data={
            "organisation": account.pk,
            "method": method,
            "seats": year.seats,
            "amount_pence": amount,
            "first_collection_at": _starts_at(renewal.next_collection_on).isoformat(),
        },
    )
    return renewal, False


def organisation_invoice_settle_locked(*, renewal: AutoRenewal, invoice, actor_label: str) -> str:
    """``invoice_settle`` for an organisation: the locked ``renewal``'s paid
    ``invoice`` (not yet recorded) buys the account's next year, on the
    grade and seats of the year it follows, through the organisation
    fulfilment. Money that cannot buy it is held for the membership team."""
    account = OrganisationAccount.objects.select_for_update().get(
        pk=renewal.organisation_account_id
    )
    previous = current_year(account=account)
    method = (
        Payment.Method.BACS_DEBIT
        if renewal.method == AutoRenewal.Method.BACS_DEBIT
        else Payment.Method.STRIPE
    )
    by = renewal.started_by
    order = None
    problem = ""
    if previous is None:
        problem = "the organisation has no paid year to renew"
    elif renewal.end_reason == AutoRenewal.EndReason.MEMBERSHIP_ENDED:
        problem = "the automatic renewal was ended"
    elif invoice.currency != "gbp":
        problem = f"collected in {invoice.currency}"
    else:
        expected = previous.seats * seat_fee_pence(grade=previous.grade, account=account)
        open_order = OrganisationMembership.objects.filter(
            account=account, status=OrgStatus.AWAITING_PAYMENT
        ).first()
        if invoice.amount_paid != expected:
            # Never accepted silently: the seats cost something else now.
            problem = (
                f"Stripe collected £{invoice.amount_paid / 100:.2f} but {previous.seats} "
                f"seats of {previous.grade.name} cost £{expected / 100:.2f}"
            )
        elif open_order is not None and (
            open_order.grade_id,
            open_order.seats,
            open_order.amount_pence,
            open_order.renews_id,
        ) != (previous.grade_id, previous.seats, expected, previous.pk):
            # An administrator's own open order (and its invoice) is theirs.
            problem = "an administrator has a different order open for the next year"
        else:
            try:
                with transaction.atomic():
                    order = organisation_order(
                        account=account, grade=previous.grade, seats=previous.seats, by=by
                    )
            except MembershipError as refused:
                problem = str(refused)
    payment = Payment.objects.create(
        organisation_membership=order or previous,
        user=by,
        grade=renewal.grade,
        purpose=Payment.Purpose.RENEW,
        method=method,
        amount_pence=invoice.amount_paid,
        stripe_invoice_id=invoice.id,
        stripe_payment_intent_id=invoice.payment_intent,
        auto_renewal=renewal,
        auto_collected=invoice.billing_reason == "subscription_cycle",
    )
    if order is None:
        payment_hold_locked(
            payment=payment,
            reason=Payment.Attention.SUPERSEDED,
            actor_label=actor_label,
            action="payment_received_held",
            audit_reason=f"Stripe invoice {invoice.id} could not buy the organisation's next "
            f"year ({problem}): accept it or refund it.",
            received_pence=invoice.amount_paid,
            received_currency=invoice.currency,
        )
        return "held"
    organisation_year_buy_locked(payment=payment, actor=None, label=actor_label)
    payment.refresh_from_db(fields=["status"])
    if payment.status != Payment.Status.PAID:
        return "held"
    if renewal.status == Status.PAST_DUE:
        renewal.status = Status.ACTIVE
    if renewal.mandate_status == AutoRenewal.Mandate.PENDING:
        renewal.mandate_status = AutoRenewal.Mandate.ACTIVE
    renewal.save(update_fields=["status", "mandate_status", "updated_at"])
    return "fulfilled"
