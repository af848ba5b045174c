import datetime
import enum
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from members.audit import audit_record
from members.billing.models.membership import GRACE_DAYS
from members.exceptions import IllegalTransition, MembershipError, ProfileIncomplete
from members.models import Grade, Membership, Payment, User
from members.reports.summary import membership_figures_refresh
from members.selectors import profile_completeness

Status = Membership.Status


def add_years(day: datetime.date, years: int) -> datetime.date:
    """The same date ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def period_end(starts_on: datetime.date) -> datetime.date:
    """The last day of a 12-month period: the day before the same date next
    year, so consecutive periods meet with no day lost or counted twice."""
    return add_years(starts_on - datetime.timedelta(days=1), 1)


class _Rule(enum.StrEnum):
    ON_PAYMENT = "on_payment"
    AFTER_EXPIRY = "after_expiry"
    BACKDATED = "backdated"


@dataclass(frozen=True)
class PeriodStart:
    """When the year a payment buys starts, and why. The pay page, the
    receipt (email and PDF) and the README all state the rule from here."""

    Rule = _Rule

    starts_on: datetime.date
    rule: _Rule
    # Backdating holds only while the grace lasts: payment after this day
    # starts a new year on the day it arrives.
    pay_by: datetime.date | None = None

    @property
    def ends_on(self) -> datetime.date:
        return period_end(self.starts_on)

    @classmethod
    def of_period(cls, *, starts_on: datetime.date, paid_on: datetime.date) -> "PeriodStart":
        """The rule a paid year was bought under, read back from its dates
        (a year starting on the payment day reads the same either way)."""
        if starts_on > paid_on:
            return cls(starts_on=starts_on, rule=_Rule.AFTER_EXPIRY)
        if starts_on < paid_on:
            return cls(starts_on=starts_on, rule=_Rule.BACKDATED)
        return cls(starts_on=starts_on, rule=_Rule.ON_PAYMENT)

    def ahead(self) -> str:
        """Before payment: the sentence for the pay page."""
        starts, ends = _long(self.starts_on), _long(self.ends_on)
        if self.rule == _Rule.AFTER_EXPIRY:
            return (
                f"Your new year starts on {starts}, the day after your current year ends, "
                f"and runs to {ends}: renewing early loses no days."
            )
        if self.rule == _Rule.BACKDATED:
            return (
                f"Your new year is backdated to {starts}, the day after your last year "
                f"ended, and runs to {ends}, so there is no gap in your membership. This "
                f"holds as long as payment arrives by {_long(self.pay_by)}; after that "
                "a new year starts on the day your payment arrives."
            )
        return "Your year starts on the day your payment arrives and runs for 12 months."

    def done(self) -> str:
        """After payment: the sentence for the receipt."""
        starts, ends = _long(self.starts_on), _long(self.ends_on)
        if self.rule == _Rule.AFTER_EXPIRY:
            return (
                f"Your new year runs from {starts}, the day after your previous year "
                f"ends, to {ends}."
            )
        if self.rule == _Rule.BACKDATED:
            return (
                f"Your new year is backdated to {starts}, the day after your last year "
                f"ended, and runs to {ends}, so there is no gap in your membership."
            )
        return f"Your year runs from {starts}, the day your payment arrived, to {ends}."


def _long(day: datetime.date | None) -> str:
    return date_format(day, "j F Y") if day else ""


def membership_next_period_start(*, membership: Membership, paid_on: datetime.date) -> PeriodStart:
    """The start of the year a payment arriving on ``paid_on`` would buy.

    A new joiner (or a lapsed member rejoining) starts on the day the
    payment arrives. A member renewing early continues from the day after
    the current expiry. A member in grace is backdated to the day after
    the old expiry, so the year has no gap. Someone who left an
    organisation's seat continues from the day after they left, as long
    as they pay by the end of the seat's year (no days lost).
    """
    if left := _seat_left(membership, paid_on):
        starts_on = left.ends_on + datetime.timedelta(days=1)
        return PeriodStart(
            starts_on=starts_on,
            rule=_Rule.AFTER_EXPIRY if starts_on > paid_on else _Rule.BACKDATED,
            pay_by=left.seat_holding.organisation_membership.ends_on,
        )
    if membership.status in Membership.IN_GOOD_STANDING and membership.expires_on:
        starts_on = membership.expires_on + datetime.timedelta(days=1)
        if starts_on > paid_on:
            return PeriodStart(starts_on=starts_on, rule=_Rule.AFTER_EXPIRY)
        return PeriodStart(
            starts_on=starts_on,
            rule=_Rule.BACKDATED,
            pay_by=membership.expires_on + datetime.timedelta(days=GRACE_DAYS),
        )
    return PeriodStart(starts_on=paid_on, rule=_Rule.ON_PAYMENT)


def _seat_left(membership: Membership, paid_on: datetime.date):
    """The seat-covered period a leaver's personal year continues from,
    if it is their latest and its seat's year has not ended."""
    if membership.pk is None or membership.expires_on is None:
        return None  # never paid up: nothing to continue from
    last = (
        membership.periods.select_related("seat_holding__organisation_membership")
        .order_by("-ends_on")
        .first()
    )
    if last is None or last.seat_holding_id is None or last.seat_holding.released_on is None:
        return None
    if paid_on > last.seat_holding.organisation_membership.ends_on:
        return None
    return last


def next_period_start(membership: Membership, today: datetime.date) -> datetime.date:
    return membership_next_period_start(membership=membership, paid_on=today).starts_on


def status_for_expiry(expires_on: datetime.date, today: datetime.date) -> str:
    """Where a paid-up membership stands on ``today``."""
    if expires_on >= today:
        return Status.ACTIVE
    if expires_on + datetime.timedelta(days=GRACE_DAYS) >= today:
        return Status.IN_GRACE
    return Status.LAPSED


@transaction.atomic
def membership_apply(*, user: User, grade: Grade) -> Membership:
    """Choose a grade: the start of joining, or of rejoining after a lapse."""
    if not grade.is_active:
        raise MembershipError("That grade is not open to new members.")
    if not profile_completeness(user=user).is_complete:
        raise ProfileIncomplete("Complete your profile before you choose a grade.")
    new_status = Status.PENDING_APPROVAL if grade.requires_approval else Status.AWAITING_PAYMENT
    membership = Membership.objects.select_for_update().filter(user=user).first()
    if membership is None:
        membership = Membership.objects.create(user=user, grade=grade, status=new_status)
        audit_record(
            actor=user,
            subject=user,
            target=membership,
            action="applied",
            to_state=new_status,
            data={"grade": grade.slug},
        )
        return membership
    if membership.in_good_standing:
        raise MembershipError(
            "You are already a member. To change grade, contact the membership team."
        )
    old_status = membership.status
    membership.grade = grade
    membership.status = new_status
    membership.save(update_fields=["grade", "status", "updated_at"])
    # Close payments started for the old choice. If money for one still
    # arrives, fulfilment honours it for the grade it was paid for.
    Payment.objects.filter(membership=membership, status=Payment.Status.PENDING).update(
        status=Payment.Status.CANCELLED, updated_at=timezone.now()
    )
    audit_record(
        actor=user,
        subject=user,
        target=membership,
        action="applied",
        from_state=old_status,
        to_state=new_status,
        data={"grade": grade.slug},
    )
    return membership


@transaction.atomic
def membership_decide(
    *, membership: Membership, approve: bool, reason: str, by: User
) -> Membership:
    """Staff approve or decline a grade that needs approval."""
    from members.billing.tasks import membership_decision_email_task

    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.status != Status.PENDING_APPROVAL:
        raise IllegalTransition("This application has already been decided.")
    if not approve and not reason.strip():
        raise MembershipError("Give a reason for declining.")
    new_status = Status.AWAITING_PAYMENT if approve else Status.CANCELLED
    membership.status = new_status
    membership.save(update_fields=["status", "updated_at"])
    membership_figures_refresh(membership_id=membership.pk)
    audit_record(
        actor=by,
        subject=membership.user,
        target=membership,
        action="approved" if approve else "declined",
        from_state=Status.PENDING_APPROVAL,
        to_state=new_status,
        reason=reason,
    )
    membership_decision_email_task.delay_on_commit(membership.pk, approve, reason)
    return membership


@transaction.atomic
def membership_override_status(
    *, membership: Membership, status: str, reason: str, by: User
) -> Membership:
    """Staff set a status by hand, always with a reason."""
    if not reason.strip():
        raise MembershipError("Give a reason for the change.")
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if status in Membership.IN_GOOD_STANDING and not (membership.expires_on and membership.number):
        raise IllegalTransition("A membership that was never paid cannot be made current.")
    old_status = membership.status
    if old_status == status:
        return membership
    membership.status = status
    membership.save(update_fields=["status", "updated_at"])
    # Cancelled, or no longer: in or out of lapses and retention.
    membership_figures_refresh(membership_id=membership.pk)
    audit_record(
        actor=by,
        subject=membership.user,
        target=membership,
        action="status_overridden",
        from_state=old_status,
        to_state=status,
        reason=reason,
    )
    if status not in Membership.IN_GOOD_STANDING:
        # Ended (or set back) by hand: no automatic collection may buy it
        # another year.
        from .auto_renewal import auto_renewals_end_for_memberships

        auto_renewals_end_for_memberships(
            membership_ids=[membership.pk], actor=by, label="", cause=f"status set to {status}"
        )
    return membership
