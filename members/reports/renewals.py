"""Joining, renewing and lapsing, for the staff reports.

The figures are worked out from the paid years (``MembershipPeriod``), the
record of what each member paid for:

- a member *joined* when a membership's first paid year began;
- a paid year that begins the day after an earlier one ends is a
  *renewal* (paid before expiry or in the 30 days' grace, which both carry
  straight on from the old expiry date);
- any other later paid year is a *rejoin*, after a lapse;
- a paid year with no renewal *lapsed* on the day its grace ended, 31 days
  after its last day.

Years whose payment was refunded in full are left out of the counts, and
memberships cancelled by staff are left out of lapses and retention: they
did not run their course.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Count, DateField, Exists, F, OuterRef, QuerySet
from django.db.models.functions import Cast, TruncMonth

from members.billing.models.membership import GRACE_DAYS
from members.models import Membership, MembershipPeriod, Payment

from .period import days, last_months, month_start, rate, uk_midnight

Status = Membership.Status


def counted_years() -> QuerySet[MembershipPeriod]:
    """Paid years, less those whose payment was refunded in full. (The few
    refunded payments are looked up once, by their indexed status, rather
    than every payment joined.)"""
    return MembershipPeriod.objects.exclude(
        payment__in=Payment.objects.filter(status=Payment.Status.REFUNDED)
    )


def _run_their_course(years: QuerySet[MembershipPeriod]) -> QuerySet[MembershipPeriod]:
    """``years`` less those of memberships cancelled by staff (few, found
    by their indexed status). A membership ended by erasing its account ran
    its course as it would have: its lapses and renewals still count."""
    return years.exclude(
        membership__in=Membership.objects.filter(
            status=Status.CANCELLED, user__erased_at__isnull=True
        )
    )


def _shifted(field, by: int):
    """A date ``by`` days after ``field`` (an F or OuterRef), as a date on
    every database."""
    return Cast(field + days(by), output_field=DateField())


def _followed_by_renewal() -> Exists:
    """Whether another paid year of the same membership begins the day
    after this one ends."""
    return Exists(
        counted_years().filter(
            membership=OuterRef("membership"), starts_on=_shifted(OuterRef("ends_on"), 1)
        )
    )


@dataclass(frozen=True)
class MovementRow:
    month: datetime.date
    joined: int = 0
    renewed: int = 0
    rejoined: int = 0
    lapsed: int = 0


def _count_by_month(years: QuerySet[MembershipPeriod], month) -> dict[datetime.date, int]:
    return dict(
        years.annotate(month=month).values_list("month").annotate(n=Count("pk")).order_by()
    )


def movement_rows(*, today: datetime.date) -> list[MovementRow]:
    """Joined, renewed and rejoined (by the month the payment arrived) and
    lapsed (by the month grace ended), for this month and the 11 before.

    Each condition on other paid years is a filter of its own query, which
    PostgreSQL answers with one hash join over the table, rather than a
    look-up for every row: four queries, each quick at any size.
    """
    months = last_months(today)
    since = months[0]
    paid = counted_years().filter(
        payment__paid_at__gte=uk_midnight(since),
        payment__paid_at__lt=uk_midnight(month_start(today, -1)),
    )
    paid_month = TruncMonth("payment__paid_at", output_field=DateField())
    earlier = counted_years().filter(
        membership=OuterRef("membership"), starts_on__lt=OuterRef("starts_on")
    )
    continues = counted_years().filter(
        membership=OuterRef("membership"), ends_on=_shifted(OuterRef("starts_on"), -1)
    )
    # Paid years, not payments: a payment that bought no year (one arriving
    # after its account was erased) is neither a join nor a rejoin.
    every = _count_by_month(paid, paid_month)
    joined = _count_by_month(paid.filter(~Exists(earlier)), paid_month)
    renewed = _count_by_month(paid.filter(Exists(continues)), paid_month)
    # Lapsed on ends_on + GRACE_DAYS + 1: from ``since`` up to today.
    lapsed = _count_by_month(
        _run_their_course(counted_years())
        .filter(
            ends_on__gte=since - days(GRACE_DAYS + 1),
            ends_on__lte=today - days(GRACE_DAYS + 1),
        )
        .filter(~_followed_by_renewal()),
        TruncMonth(_shifted(F("ends_on"), GRACE_DAYS + 1)),
    )
    return [
        MovementRow(
            month,
            joined=joined.get(month, 0),
            renewed=renewed.get(month, 0),
            # Neither the first paid year nor carrying straight on.
            rejoined=every.get(month, 0) - joined.get(month, 0) - renewed.get(month, 0),
            lapsed=lapsed.get(month, 0),
        )
        for month in months
    ]


@dataclass(frozen=True)
class RetentionRow:
    month: datetime.date
    ended: int
    renewed: int

    @property
    def lapsed(self) -> int:
        return self.ended - self.renewed

    @property
    def rate(self) -> float | None:
        return rate(self.renewed, self.ended)


def retention_months(today: datetime.date) -> list[datetime.date]:
    """The 12 latest whole months whose paid years are all past the end of
    their grace, so every renewal that will happen has happened."""
    grace_over = today - days(GRACE_DAYS + 1)  # The latest expiry now settled.
    month_complete = (grace_over + days(1)).day == 1
    return last_months(month_start(grace_over, 0 if month_complete else 1))


def retention_rows(*, today: datetime.date) -> list[RetentionRow]:
    """For each month of ``retention_months``: the paid years that ended
    in it, and how many of those were renewed (two queries, the second a
    hash join, as in ``movement_rows``)."""
    months = retention_months(today)
    ended = _run_their_course(counted_years()).filter(
        ends_on__gte=months[0], ends_on__lt=month_start(months[-1], -1)
    )
    expiry_month = TruncMonth("ends_on")
    every = _count_by_month(ended, expiry_month)
    renewed = _count_by_month(ended.filter(_followed_by_renewal()), expiry_month)
    return [RetentionRow(month, every.get(month, 0), renewed.get(month, 0)) for month in months]
