"""Membership figures for the staff reports: members in good standing by
grade, renewals due, members in grace, and where members are.

Each function aggregates in the database and returns plain rows: a fixed
number of queries however many members there are. Dates are UK dates.
"""

import datetime
from dataclasses import dataclass

from django.db.models import (
    Count,
    Exists,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
)

from members.billing.models.membership import GRACE_DAYS
from members.models import CareBoard, Grade, Membership, Profile

from .period import Period, days

DUE_SOON_DAYS = 30
DUE_LATER_DAYS = 60

Status = Membership.Status


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
    """Per grade: members in good standing, renewals due in the next 30 and
    60 days, and members in grace by when grace ends. Two queries: the
    counts, grouped by grade over the memberships in good standing alone
    (no join, so PostgreSQL can share the scan between workers), and the
    grades.

    A member in grace on ``today`` has a grace end of ``expires_on`` plus
    30 days. Grades no longer offered appear while they have members.
    """

    def members(**lookups) -> Count:
        return Count("pk", filter=Q(**lookups))

    grace_ends_week = today - days(GRACE_DAYS - 7)
    grace_ends_fortnight = today - days(GRACE_DAYS - 14)
    counts = {
        grade: tuple(rest)
        for grade, *rest in Membership.objects.filter(status__in=Membership.IN_GOOD_STANDING)
        .values_list("grade")
        .annotate(
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
        .order_by()
    }
    none = (0,) * 7
    return [
        GradeRow(name, *counts.get(pk, none))
        for pk, name, is_active in Grade.objects.order_by("display_order", "name").values_list(
            "pk", "name", "is_active"
        )
        if is_active or pk in counts
    ]


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


@dataclass(frozen=True)
class Places:
    """Members in good standing by where they are, from their profiles.

    ``rows`` are ``(care_board_id, icb_id, pcn_id, members)``: the ICB or
    health board the member gave, and the ICB and PCN of the practice their
    ODS code names, each ``None`` where there is none. ``no_profile``
    counts the members with no profile at all, who are in no row.
    """

    rows: list[tuple[int | None, int | None, int | None, int]]
    no_profile: int


def member_places(period: Period) -> Places:
    """Where members are, for the reports by board and by practice: one
    query, worked out once for ``period``.

    Counted from the profiles of members in good standing (a semi-join on
    ``user_id``), which is cheaper than going from memberships to users to
    profiles. The total in good standing is a subquery of the same
    statement, so the members with no profile are counted in the same
    snapshot as the rest.
    """

    def work_out() -> Places:
        in_good_standing = Membership.objects.filter(status__in=Membership.IN_GOOD_STANDING)
        # COUNT as a plain function: Count would make the subquery group by
        # membership, one row each.
        everyone = Subquery(
            in_good_standing.order_by().values(n=Func("pk", function="COUNT")),
            output_field=IntegerField(),
        )
        rows = list(
            Profile.objects.filter(Exists(in_good_standing.filter(user=OuterRef("user"))))
            .values_list("care_board", "practice__icb", "practice__pcn")
            .annotate(members=Count("pk"), everyone=everyone)
            .order_by()
        )
        # With no row to carry the total, it takes a query of its own.
        total = rows[0][4] if rows else in_good_standing.count()
        return Places([row[:4] for row in rows], total - sum(row[3] for row in rows))

    return period.shared("member_places", work_out)


def place_rows(period: Period) -> tuple[list[PlaceRow], list[BoardRow]]:
    """Members in good standing by region and by ICB or health board, from
    the board on their profile (``member_places``), and the list of boards.

    Regions are NHS England's in England and the nations elsewhere; members
    who gave no board are a row of their own, last. Boards come most
    members first; those no longer offered appear while they have members.
    """
    places = member_places(period)
    counts: dict[int | None, int] = {None: places.no_profile}
    for care_board, _icb, _pcn, members in places.rows:
        counts[care_board] = counts.get(care_board, 0) + members
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
