"""Membership figures for the staff reports.

Each function aggregates in the database and returns plain rows: a fixed
number of queries however many members there are. Dates are UK dates.

The figures about joining, renewing and lapsing are worked out from the
paid years (``MembershipPeriod``), the record of what each member paid for:

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

from django.db.models import Count, DateField, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast, TruncMonth
from django.utils import timezone

from .models import CareBoard, Grade, Membership, MembershipPeriod, Payment, Profile
from .models.membership import GRACE_DAYS

MONTHS = 12
DUE_SOON_DAYS = 30
DUE_LATER_DAYS = 60

Status = Membership.Status
IN_GOOD_STANDING = [Status.ACTIVE, Status.IN_GRACE]


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def uk_midnight(day: datetime.date) -> datetime.datetime:
    """The start of ``day`` in UK time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def month_start(day: datetime.date, back: int = 0) -> datetime.date:
    """The first day of the month ``back`` months before ``day``'s (after
    it, for a negative ``back``)."""
    index = day.year * 12 + day.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


def last_months(today: datetime.date, count: int = MONTHS) -> list[datetime.date]:
    """The first days of the ``count`` months up to and including this one."""
    return [month_start(today, back) for back in range(count - 1, -1, -1)]


def rate(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole``, to one decimal place."""
    return round(100 * part / whole, 1) if whole else None


# --- Members in good standing, renewals due and grace -------------------------


@dataclass(frozen=True)
class GradeRow:
    grade: str
    active: int
    in_grace: int
    due_soon: int  # active, expiring in the next DUE_SOON_DAYS days
    due_later: int  # active, expiring in the DUE_SOON_DAYS days after that
    grace_week: int  # in grace, grace ends within 7 days (or is overdue)
    grace_fortnight: int  # in grace, grace ends in 8 to 14 days
    grace_later: int  # in grace, grace ends in 15 to 30 days

    @property
    def members(self) -> int:
        return self.active + self.in_grace

    @property
    def due(self) -> int:
        return self.due_soon + self.due_later


def grade_rows(*, today: datetime.date) -> list[GradeRow]:
    """Per grade, in one query: members in good standing, renewals due in
    the next 30 and 60 days, and members in grace by when grace ends.

    A member in grace on ``today`` has a grace end of ``expires_on`` plus
    30 days. Grades no longer offered appear while they have members.
    """

    def members(**lookups) -> Count:
        return Count(
            "memberships",
            filter=Q(**{f"memberships__{key}": value for key, value in lookups.items()}),
        )

    grace_ends_week = today - days(GRACE_DAYS - 7)
    grace_ends_fortnight = today - days(GRACE_DAYS - 14)
    rows = (
        Grade.objects.annotate(
            active=members(status=Status.ACTIVE),
            in_grace=members(status=Status.IN_GRACE),
            due_soon=members(
                status=Status.ACTIVE,
                expires_on__gte=today,
                expires_on__lte=today + days(DUE_SOON_DAYS),
            ),
            due_later=members(
                status=Status.ACTIVE,
                expires_on__gt=today + days(DUE_SOON_DAYS),
                expires_on__lte=today + days(DUE_LATER_DAYS),
            ),
            grace_week=members(status=Status.IN_GRACE, expires_on__lte=grace_ends_week),
            grace_fortnight=members(
                status=Status.IN_GRACE,
                expires_on__gt=grace_ends_week,
                expires_on__lte=grace_ends_fortnight,
            ),
            grace_later=members(status=Status.IN_GRACE, expires_on__gt=grace_ends_fortnight),
        )
        .filter(Q(is_active=True) | Q(active__gt=0) | Q(in_grace__gt=0))
        .order_by("display_order", "name")
        .values_list(
            "name",
            "active",
            "in_grace",
            "due_soon",
            "due_later",
            "grace_week",
            "grace_fortnight",
            "grace_later",
        )
    )
    return [GradeRow(*row) for row in rows]


# --- Where members are ----------------------------------------------------------


@dataclass(frozen=True)
class PlaceRow:
    name: str
    members: int


NATION_ORDER = [value for value, _ in CareBoard.Nation.choices]
NATIONS = dict(CareBoard.Nation.choices)
NOT_GIVEN = "ICB or health board not given"


def _region_label(nation: str | None, region: str | None) -> str:
    if nation is None:
        return NOT_GIVEN
    if nation == CareBoard.Nation.ENGLAND:
        return f"England: {region}" if region else "England: region not set"
    return NATIONS.get(nation, nation)


def region_rows() -> list[PlaceRow]:
    """Members in good standing by NHS England region, or by nation for
    Wales, Scotland and Northern Ireland, from their profile's board.
    Members with no board on their profile are counted on a row of their
    own, last."""
    rows = (
        Membership.objects.filter(status__in=IN_GOOD_STANDING)
        .values_list("user__profile__care_board__nation", "user__profile__care_board__region")
        .annotate(members=Count("pk"))
        .order_by()
    )

    def order(row):
        nation, region, _ = row
        if nation is None:
            return (len(NATION_ORDER) + 1, "")
        position = NATION_ORDER.index(nation) if nation in NATION_ORDER else len(NATION_ORDER)
        return (position, region or "")

    return [
        PlaceRow(_region_label(nation, region), members)
        for nation, region, members in sorted(rows, key=order)
    ]


@dataclass(frozen=True)
class BoardRow:
    name: str
    nation: str
    region: str
    members: int


def care_board_rows() -> list[BoardRow]:
    """Members in good standing for each ICB or health board, most first.
    Boards no longer offered appear while they have members."""
    rows = (
        CareBoard.objects.annotate(
            members=Count(
                "profiles",
                filter=Q(profiles__user__membership__status__in=IN_GOOD_STANDING),
            )
        )
        .filter(Q(is_active=True) | Q(members__gt=0))
        .order_by("-members", "name")
        .values_list("name", "nation", "region", "members")
    )
    return [
        BoardRow(name, NATIONS.get(nation, nation), region, members)
        for name, nation, region, members in rows
    ]


# --- Joining, renewing and lapsing ----------------------------------------------


def counted_years() -> QuerySet[MembershipPeriod]:
    """Paid years, less those whose payment was refunded in full."""
    return MembershipPeriod.objects.exclude(payment__status=Payment.Status.REFUNDED)


def _shifted(field, by: int):
    """A date ``by`` days after ``field`` (an F or OuterRef), as a date on
    every database."""
    return Cast(field + days(by), output_field=DateField())


def _followed_by_renewal() -> Exists:
    """Whether another paid year of the same membership begins the day
    after this one ends."""
    return Exists(
        MembershipPeriod.objects.filter(
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


def movement_rows(*, today: datetime.date) -> list[MovementRow]:
    """Joined, renewed and rejoined (by the month the payment arrived) and
    lapsed (by the month grace ended), for this month and the 11 before."""
    months = last_months(today)
    since = months[0]
    until = month_start(today, -1)
    earlier = MembershipPeriod.objects.filter(
        membership=OuterRef("membership"), starts_on__lt=OuterRef("starts_on")
    )
    continues = MembershipPeriod.objects.filter(
        membership=OuterRef("membership"), ends_on=_shifted(OuterRef("starts_on"), -1)
    )
    paid = (
        counted_years()
        .filter(payment__paid_at__gte=uk_midnight(since), payment__paid_at__lt=uk_midnight(until))
        .annotate(
            month=TruncMonth("payment__paid_at", output_field=DateField()),
            first=~Exists(earlier),
            renewal=Exists(continues),
        )
        .values("month")
        .annotate(
            joined=Count("pk", filter=Q(first=True)),
            renewed=Count("pk", filter=Q(renewal=True)),
            rejoined=Count("pk", filter=Q(first=False, renewal=False)),
        )
        .order_by()
    )
    # Lapsed on ends_on + GRACE_DAYS + 1: from ``since`` up to today.
    lapsed = (
        counted_years()
        .exclude(membership__status=Status.CANCELLED)
        .filter(
            ends_on__gte=since - days(GRACE_DAYS + 1),
            ends_on__lte=today - days(GRACE_DAYS + 1),
        )
        .filter(~_followed_by_renewal())
        .annotate(month=TruncMonth(_shifted(F("ends_on"), GRACE_DAYS + 1)))
        .values("month")
        .annotate(lapsed=Count("pk"))
        .order_by()
    )
    by_month = {month: {} for month in months}
    for row in paid:
        by_month[row.pop("month")].update(row)
    for row in lapsed:
        by_month[row["month"]]["lapsed"] = row["lapsed"]
    return [MovementRow(month, **counts) for month, counts in by_month.items()]


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
    in it, and how many of those were renewed."""
    months = retention_months(today)
    rows = (
        counted_years()
        .exclude(membership__status=Status.CANCELLED)
        .filter(ends_on__gte=months[0], ends_on__lt=month_start(months[-1], -1))
        .annotate(month=TruncMonth("ends_on"), renewal=_followed_by_renewal())
        .values("month")
        .annotate(ended=Count("pk"), renewed=Count("pk", filter=Q(renewal=True)))
        .order_by()
    )
    found = {row["month"]: row for row in rows}
    return [
        RetentionRow(
            month,
            found.get(month, {}).get("ended", 0),
            found.get(month, {}).get("renewed", 0),
        )
        for month in months
    ]


# --- The member list --------------------------------------------------------------

MEMBER_EXPORT_HEADER = [
    "membership number",
    "first name",
    "last name",
    "email",
    "grade",
    "status",
    "member since",
    "expires on",
    "ICB or health board",
    "nation",
    "NHS England region",
    "organisation",
    "practice ODS code",
    "PCN",
    "role",
    "job title",
]


def member_export_rows(*, chunk_size: int = 2000):
    """Every membership, any status, as rows for ``MEMBER_EXPORT_HEADER``,
    read from the database ``chunk_size`` at a time so memory stays flat.
    "Member since" is the first day of the first paid year."""
    statuses = dict(Status.choices)
    roles = dict(Profile.Role.choices)
    first_year = (
        MembershipPeriod.objects.filter(membership=OuterRef("pk"))
        .order_by("starts_on")
        .values("starts_on")[:1]
    )
    rows = (
        Membership.objects.annotate(member_since=Subquery(first_year))
        .order_by("pk")
        .values_list(
            "number",
            "user__first_name",
            "user__last_name",
            "user__email",
            "grade__name",
            "status",
            "member_since",
            "expires_on",
            "user__profile__care_board__name",
            "user__profile__care_board__nation",
            "user__profile__care_board__region",
            "user__profile__organisation_name",
            "user__profile__ods_code",
            "user__profile__pcn_name",
            "user__profile__role",
            "user__profile__job_title",
        )
    )
    for row in rows.iterator(chunk_size=chunk_size):
        (number, first, last, email, grade, status, since, expires, board, nation) = row[:10]
        yield [
            number or "",
            first,
            last,
            email,
            grade,
            statuses.get(status, status),
            since.isoformat() if since else "",
            expires.isoformat() if expires else "",
            board,
            NATIONS.get(nation, nation),
            *row[10:14],
            roles.get(row[14], row[14]),
            row[15],
        ]
