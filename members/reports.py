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


def _region_order(nation: str | None, region: str) -> tuple[int, str]:
    """England's regions by name, then Wales, Scotland, Northern Ireland,
    and the members who gave no board last."""
    if nation is None:
        return (len(NATION_ORDER) + 1, "")
    position = NATION_ORDER.index(nation) if nation in NATION_ORDER else len(NATION_ORDER)
    return (position, region)


@dataclass(frozen=True)
class BoardRow:
    name: str
    nation: str
    region: str
    members: int


def place_rows() -> tuple[list[PlaceRow], list[BoardRow]]:
    """Members in good standing by region and by ICB or health board, from
    the board on their profile: one count over the memberships, grouped by
    board, and the list of boards.

    Regions are NHS England's in England and the nations elsewhere; members
    who gave no board are a row of their own, last. Boards come most
    members first; those no longer offered appear while they have members.
    """
    counts = dict(
        Membership.objects.filter(status__in=IN_GOOD_STANDING)
        .values_list("user__profile__care_board")
        .annotate(members=Count("pk"))
        .order_by()
    )
    boards = [
        BoardRow(name, nation, region, counts.get(pk, 0))
        for pk, name, nation, region, is_active in CareBoard.objects.values_list(
            "pk", "name", "nation", "region", "is_active"
        )
        if is_active or counts.get(pk)
    ]
    regions: dict[tuple[str | None, str], int] = {}
    for board in boards:
        key = (board.nation, board.region if board.nation == CareBoard.Nation.ENGLAND else "")
        regions[key] = regions.get(key, 0) + board.members
    if counts.get(None):
        regions[(None, "")] = counts[None]
    region_list = [
        PlaceRow(_region_label(nation, region), members)
        for (nation, region), members in sorted(
            regions.items(), key=lambda r: _region_order(*r[0])
        )
        if members
    ]
    board_list = [
        BoardRow(board.name, NATIONS.get(board.nation, board.nation), board.region, board.members)
        for board in sorted(boards, key=lambda board: (-board.members, board.name))
    ]
    return region_list, board_list


# --- Joining, renewing and lapsing ----------------------------------------------


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
