"""Organisation memberships: accounts, orders, paying for a year (card or
one invoice), seats, invitations, swapping and freeing seats, renewal.

The rules, in one place:

- An organisation year is bought by exactly one paid payment (a partial
  unique index on ``Payment``); each seat holder's own year is a
  ``MembershipPeriod`` covered by their ``SeatHolding`` instead of a
  payment (a check constraint: a payment or a seat, never both).
- A person never holds two memberships for the same day: a seat that
  would overlap any period of theirs is refused with the dates, checked
  with their membership row locked (the personal year is not credited:
  README, "Organisation memberships"); two seats' periods overlapping is
  also refused by an exclusion constraint on ``MembershipPeriod``.
- Taking a seat locks the organisation year's row first, then counts the
  seats: of any number of invitations accepted at once, exactly as many
  as there are seats succeed.
- A holder who leaves (freed or swapped out) keeps their record; their
  seat-covered period ends on the day they leave, and a personal year
  paid before the seat's year ends starts the day after (no days lost;
  ``members.billing.services.membership.membership_next_period_start``).
- Paying for the next year of an organisation renews every seat: each
  current holder is carried to the new year.
"""

import dataclasses
import datetime
import secrets
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format

from igpm.brand import organisation
from members.audit import audit_record
from members.billing import stripe_gateway
from members.billing.models.membership import GRACE_DAYS, RENEWAL_OPENS_DAYS
from members.billing.services.auto_renewal import auto_renewals_end_for_memberships
from members.billing.services.invoices import InvoiceDetails
from members.billing.services.membership import period_end, status_for_expiry
from members.billing.services.numbers import membership_number_next
from members.exceptions import MembershipError
from members.models import (
    AutoRenewal,
    InvoiceEmail,
    Membership,
    MembershipPeriod,
    NHSOrganisation,
    OrganisationAccount,
    OrganisationAdministrator,
    OrganisationGrade,
    OrganisationMembership,
    Payment,
    Seat,
    SeatHolding,
    SeatInvitation,
    User,
)
from members.organisations.models.accounts import MAX_SEATS
from members.reports.summary import membership_figures_refresh

OrgStatus = OrganisationMembership.Status

INVITATION_DAYS = 30
# Size limits on invitations: addresses in one request, and open
# invitations beyond the number of seats.
MAX_INVITATIONS_AT_ONCE = 20
OPEN_INVITATIONS_OVER_SEATS = 20


class SeatRefused(MembershipError):
    """A seat that cannot be taken; the message says why."""


def _long(day: datetime.date) -> str:
    return date_format(day, "j F Y")


# --- Accounts and administrators ------------------------------------------


def is_administrator(*, account: OrganisationAccount | int, user: User) -> bool:
    account_id = account if isinstance(account, int) else account.pk
    return (
        user.is_authenticated
        and OrganisationAdministrator.objects.filter(account_id=account_id, user=user).exists()
    )


def organisation_account_create(
    *,
    by: User,
    name: str,
    kind: str,
    ods_code: str = "",
    list_size: int | None = None,
    billing_address: str = "",
    accounts_email: str = "",
) -> OrganisationAccount:
    """Open an account; the person opening it is its first administrator.
    An ODS code the reference data knows links the account to it."""
    code = ods_code.strip().upper() or None
    taken = OrganisationAccount.objects.filter(ods_code=code).first() if code else None
    if taken is not None:
        # Someone opened it first, perhaps not the practice itself: the
        # claim is kept for staff (the account's page in the admin).
        audit_record(actor=by, subject=by, target=taken, action="organisation_claimed")
        contact = organisation()
        raise MembershipError(
            f"The organisation {code} already has an account. If you work there, ask one "
            "of its administrators to add you. If you do not know who opened it, or think "
            "it was opened by someone outside your organisation, contact the membership "
            f"team at {contact.contact_email} or {contact.contact_phone}: they can see who "
            "holds it and change its administrators."
        )
    return _account_create(
        by=by,
        name=name,
        kind=kind,
        code=code,
        list_size=list_size,
        billing_address=billing_address,
        accounts_email=accounts_email,
    )


@transaction.atomic
def _account_create(
    *, by, name, kind, code, list_size, billing_address, accounts_email
) -> OrganisationAccount:
    account = OrganisationAccount.objects.create(
        name=" ".join(name.split()),
        kind=kind,
        ods_code=code,
        nhs_organisation=NHSOrganisation.objects.filter(code=code).first() if code else None,
        list_size=list_size,
        billing_address=billing_address.strip(),
        accounts_email=accounts_email.strip(),
    )
    OrganisationAdministrator.objects.create(account=account, user=by)
    audit_record(actor=by, subject=by, target=account, action="organisation_opened")
    return account


@transaction.atomic
def organisation_administrator_add(
    *, account: OrganisationAccount, email: str, by: User
) -> OrganisationAdministrator | None:
    """Make someone with a portal account an administrator too, and email
    them that ``by`` did. ``None`` when nobody has that address: the caller
    says the same either way, so the form does not tell who has an account."""
    user = User.objects.filter(email__iexact=email.strip(), erased_at__isnull=True).first()
    if user is None:
        audit_record(
            actor=by,
            subject=by,
            target=account,
            action="organisation_administrator_not_found",
        )
        return None
    admin, created = OrganisationAdministrator.objects.get_or_create(account=account, user=user)
    if created:
        audit_record(
            actor=by, subject=user, target=account, action="organisation_administrator_added"
        )
        from .tasks import administrator_added_email_task

        administrator_added_email_task.delay_on_commit(admin.pk, by.pk)
    return admin


def administrator_added_email_send(*, administrator_id: int, by_id: int) -> bool:
    """Tell someone they were made an administrator of an account, and by whom."""
    from igpm.emails import email_build

    admin = (
        OrganisationAdministrator.objects.select_related("account", "user")
        .filter(pk=administrator_id, user__erased_at__isnull=True)
        .first()
    )
    if admin is None:
        return False
    by = User.objects.filter(pk=by_id).first()
    email_build(
        to=admin.user.email,
        template="members/email/organisation_administrator_added",
        context={"account": admin.account, "by": by, "user": admin.user},
    ).send()
    return True


# --- Prices and orders ---------------------------------------------------


def seat_fee_pence(*, grade: OrganisationGrade, account: OrganisationAccount) -> int:
    """The fee for one seat of ``grade`` for ``account``."""
    if grade.pricing == OrganisationGrade.Pricing.PER_SEAT:
        return grade.seat_fee_pence
    if account.list_size is None:
        raise MembershipError(
            f"{grade.name} is priced by list size: enter your practice's number of "
            "registered patients first."
        )
    for band in grade.bands.all():
        if band.up_to_list_size is None or account.list_size <= band.up_to_list_size:
            return band.seat_fee_pence
    raise MembershipError(f"{grade.name} has no fee for a list of {account.list_size:,}.")


def current_year(*, account: OrganisationAccount) -> OrganisationMembership | None:
    """The organisation's latest paid year (which may have ended)."""
    return (
        OrganisationMembership.objects.filter(account=account, status=OrgStatus.ACTIVE)
        .order_by("-ends_on", "-pk")
        .first()
    )


def renewal_open(year: OrganisationMembership, today: datetime.date) -> bool:
    return (year.ends_on - today).days <= RENEWAL_OPENS_DAYS


def next_year_start(
    *, renews: OrganisationMembership | None, paid_on: datetime.date
) -> datetime.date:
    """A renewal continues from the day after the last year (backdated
    while its grace lasts); anything else starts on the day of payment."""
    if renews is not None:
        follows = renews.ends_on + datetime.timedelta(days=1)
        if renews.ends_on + datetime.timedelta(days=GRACE_DAYS) >= paid_on:
            return follows
    return paid_on


@transaction.atomic
def organisation_order(
    *, account: OrganisationAccount, grade: OrganisationGrade, seats: int, by: User
) -> OrganisationMembership:
    """The organisation's order for its next year: a new one, or the open
    one changed (its open payments are then cancelled)."""
    account = OrganisationAccount.objects.select_for_update().get(pk=account.pk)
    if not grade.is_active:
        raise MembershipError("That organisation grade is not offered any more.")
    if not 1 <= seats <= MAX_SEATS:
        raise MembershipError(f"Choose between 1 and {MAX_SEATS} seats.")
    today = timezone.localdate()
    year = current_year(account=account)
    renews = None
    if year is not None and year.ends_on + datetime.timedelta(days=GRACE_DAYS) >= today:
        if not renewal_open(year, today):
            raise MembershipError(
                f"Your organisation's membership runs to {_long(year.ends_on)}. Renewal "
                f"opens {RENEWAL_OPENS_DAYS} days before then."
            )
        renews = year
    amount = seats * seat_fee_pence(grade=grade, account=account)
    order = OrganisationMembership.objects.filter(
        account=account, status=OrgStatus.AWAITING_PAYMENT
    ).first()
    if order is None:
        order = OrganisationMembership.objects.create(
            account=account,
            grade=grade,
            seats=seats,
            amount_pence=amount,
            renews=renews,
            created_by=by,
        )
    elif (order.grade_id, order.seats, order.amount_pence, order.renews_id) != (
        grade.pk,
        seats,
        amount,
        renews.pk if renews else None,
    ):
        order.grade, order.seats, order.amount_pence, order.renews = grade, seats, amount, renews
        order.save(update_fields=["grade", "seats", "amount_pence", "renews", "updated_at"])
        _cancel_open_payments(order=order)
    audit_record(
        actor=by,
        subject=by,
        target=order,
        action="organisation_ordered",
        to_state=order.status,
        data={"seats": seats, "amount_pence": amount, "grade": grade.slug},
    )
    return order


def _cancel_open_payments(*, order: OrganisationMembership, keep: Payment | None = None) -> None:
    from members.billing.tasks import checkout_sessions_expire_task

    open_payments = Payment.objects.filter(
        organisation_membership=order, status=Payment.Status.PENDING
    )
    if keep is not None:
        open_payments = open_payments.exclude(pk=keep.pk)
    sessions = list(
        open_payments.filter(stripe_session_id__isnull=False).values_list("pk", flat=True)
    )
    open_payments.update(status=Payment.Status.CANCELLED, updated_at=timezone.now())
    if sessions:
        checkout_sessions_expire_task.delay_on_commit(sessions)


def _order_locked(order: OrganisationMembership) -> OrganisationMembership:
    order = (
        OrganisationMembership.objects.select_for_update(of=("self",))
        .select_related("grade__member_grade", "account")
        .get(pk=order.pk)
    )
    if order.status != OrgStatus.AWAITING_PAYMENT:
        raise MembershipError("This order is already paid or was replaced.")
    return order


def _new_payment(*, order: OrganisationMembership, method: str, by: User, **fields) -> Payment:
    payment = Payment.objects.create(
        organisation_membership=order,
        user=by,
        grade=order.grade.member_grade,
        purpose=Payment.Purpose.RENEW if order.renews_id else Payment.Purpose.JOIN,
        method=method,
        amount_pence=order.amount_pence,
        **fields,
    )
    audit_record(
        actor=by,
        subject=by,
        target=payment,
        action="payment_started",
        to_state=payment.status,
        data={
            "method": method,
            "amount_pence": payment.amount_pence,
            "organisation": order.account_id,
        },
    )
    return payment


@transaction.atomic
def organisation_invoice_request(
    *, order: OrganisationMembership, by: User, details: InvoiceDetails
) -> Payment:
    """One invoice to the organisation for its order, emailed with the
    PDF to its administrators and accounts address. Asking again with the
    same details sends the same invoice again; new details replace it."""
    open_payments = list(
        Payment.objects.select_for_update()
        .filter(organisation_membership=order, status=Payment.Status.PENDING)
        .order_by("-pk")
    )
    order = _order_locked(order)
    details = details.tidied()
    if not details.accounts_email and order.account.accounts_email:
        details = dataclasses.replace(details, accounts_email=order.account.accounts_email)
    if not details.organisation:
        raise MembershipError("Enter the name of the organisation paying the invoice.")
    if not details.purchase_order:
        raise MembershipError("Enter the purchase order number for the invoice.")
    current = next((p for p in open_payments if p.method == Payment.Method.INVOICE), None)
    if (
        current is not None
        and current.amount_pence == order.amount_pence
        and InvoiceDetails.of_payment(current).key() == details.key()
    ):
        organisation_invoice_email_queue(payment=current, reason=InvoiceEmail.Reason.RESENT, by=by)
        return current
    payment = _new_payment(
        order=order,
        method=Payment.Method.INVOICE,
        by=by,
        invoice_organisation=details.organisation,
        invoice_purchase_order=details.purchase_order,
        invoice_address=details.address,
        invoice_accounts_email=details.accounts_email,
    )
    payment.invoice_number = f"INV-{payment.created_at:%Y}-{payment.pk:06d}"
    payment.save(update_fields=["invoice_number"])
    _cancel_open_payments(order=order, keep=payment)
    if current is not None:
        Payment.objects.filter(pk=current.pk).update(invoice_replaced_by=payment)
    organisation_invoice_email_queue(payment=payment, reason=InvoiceEmail.Reason.ISSUED, by=by)
    return payment


def organisation_invoice_email_queue(*, payment: Payment, reason: str, by: User) -> InvoiceEmail:
    from members.billing.tasks import invoice_email_task

    recipients = list(
        User.objects.filter(
            organisation_roles__account_id=payment.organisation_membership.account_id
        )
        .order_by("pk")
        .values_list("email", flat=True)
    )
    accounts = payment.invoice_accounts_email
    if accounts and accounts.casefold() not in {r.casefold() for r in recipients}:
        recipients.append(accounts)
    send = InvoiceEmail.objects.create(
        payment=payment, reason=reason, recipients=recipients, requested_by=by
    )
    invoice_email_task.delay_on_commit(send.pk)
    return send


@transaction.atomic
def organisation_card_start(*, order: OrganisationMembership, by: User) -> Payment:
    """The card payment for the order: the open one for the same amount,
    or a new one (which cancels the others)."""
    order = _order_locked(order)
    if not stripe_gateway.is_configured():
        raise MembershipError("Card payments are not available at the moment: pay by invoice.")
    reusable = (
        Payment.objects.filter(
            organisation_membership=order,
            method=Payment.Method.STRIPE,
            status=Payment.Status.PENDING,
            amount_pence=order.amount_pence,
        )
        .order_by("-pk")
        .first()
    )
    if reusable is not None:
        return reusable
    payment = _new_payment(order=order, method=Payment.Method.STRIPE, by=by)
    _cancel_open_payments(order=order, keep=payment)
    return payment


# --- The year bought -----------------------------------------------------


def organisation_year_buy_locked(*, payment: Payment, actor: User | None, label: str) -> None:
    """Called by ``payment_fulfil`` with ``payment`` locked: the payment
    buys its organisation year, with its seats, and renews every seat of
    the year it continues. Money for an order that is no longer open (paid
    by another payment, or changed) buys nothing and is held."""
    from members.billing.services.payments import payment_hold_locked, payment_paid_locked
    from members.billing.tasks import payment_receipt_email_task

    order = OrganisationMembership.objects.select_for_update().get(
        pk=payment.organisation_membership_id
    )
    if order.status != OrgStatus.AWAITING_PAYMENT or payment.amount_pence != order.amount_pence:
        payment_hold_locked(
            payment=payment,
            reason=Payment.Attention.SUPERSEDED,
            actor_label=label,
            action="payment_received_superseded",
            audit_reason="Paid for an organisation order that was already paid or changed: "
            "refund it.",
        )
        return
    today = payment_paid_locked(payment=payment, subject=payment.user, actor=actor, label=label)
    renews = (
        OrganisationMembership.objects.select_for_update().get(pk=order.renews_id)
        if order.renews_id
        else None
    )
    order.starts_on = next_year_start(renews=renews, paid_on=today)
    order.ends_on = period_end(order.starts_on)
    order.status = OrgStatus.ACTIVE
    order.save(update_fields=["starts_on", "ends_on", "status", "updated_at"])
    Seat.objects.bulk_create(
        Seat(organisation_membership=order, number=n) for n in range(1, order.seats + 1)
    )
    audit_record(
        actor=actor,
        actor_label=label,
        subject=payment.user,
        target=order,
        action="organisation_year_started",
        from_state=OrgStatus.AWAITING_PAYMENT,
        to_state=OrgStatus.ACTIVE,
        data={"starts_on": str(order.starts_on), "ends_on": str(order.ends_on)},
    )
    if renews is not None:
        seats_carry(previous=renews, year=order, actor=actor, label=label)
    payment_receipt_email_task.delay_on_commit(payment.pk)


@dataclass
class CarryResult:
    carried: list[int] = field(default_factory=list)
    not_carried: dict[int, str] = field(default_factory=dict)


def seats_carry(
    *, previous: OrganisationMembership, year: OrganisationMembership, actor, label: str
) -> CarryResult:
    """Renew every seat: each current holder of ``previous`` takes a seat
    of ``year``, in seat order, while seats last. A holder who has paid
    for a personal year overlapping the new one keeps that instead."""
    result = CarryResult()
    holders = (
        SeatHolding.objects.filter(organisation_membership=previous, released_on__isnull=True)
        .select_related("seat")
        .order_by("seat__number")
    )
    seats = list(Seat.objects.filter(organisation_membership=year).order_by("number"))
    for holding in holders:
        if not seats:
            result.not_carried[holding.user_id] = "no seat left in the new year"
            continue
        try:
            with transaction.atomic():
                _hold(
                    seat=seats[0],
                    year=year,
                    user=holding.user,
                    starts_on=year.starts_on,
                    invitation=None,
                    actor=actor,
                    label=label,
                )
        except SeatRefused as refused:
            result.not_carried[holding.user_id] = str(refused)
            continue
        seats.pop(0)
        result.carried.append(holding.user_id)
    if result.not_carried:
        audit_record(
            actor=actor,
            actor_label=label,
            target=year,
            action="organisation_seats_not_carried",
            data={str(k): v for k, v in result.not_carried.items()},
        )
    return result


def _hold(
    *,
    seat: Seat,
    year: OrganisationMembership,
    user: User,
    starts_on: datetime.date,
    invitation: SeatInvitation | None,
    actor,
    label: str = "",
) -> SeatHolding:
    """Give ``seat`` to ``user`` and cover their own membership with it
    from ``starts_on`` to the end of the year. Caller holds the year's lock."""
    member_grade = year.grade.member_grade
    membership = Membership.objects.select_for_update().filter(user=user).first()
    if membership is not None:
        clash = (
            MembershipPeriod.objects.filter(
                membership=membership, starts_on__lte=year.ends_on, ends_on__gte=starts_on
            )
            .order_by("starts_on")
            .first()
        )
        if clash is not None:
            raise SeatRefused(
                f"You already have IGPM membership from {_long(clash.starts_on)} to "
                f"{_long(clash.ends_on)}, which overlaps this seat's year "
                f"({_long(starts_on)} to {_long(year.ends_on)}). A person holds one "
                "membership at a time: ask your organisation to offer the seat to "
                "someone else, or accept it after your own year ends."
            )
    if SeatHolding.objects.filter(
        organisation_membership=year, user=user, released_on__isnull=True
    ).exists():
        raise SeatRefused("You already hold a seat of this organisation.")
    holding = SeatHolding.objects.create(
        seat=seat,
        organisation_membership=year,
        user=user,
        invitation=invitation,
        starts_on=starts_on,
    )
    if membership is None:
        membership = Membership.objects.create(
            user=user, grade=member_grade, status=Membership.Status.AWAITING_PAYMENT
        )
    else:
        # A personal payment started earlier would buy a year this seat
        # now covers: close it (money that still arrives is held).
        Payment.objects.filter(membership=membership, status=Payment.Status.PENDING).update(
            status=Payment.Status.CANCELLED, updated_at=timezone.now()
        )
    MembershipPeriod.objects.create(
        membership=membership,
        seat_holding=holding,
        grade=member_grade,
        starts_on=starts_on,
        ends_on=year.ends_on,
    )
    old_status = membership.status
    membership.expires_on = max(filter(None, [membership.expires_on, year.ends_on]))
    membership.status = status_for_expiry(membership.expires_on, timezone.localdate())
    membership.grade = member_grade
    if not membership.number:
        membership.number = membership_number_next()
    membership.save(update_fields=["status", "grade", "expires_on", "number", "updated_at"])
    # The member's own automatic renewal would collect for a year the seat
    # now pays for (its next collection falls on or before the seat's last
    # day): it ends, and the member is told (``personal_renewal_stopped``).
    holding.personal_renewal_stopped = bool(
        AutoRenewal.objects.filter(membership=membership)
        .exclude(status=AutoRenewal.Status.ENDED)
        .filter(Q(next_collection_on__isnull=True) | Q(next_collection_on__lte=year.ends_on))
        .exists()
    ) and bool(
        auto_renewals_end_for_memberships(
            membership_ids=[membership.pk],
            actor=actor,
            label=label or "seat taken",
            cause=f"seat of organisation {year.account_id} covers the year to {year.ends_on}",
        )
    )
    audit_record(
        actor=actor,
        actor_label=label,
        subject=user,
        target=membership,
        action="seat_taken",
        from_state=old_status,
        to_state=membership.status,
        data={
            "organisation": year.account_id,
            "seat": seat.number,
            "starts_on": str(starts_on),
            "expires_on": str(year.ends_on),
        },
    )
    membership_figures_refresh(membership_id=membership.pk)
    return holding


# --- Invitations ---------------------------------------------------------


def _year_for_seats(year: OrganisationMembership, today: datetime.date) -> OrganisationMembership:
    if year.status != OrgStatus.ACTIVE or year.ends_on < today:
        raise SeatRefused("This organisation membership is not current.")
    return year


@transaction.atomic
def seat_invitations_send(
    *, year: OrganisationMembership, emails: list[str], by: User
) -> list[SeatInvitation]:
    """Invite people by email to take a seat; each email is queued after
    commit on the emails queue. An address with an open invitation is
    invited again (the old link stops working)."""
    year = OrganisationMembership.objects.select_for_update().get(pk=year.pk)
    now = timezone.now()
    _year_for_seats(year, timezone.localdate(now))
    wanted = list(dict.fromkeys(e.strip().lower() for e in emails if e.strip()))
    if not wanted:
        raise MembershipError("Enter at least one email address.")
    if len(wanted) > MAX_INVITATIONS_AT_ONCE:
        raise MembershipError(f"Invite at most {MAX_INVITATIONS_AT_ONCE} people at a time.")
    open_invitations = SeatInvitation.objects.filter(
        organisation_membership=year, accepted_at__isnull=True, withdrawn_at__isnull=True
    )
    reinvited = open_invitations.filter(email__in=wanted)
    if open_invitations.exclude(email__in=wanted).count() + len(wanted) > (
        year.seats + OPEN_INVITATIONS_OVER_SEATS
    ):
        raise MembershipError(
            "There are too many open invitations for the seats: withdraw some first."
        )
    reinvited.update(withdrawn_at=now)
    invitations = SeatInvitation.objects.bulk_create(
        SeatInvitation(
            organisation_membership=year,
            email=email,
            token=secrets.token_urlsafe(32),
            invited_by=by,
            expires_at=now + datetime.timedelta(days=INVITATION_DAYS),
        )
        for email in wanted
    )
    audit_record(
        actor=by, subject=by, target=year, action="seat_invitations_sent", data={"emails": wanted}
    )
    from .tasks import seat_invitation_email_task

    for invitation in invitations:
        seat_invitation_email_task.delay_on_commit(invitation.pk)
    return invitations


def seat_invitation_email_send(*, invitation_id: int) -> bool:
    """Send one invitation email, once; returns whether it went."""
    from igpm.emails import email_build

    with transaction.atomic():
        invitation = (
            SeatInvitation.objects.select_for_update(of=("self",))
            .select_related("organisation_membership__account", "invited_by")
            .get(pk=invitation_id)
        )
        if invitation.sent_at is not None or not invitation.is_open:
            return False
        email_build(
            to=invitation.email,
            template="members/email/seat_invitation",
            context={
                "invitation": invitation,
                "account": invitation.organisation_membership.account,
            },
        ).send()
        invitation.sent_at = timezone.now()
        invitation.save(update_fields=["sent_at"])
    return True


def invitation_for_token(token: str) -> SeatInvitation | None:
    return (
        SeatInvitation.objects.select_related("organisation_membership__account")
        .filter(token=token)
        .first()
    )


def _year_locked(year_id: int) -> OrganisationMembership:
    """The organisation year's row, locked: whoever holds it counts and
    takes the seats, the others wait their turn."""
    return OrganisationMembership.objects.select_for_update().get(pk=year_id)


@transaction.atomic
def seat_invitation_accept(*, token: str, user: User) -> SeatHolding:
    """Take a free seat with an invitation. The organisation year is
    locked before the seats are counted, so seats are never overfilled."""
    found = SeatInvitation.objects.filter(token=token).values_list(
        "organisation_membership_id", flat=True
    )
    if not found:
        raise SeatRefused("This invitation link is not valid.")
    year = _year_locked(found[0])
    invitation = SeatInvitation.objects.select_for_update().get(token=token)
    now = timezone.now()
    if invitation.accepted_at is not None:
        if invitation.accepted_by_id == user.pk:
            return invitation.holding
        raise SeatRefused("This invitation has already been used.")
    if invitation.withdrawn_at is not None or invitation.expires_at < now:
        raise SeatRefused(
            "This invitation has been withdrawn or has expired: ask your organisation "
            "for a new one."
        )
    verified = EmailAddress.objects.filter(
        user=user, email__iexact=invitation.email, verified=True
    ).exists()
    if invitation.email.casefold() != user.email.casefold() or not verified:
        raise SeatRefused(
            f"This invitation was sent to {invitation.email}. Sign in with that address "
            "(confirmed) to accept it."
        )
    today = timezone.localdate(now)
    _year_for_seats(year, today)
    held = set(
        SeatHolding.objects.filter(
            organisation_membership=year, released_on__isnull=True
        ).values_list("seat_id", flat=True)
    )
    seat = (
        Seat.objects.filter(organisation_membership=year)
        .exclude(pk__in=held)
        .order_by("number")
        .first()
    )
    if seat is None:
        raise SeatRefused(
            "Every seat of this organisation is taken. Ask its administrators to free one."
        )
    holding = _hold(
        seat=seat,
        year=year,
        user=user,
        starts_on=max(today, year.starts_on),
        invitation=invitation,
        actor=user,
    )
    _hold_in_renewal(year=year, user=user)
    invitation.accepted_at = now
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return holding


def _hold_in_renewal(*, year: OrganisationMembership, user: User) -> None:
    """Someone taking a seat after the next year was already paid for
    takes a free seat of that year too (while there is one)."""
    renewal = (
        OrganisationMembership.objects.select_for_update()
        .filter(renews=year, status=OrgStatus.ACTIVE)
        .select_related("grade__member_grade")
        .first()
    )
    if renewal is None:
        return
    held = SeatHolding.objects.filter(organisation_membership=renewal, released_on__isnull=True)
    seat = (
        Seat.objects.filter(organisation_membership=renewal)
        .exclude(pk__in=held.values("seat_id"))
        .order_by("number")
        .first()
    )
    if seat is None:
        return
    try:
        with transaction.atomic():
            _hold(
                seat=seat,
                year=renewal,
                user=user,
                starts_on=renewal.starts_on,
                invitation=None,
                actor=user,
            )
    except SeatRefused:
        return


@transaction.atomic
def seat_invitation_withdraw(*, invitation: SeatInvitation, by: User) -> None:
    updated = SeatInvitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, withdrawn_at__isnull=True
    ).update(withdrawn_at=timezone.now())
    if updated:
        audit_record(actor=by, target=invitation, action="seat_invitation_withdrawn")


# --- Freeing and swapping ------------------------------------------------


@transaction.atomic
def seat_release(*, holding: SeatHolding, by: User, today: datetime.date | None = None) -> None:
    """Free a seat (the holder leaves, or the administrators free it). The
    holder keeps their record: their seat-covered period ends today, and
    a year that had not started yet is removed."""
    today = today or timezone.localdate()
    year = OrganisationMembership.objects.select_for_update().get(
        pk=holding.organisation_membership_id
    )
    holding = SeatHolding.objects.select_for_update().get(pk=holding.pk)
    if holding.released_on is not None:
        return
    holding.released_on = today
    holding.released_by = by
    holding.save(update_fields=["released_on", "released_by"])
    membership = Membership.objects.select_for_update().get(user_id=holding.user_id)
    period = MembershipPeriod.objects.get(seat_holding=holding)
    if period.starts_on > today:
        period.delete()
    elif period.ends_on > today:
        period.ends_on = today
        period.save(update_fields=["ends_on"])
    last = membership.periods.order_by("-ends_on").first()
    old_status = membership.status
    membership.expires_on = last.ends_on if last else None
    if membership.expires_on:
        membership.status = status_for_expiry(membership.expires_on, today)
    else:
        membership.status = Membership.Status.LAPSED
    membership.save(update_fields=["expires_on", "status", "updated_at"])
    audit_record(
        actor=by,
        subject=membership.user,
        target=membership,
        action="seat_released",
        from_state=old_status,
        to_state=membership.status,
        data={"organisation": year.account_id, "expires_on": str(membership.expires_on)},
    )
    membership_figures_refresh(membership_id=membership.pk)
    # Leaving leaves the organisation's next year too, if it is paid for.
    for later in SeatHolding.objects.filter(
        user_id=holding.user_id, released_on__isnull=True, organisation_membership__renews=year
    ):
        seat_release(holding=later, by=by, today=today)


@transaction.atomic
def organisation_year_end(*, year_id: int, by: User | None, reason: str) -> int:
    """A refund took the organisation year off: the year is cancelled and
    every seat of it freed today (each holder keeps their record and the
    days up to today, as when a seat is freed). Returns the seats freed;
    a year ended already frees none."""
    year = OrganisationMembership.objects.select_for_update().get(pk=year_id)
    if year.status == OrgStatus.CANCELLED:
        return 0
    holdings = list(
        SeatHolding.objects.filter(organisation_membership=year, released_on__isnull=True)
    )
    for holding in holdings:
        seat_release(holding=holding, by=by)
    old = year.status
    year.status = OrgStatus.CANCELLED
    year.save(update_fields=["status", "updated_at"])
    # Nothing more is collected for the organisation: its automatic renewal
    # ends and its subscription is cancelled once this commits.
    from .auto_renewal import organisation_auto_renewal_end

    organisation_auto_renewal_end(account_id=year.account_id, actor=by, reason=reason)
    audit_record(
        actor=by,
        actor_label="" if by else "system",
        target=year,
        action="organisation_year_ended",
        from_state=old,
        to_state=year.status,
        reason=reason,
        data={"seats_freed": len(holdings)},
    )
    return len(holdings)


@transaction.atomic
def seat_swap(*, holding: SeatHolding, email: str, by: User) -> SeatInvitation:
    """Free a seat and invite someone else to it in one step."""
    seat_release(holding=holding, by=by)
    return seat_invitations_send(year=holding.organisation_membership, emails=[email], by=by)[0]


def organisations_of(user: User):
    return OrganisationAccount.objects.filter(
        Q(administrators__user=user) | Q(memberships__holdings__user=user)
    ).distinct()
