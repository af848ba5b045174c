"""The summary rows behind the staff reports' movement and retention
figures (``MembershipDay``), kept current one membership at a time.

Every service that changes what those figures count (a paid year bought, a
payment refunded in full, a membership cancelled, an account erased) calls
``membership_figures_refresh`` after its change, in its transaction: the
membership's share is counted again from its own rows and only the
difference is added to the days. Counting is the same rule as
``members.reports.renewals`` applies from scratch (and the tests hold the
two equal); ``manage.py reports_rebuild`` recounts every membership.
"""

import datetime
from collections import Counter
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from igpm.bulk import rows_update
from members.billing.models.membership import GRACE_DAYS
from members.models import (
    Membership,
    MembershipDay,
    MembershipFigures,
    MembershipPeriod,
    Payment,
)

from .period import last_months, month_start
from .renewals import MovementRow, RetentionRow, retention_months

FIELDS = ("joined", "renewed", "rejoined", "lapsed", "ended", "ended_renewed")
ONE_DAY = datetime.timedelta(days=1)
LAPSE_AFTER = datetime.timedelta(days=GRACE_DAYS + 1)

# (day, field) -> count
Share = Counter


def _share(*, cancelled: bool, erased: bool, years: Iterable[tuple], refunded: set[int]) -> Share:
    """One membership's counts from its paid years, each ``(starts_on,
    ends_on, payment_id, paid_at)``. As ``members.reports.renewals``: years
    whose payment was refunded in full are left out; a membership cancelled
    by staff (not by erasing its account) did not run its course, so has no
    lapses and no retention."""
    counted = [year for year in years if year[2] is None or year[2] not in refunded]
    starts = {year[0] for year in counted}
    ends = {year[1] for year in counted}
    first = min(starts, default=None)
    ran_its_course = not (cancelled and not erased)
    share: Share = Counter()
    for starts_on, ends_on, payment_id, paid_at in counted:
        if payment_id is not None and paid_at is not None:
            if starts_on == first:
                kind = "joined"
            elif starts_on - ONE_DAY in ends:
                kind = "renewed"
            else:
                kind = "rejoined"
            share[(timezone.localdate(paid_at), kind)] += 1
        if ran_its_course:
            share[(ends_on, "ended")] += 1
            if ends_on + ONE_DAY in starts:
                share[(ends_on, "ended_renewed")] += 1
            else:
                share[(ends_on + LAPSE_AFTER, "lapsed")] += 1
    return share


def _encode(share: Share) -> dict:
    days: dict[str, dict[str, int]] = {}
    for (day, name), n in share.items():
        if n:
            days.setdefault(day.isoformat(), {})[name] = n
    return days


def _decode(days: dict) -> Share:
    return Counter(
        {
            (datetime.date.fromisoformat(day), name): n
            for day, counts in days.items()
            for name, n in counts.items()
        }
    )


def _years(membership_ids) -> dict[int, list[tuple]]:
    years: dict[int, list[tuple]] = {}
    rows = MembershipPeriod.objects.filter(membership_id__in=membership_ids).values_list(
        "membership_id", "starts_on", "ends_on", "payment_id", "payment__paid_at"
    )
    for membership_id, *year in rows.order_by().iterator(chunk_size=5000):
        years.setdefault(membership_id, []).append(tuple(year))
    return years


def _refunded(membership_ids=None) -> set[int]:
    payments = Payment.objects.filter(status=Payment.Status.REFUNDED)
    if membership_ids is not None:
        payments = payments.filter(membership_id__in=membership_ids)
    return set(payments.values_list("pk", flat=True))


def _add(delta: Share) -> None:
    """Add ``delta`` to the day rows, day by day in order (so two
    transactions adding to the same days cannot deadlock)."""
    by_day: dict[datetime.date, dict[str, int]] = {}
    for (day, name), n in delta.items():
        if n:
            by_day.setdefault(day, {})[name] = n
    if not by_day:
        return
    MembershipDay.objects.bulk_create(
        [MembershipDay(day=day) for day in sorted(by_day)], ignore_conflicts=True
    )
    for day in sorted(by_day):
        MembershipDay.objects.filter(day=day).update(
            **{name: F(name) + n for name, n in by_day[day].items()}
        )


@transaction.atomic
def membership_figures_refresh(*, membership_id: int) -> None:
    """Count the membership's share of the report figures again and add
    the difference to the days. Harmless to call when nothing changed."""
    membership = (
        Membership.objects.select_for_update()
        .filter(pk=membership_id)
        .values("status", "user__erased_at")
        .first()
    )
    stored = MembershipFigures.objects.select_for_update().filter(pk=membership_id).first()
    if membership is None:
        share = Counter()
    else:
        share = _share(
            cancelled=membership["status"] == Membership.Status.CANCELLED,
            erased=membership["user__erased_at"] is not None,
            years=_years([membership_id]).get(membership_id, []),
            refunded=_refunded([membership_id]),
        )
    old = _decode(stored.days) if stored else Counter()
    delta = Counter(share)
    delta.subtract(old)
    _add(delta)
    if membership is not None:
        MembershipFigures.objects.update_or_create(
            membership_id=membership_id, defaults={"days": _encode(share)}
        )


@transaction.atomic
def membership_figures_rebuild() -> int:
    """Every membership's share counted from scratch and the days replaced;
    returns the memberships counted. Holds off refreshes meanwhile."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"LOCK TABLE {MembershipDay._meta.db_table}, "
                f"{MembershipFigures._meta.db_table} IN EXCLUSIVE MODE"
            )
    MembershipFigures.objects.all().delete()
    MembershipDay.objects.all().delete()
    years = _years(Membership.objects.values("pk"))
    refunded = _refunded()
    total: Share = Counter()
    figures = []
    memberships = Membership.objects.values_list("pk", "status", "user__erased_at")
    for pk, status, erased_at in memberships.order_by().iterator(chunk_size=5000):
        share = _share(
            cancelled=status == Membership.Status.CANCELLED,
            erased=erased_at is not None,
            years=years.get(pk, []),
            refunded=refunded,
        )
        total.update(share)
        figures.append(MembershipFigures(membership_id=pk, days=_encode(share)))
    MembershipFigures.objects.bulk_create(figures, batch_size=5000)
    days: dict[datetime.date, dict[str, int]] = {}
    for (day, name), n in total.items():
        days.setdefault(day, {})[name] = n
    MembershipDay.objects.bulk_create(
        [MembershipDay(day=day, **counts) for day, counts in days.items()], batch_size=5000
    )
    return len(figures)


# --- The figures, from the days ---------------------------------------------------


def _sums(since: datetime.date, until: datetime.date, fields: tuple[str, ...]):
    """Per month, the sums of ``fields`` over the days from ``since`` up
    to (not including) ``until``: a few hundred rows at most."""
    sums: dict[datetime.date, Counter] = {}
    rows = MembershipDay.objects.filter(day__gte=since, day__lt=until).values_list("day", *fields)
    for day, *counts in rows.order_by():
        month = sums.setdefault(month_start(day), Counter())
        for name, n in zip(fields, counts, strict=True):
            month[name] += n
    return sums


def movement_rows(*, today: datetime.date) -> list[MovementRow]:
    """As ``renewals.movement_rows``, from the days: lapses only up to
    today, since a year still in its grace may yet be renewed."""
    months = last_months(today)
    paid = _sums(months[0], month_start(today, -1), ("joined", "renewed", "rejoined"))
    lapsed = _sums(months[0], today + ONE_DAY, ("lapsed",))
    empty = Counter()
    return [
        MovementRow(
            month,
            joined=paid.get(month, empty)["joined"],
            renewed=paid.get(month, empty)["renewed"],
            rejoined=paid.get(month, empty)["rejoined"],
            lapsed=lapsed.get(month, empty)["lapsed"],
        )
        for month in months
    ]


def retention_rows(*, today: datetime.date) -> list[RetentionRow]:
    """As ``renewals.retention_rows``, from the days."""
    months = retention_months(today)
    sums = _sums(months[0], month_start(months[-1], -1), ("ended", "ended_renewed"))
    empty = Counter()
    return [
        RetentionRow(
            month, sums.get(month, empty)["ended"], sums.get(month, empty)["ended_renewed"]
        )
        for month in months
    ]


@transaction.atomic
def memberships_figures_refresh(*, membership_ids: Iterable[int]) -> None:
    """``membership_figures_refresh`` for many memberships at once (an
    imported batch), in a fixed number of queries however many there are.
    The days are locked in order before they are read, as ``_add`` does."""
    ids = sorted(set(membership_ids))
    if not ids:
        return
    memberships = {
        row["pk"]: row
        for row in Membership.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values("pk", "status", "user__erased_at")
    }
    stored = {
        figures.membership_id: figures
        for figures in MembershipFigures.objects.select_for_update()
        .filter(membership_id__in=ids)
        .order_by("pk")
    }
    years = _years(ids)
    refunded = _refunded(ids)
    delta: Share = Counter()
    figures = []
    for pk in ids:
        membership = memberships.get(pk)
        share: Share = Counter()
        if membership is not None:
            share = _share(
                cancelled=membership["status"] == Membership.Status.CANCELLED,
                erased=membership["user__erased_at"] is not None,
                years=years.get(pk, []),
                refunded=refunded,
            )
            figures.append(MembershipFigures(membership_id=pk, days=_encode(share)))
        delta.update(share)
        if pk in stored:
            delta.subtract(_decode(stored[pk].days))
    by_day: dict[datetime.date, dict[str, int]] = {}
    for (day, name), n in delta.items():
        if n:
            by_day.setdefault(day, {})[name] = n
    if by_day:
        MembershipDay.objects.bulk_create(
            [MembershipDay(day=day) for day in sorted(by_day)], ignore_conflicts=True
        )
        days = list(
            MembershipDay.objects.select_for_update().filter(day__in=list(by_day)).order_by("day")
        )
        for row in days:
            for name, n in by_day[row.day].items():
                setattr(row, name, getattr(row, name) + n)
        rows_update(MembershipDay, days, list(FIELDS))
    MembershipFigures.objects.bulk_create(
        figures,
        update_conflicts=True,
        unique_fields=["membership"],
        update_fields=["days"],
        batch_size=2000,
    )
