"""Staff reports: the membership figures on a small data set built by hand,
who may see them, the CSVs, and query counts that stay flat from 10 to
10,000 members."""

import csv
import datetime
import io
import pickle
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from igpm.csv import csv_stream
from members import reports
from members.billing.services.membership import add_years, period_end
from members.billing.services.payments import payment_create, payment_fulfil
from members.models import (
    AutoRenewal,
    CareBoard,
    Grade,
    Membership,
    MembershipPeriod,
    NHSOrganisation,
    Payment,
    Profile,
    User,
)
from members.reports import GradeRow, MovementRow, PlaceRow, RetentionRow
from members.reports.period import Period
from members.reports.summary import membership_figures_rebuild
from tests.factories import (
    MembershipFactory,
    ProfileFactory,
    StaffFactory,
    UserFactory,
    active_member,
    grade,
    team_member,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
TODAY = datetime.date(2026, 6, 15)
NOW = datetime.datetime(2026, 6, 15, 12, 0, tzinfo=LONDON)
# the session with the user, two-factor check, the user's and the groups'
# permissions
AUTH_QUERIES = 4
# members by grade and the grades; members by board and by practice, the
# boards and the practices' ICBs' and PCNs' names; movement from the summary days: paid years and
# lapses; retention from them; application statuses; decisions overall and by
# pathway; the events in the period with their registrations (by type, and
# the latest); how members pay: members in good standing and their automatic
# renewals, renewals due, failed collections and their count; organisation
# years and seats held by ICB
PAGE_QUERIES = AUTH_QUERIES + 19


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def board(name: str, nation: str = "england", region: str = "") -> CareBoard:
    found, _ = CareBoard.objects.get_or_create(
        name=name, defaults={"kind": "icb", "nation": nation, "region": region}
    )
    return found


def paid_year(membership: Membership, starts_on, paid_on=None, refunded=False):
    """A paid year from ``starts_on``; the payment arrived on ``paid_on``
    (the start, unless given) at 10:00 UK time."""
    paid_on = d(paid_on or starts_on)
    payment = Payment.objects.create(
        membership=membership,
        user=membership.user,
        grade=membership.grade,
        purpose=Payment.Purpose.RENEW,
        method=Payment.Method.OFFLINE,
        status=Payment.Status.REFUNDED if refunded else Payment.Status.PAID,
        amount_pence=membership.grade.annual_fee_pence,
        refunded_pence=membership.grade.annual_fee_pence if refunded else 0,
        paid_at=datetime.datetime.combine(paid_on, datetime.time(10), tzinfo=LONDON),
    )
    starts_on = d(starts_on)
    return MembershipPeriod.objects.create(
        membership=membership,
        payment=payment,
        grade=membership.grade,
        starts_on=starts_on,
        ends_on=period_end(starts_on),
    )


def member(grade_slug, status, years=(), care_board=None, **user) -> Membership:
    """A member with a profile and the paid years ``years``: pairs of
    (first day, day the payment arrived or None), or dicts for paid_year."""
    profile = ProfileFactory(care_board=care_board, user=UserFactory(**user))
    membership = Membership.objects.create(
        user=profile.user, grade=grade(grade_slug), status=Membership.Status.AWAITING_PAYMENT
    )
    last = None
    for year in years:
        last = (
            paid_year(membership, **year)
            if isinstance(year, dict)
            else paid_year(membership, *year)
        )
    if last is not None:
        membership.number = f"IGPM-{membership.pk:06d}"
        membership.expires_on = last.ends_on
    membership.status = status
    membership.save()
    return membership


@pytest.fixture
def world(db):
    """Members whose figures are worked out by hand in the tests below.

    Today is 15 June 2026: "the last 12 months" are July 2025 to June 2026,
    and retention covers expiries from May 2025 to April 2026 (grace for
    May's expiries is not all over until 1 July).
    """
    manchester = board("NHS Greater Manchester ICB", region="North West")
    london = board("NHS North Central London ICB", region="London")
    cardiff = board("Cardiff and Vale University Health Board", nation="wales")
    lothian = board("NHS Lothian", nation="scotland")
    ACTIVE, IN_GRACE = Membership.Status.ACTIVE, Membership.Status.IN_GRACE
    people = {
        # Joined in March 2026.
        "a": member("member", ACTIVE, [("2026-03-10", None)], manchester),
        # Joined before the window; renewed early, in December 2025.
        "b": member(
            "fellow", ACTIVE, [("2025-01-20", None), ("2026-01-20", "2025-12-05")], manchester
        ),
        # Renewed during grace, in April 2026.
        "c": member(
            "member", ACTIVE, [("2025-04-01", None), ("2026-04-01", "2026-04-20")], cardiff
        ),
        # Year ended 28 February 2026; grace ran out; lapsed 31 March 2026.
        "d": member("member", Membership.Status.LAPSED, [("2025-03-01", None)], manchester),
        # Lapsed in June 2025 (before the window), rejoined February 2026.
        "e": member("associate", ACTIVE, [("2024-05-10", None), ("2026-02-02", None)], london),
        # In grace: expired 31 May, grace ends 30 June (in 15 days); no board.
        "f": member("student", IN_GRACE, [("2025-06-01", None)], None),
        # In grace: expired 20 May, grace ends 19 June (in 4 days).
        "g": member("member", IN_GRACE, [("2025-05-21", None)], manchester),
        # Joined July 2025; expires 1 July 2026, due within 30 days.
        "h": member("member", ACTIVE, [("2025-07-02", None)], lothian),
        # Joined August 2025; expires 10 August 2026, due in 31 to 60 days.
        "i": member("fellow", ACTIVE, [("2025-08-11", None)], lothian),
        # Joined May 2026, refunded in full and cancelled: counts nowhere.
        "j": member(
            "member",
            Membership.Status.CANCELLED,
            [{"starts_on": "2026-05-05", "refunded": True}],
            manchester,
        ),
        # Never paid.
        "k": member("member", Membership.Status.AWAITING_PAYMENT, [], manchester),
        # Cancelled by staff; its year ended in January 2026, no lapse.
        "l": member("member", Membership.Status.CANCELLED, [("2025-01-10", None)], london),
    }
    # Made around the services, so counted from scratch as after an import.
    membership_figures_rebuild()
    return people


def test_grade_rows_count_members_renewals_due_and_grace(world):
    rows = {row.grade: row for row in reports.grade_rows(today=TODAY)}
    assert rows["Member"] == GradeRow("Member", 3, 1, 1, 0, 1, 0, 0)
    assert rows["Fellow"] == GradeRow("Fellow", 2, 0, 0, 1, 0, 0, 0)
    assert rows["Associate"] == GradeRow("Associate", 1, 0, 0, 0, 0, 0, 0)
    assert rows["Student or Apprentice"] == GradeRow("Student or Apprentice", 0, 1, 0, 0, 0, 0, 1)
    assert rows["Retired"].members == 0
    assert sum(row.members for row in rows.values()) == 8


def test_a_grade_no_longer_offered_shows_only_while_it_has_members(world):
    Grade.objects.filter(slug="retired").update(is_active=False)
    Grade.objects.filter(slug="student").update(is_active=False)
    names = [row.grade for row in reports.grade_rows(today=TODAY)]
    assert "Retired" not in names
    assert "Student or Apprentice" in names


def test_members_by_region_and_by_board(world):
    regions, boards = reports.place_rows(Period.current())
    assert regions == [
        PlaceRow("England: London", 1),
        PlaceRow("England: North West", 3),
        PlaceRow("Wales", 1),
        PlaceRow("Scotland", 2),
        PlaceRow(reports.NOT_GIVEN, 1),
    ]
    assert [(row.name, row.members) for row in boards[:2]] == [
        ("NHS Greater Manchester ICB", 3),
        ("NHS Lothian", 2),
    ]
    by_name = {row.name: row for row in boards}
    assert by_name["Cardiff and Vale University Health Board"].nation == "Wales"
    assert by_name["NHS North Central London ICB"].members == 1
    # Active boards with nobody yet are listed too, with none.
    assert by_name["NHS Borders"].members == 0
    assert sum(row.members for row in boards) == 7  # f gave no board


def test_a_member_with_no_profile_is_counted_as_giving_no_board(world):
    world["h"].user.profile.delete()  # in Lothian until now
    regions, _ = reports.place_rows(Period.current())
    assert PlaceRow("Scotland", 1) in regions
    assert regions[-1] == PlaceRow(reports.NOT_GIVEN, 2)
    assert sum(row.members for row in regions) == 8


def test_with_no_profiles_every_member_is_counted_as_giving_no_board(world):
    Profile.objects.all().delete()
    regions, boards = reports.place_rows(Period.current())
    assert regions == [PlaceRow(reports.NOT_GIVEN, 8)]
    assert all(row.members == 0 for row in boards)


def test_the_reports_by_board_and_by_practice_count_members_once(world):
    from members.organisations.ods_reports import practice_places

    period = Period.current()
    with CaptureQueriesContext(connection) as queries:
        regions, _ = reports.place_rows(period)
        _, unlinked = practice_places(period)
    # The count shared by both, the boards, and (with a practice known to
    # someone) the organisations' names: none here, so no query for them.
    assert len(queries) == 2
    assert unlinked == sum(row.members for row in regions) == 8
    # A new period counts again.
    with CaptureQueriesContext(connection) as queries:
        reports.place_rows(Period.current())
    assert len(queries) == 2


def test_a_cached_period_keeps_none_of_its_shared_figures():
    period = Period.current()
    assert period.shared("answer", lambda: 42) == 42
    assert period.shared("answer", lambda: 43) == 42
    # As the shared cache keeps it with the figures.
    copy = pickle.loads(pickle.dumps(period))  # noqa: S301 (the test's own bytes)
    assert copy == period
    assert copy.shared("answer", lambda: 43) == 43
    assert period.shared("answer", lambda: 44) == 42


def test_movement_by_month(world):
    rows = reports.movement_rows(today=TODAY)
    assert len(rows) == 12
    assert rows[0].month == datetime.date(2025, 7, 1)
    assert rows[-1].month == datetime.date(2026, 6, 1)
    found = {row.month: row for row in rows if row != MovementRow(row.month)}
    assert found == {
        d("2025-07-01"): MovementRow(d("2025-07-01"), joined=1),  # h
        d("2025-08-01"): MovementRow(d("2025-08-01"), joined=1),  # i
        d("2025-12-01"): MovementRow(d("2025-12-01"), renewed=1),  # b, paid early
        d("2026-02-01"): MovementRow(d("2026-02-01"), rejoined=1),  # e
        d("2026-03-01"): MovementRow(d("2026-03-01"), joined=1, lapsed=1),  # a; d
        d("2026-04-01"): MovementRow(d("2026-04-01"), renewed=1),  # c, in grace
    }


def test_retention_by_month_of_expiry(world):
    rows = reports.retention_rows(today=TODAY)
    assert rows[0].month == d("2025-05-01")
    assert rows[-1].month == d("2026-04-01")
    found = {row.month: (row.ended, row.renewed) for row in rows if row.ended}
    assert found == {
        d("2025-05-01"): (1, 0),  # e lapsed (rejoining later is not renewing)
        d("2026-01-01"): (1, 1),  # b
        d("2026-02-01"): (1, 0),  # d
        d("2026-03-01"): (1, 1),  # c
    }
    assert rows[-2] == RetentionRow(d("2026-03-01"), 1, 1)
    assert rows[-2].rate == 100.0
    assert rows[1].rate is None  # nothing ended in June 2025


@pytest.mark.parametrize(
    ("today", "first", "last"),
    [
        ("2026-06-15", "2025-05-01", "2026-04-01"),
        ("2026-07-01", "2025-06-01", "2026-05-01"),  # 31 May's grace ended 30 June
        ("2026-06-30", "2025-05-01", "2026-04-01"),
        ("2026-01-31", "2025-01-01", "2025-12-01"),  # 31 December's lapses today
    ],
)
def test_retention_covers_only_months_whose_grace_is_over(today, first, last):
    months = reports.retention_months(d(today))
    assert (months[0], months[-1], len(months)) == (d(first), d(last), 12)


def test_joining_and_renewing_through_the_payment_services_is_counted():
    """The figures follow what payment_fulfil records, not only hand-made rows."""
    membership = MembershipFactory()
    with time_machine.travel(datetime.datetime(2025, 9, 3, 11, tzinfo=LONDON), tick=False):
        payment = payment_create(membership=membership, method="offline", by=membership.user)
        payment_fulfil(payment_id=payment.pk)
    with time_machine.travel(datetime.datetime(2026, 8, 1, 11, tzinfo=LONDON), tick=False):
        payment = payment_create(membership=membership, method="offline", by=membership.user)
        payment_fulfil(payment_id=payment.pk)
    rows = {row.month: row for row in reports.movement_rows(today=d("2026-08-20"))}
    assert rows[d("2025-09-01")] == MovementRow(d("2025-09-01"), joined=1)
    assert rows[d("2026-08-01")] == MovementRow(d("2026-08-01"), renewed=1)
    # Renewed before expiry: the year that ended on 2 September carried on.
    retention = {row.month: row for row in reports.retention_rows(today=d("2026-11-01"))}
    assert retention[d("2026-09-01")] == RetentionRow(d("2026-09-01"), 1, 1)


# --- The page ---------------------------------------------------------------------


@pytest.fixture
def reports_client(client):
    client.force_login(team_member("Events team"))
    return client


@pytest.fixture
def at_noon():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_page_shows_each_section_with_its_figures(reports_client, world, at_noon):
    response = reports_client.get(reverse("members:staff_reports"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Figures as at 15 June 2026" in html
    assert "<strong>8</strong> members in good standing" in html
    assert (
        "In the last 12 months: <strong>3</strong> joined, <strong>2</strong> renewed, "
        "<strong>1</strong> rejoined and <strong>1</strong> lapsed." in html
    )
    assert "<strong>4</strong> paid years that ended from May 2025 to April 2026" in html
    assert "a retention rate of <strong>50.0%</strong>" in html
    assert "<strong>1</strong> active memberships expire in the next 30 days" in html
    assert "<strong>2</strong> in the next 60" in html
    assert "<strong>2</strong> members are in the 30 days' grace" in html
    # Each chart is an image with a name, and the same numbers in a table.
    assert html.count('role="img"') == 7
    for chart in ("grades", "regions", "movement", "retention", "due", "grace", "statuses"):
        assert f'aria-labelledby="chart-{chart}-title chart-{chart}-desc"' in html
    assert "No published events in this period." in html
    assert "Member: Active 3, In grace 1;" in html
    assert '<th scope="row">Member</th><td>3</td><td>1</td><td>4</td>' in html
    assert '<th scope="row">March 2026</th><td>1</td><td>0</td><td>0</td><td>1</td>' in html
    for slug in reports_csv_slugs():
        assert reverse("members:staff_report_csv", args=[slug]) in html
    # The Events team may see reports but not download the member list.
    assert reverse("members:staff_member_export") not in html


def test_the_member_list_link_is_for_those_who_may_find_members(client, at_noon):
    client.force_login(team_member("Membership team"))
    html = client.get(reverse("members:staff_reports")).content.decode()
    assert reverse("members:staff_member_export") in html


def test_staff_home_links_the_reports_only_for_those_with_the_permission(client):
    client.force_login(StaffFactory(mfa=True))
    assert (
        reverse("members:staff_reports")
        not in client.get(reverse("members:staff_home")).content.decode()
    )
    client.force_login(team_member("Accreditation assessors"))
    assert (
        reverse("members:staff_reports")
        in client.get(reverse("members:staff_home")).content.decode()
    )


def reports_csv_slugs():
    from members.reports.registry import CSV_REPORTS

    return list(CSV_REPORTS)


@pytest.mark.parametrize(
    "url",
    [
        reverse("members:staff_reports"),
        reverse("members:staff_report_csv", args=["grades"]),
        reverse("members:staff_member_export"),
    ],
)
def test_who_may_open_the_reports(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    client.force_login(ProfileFactory().user)
    assert client.get(url).status_code == 403
    client.force_login(StaffFactory(mfa=True))  # staff, but no team
    assert client.get(url).status_code == 403
    without_two_factor = StaffFactory(mfa=False)
    without_two_factor.groups.add(Group.objects.get(name="Membership team"))
    client.force_login(without_two_factor)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    client.force_login(team_member("Membership team"))
    assert client.get(url).status_code == 200


def test_the_member_list_is_refused_to_teams_without_find_members(client):
    url = reverse("members:staff_member_export")
    for team in ("Events team", "Accreditation assessors"):
        client.force_login(team_member(team))
        assert client.get(url).status_code == 403
    client.force_login(team_member("Administrators"))
    assert client.get(url).status_code == 200


def test_an_unknown_report_is_not_found(reports_client):
    url = reverse("members:staff_report_csv", args=["no-such-report"])
    assert reports_client.get(url).status_code == 404


# --- CSVs --------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_each_section_csv_has_the_page_figures(reports_client, world, at_noon):
    def get(slug):
        response = reports_client.get(reverse("members:staff_report_csv", args=[slug]))
        assert response["Content-Disposition"] == (
            f'attachment; filename="igpm-{slug}-2026-06-15.csv"'
        )
        return read_csv(response)

    grades = get("grades")
    assert grades[0] == ["grade", "active", "in grace", "members"]
    assert ["Member", "3", "1", "4"] in grades
    regions = get("regions")
    assert regions[1:] == [
        ["England: London", "1"],
        ["England: North West", "3"],
        ["Wales", "1"],
        ["Scotland", "2"],
        [reports.NOT_GIVEN, "1"],
    ]
    assert ["NHS Lothian", "Scotland", "", "2"] in get("care-boards")
    movement = get("movement")
    assert movement[0] == ["month", "joined", "renewed", "rejoined", "lapsed"]
    assert len(movement) == 13
    assert ["2026-03", "1", "0", "0", "1"] in movement
    assert ["2025-12", "0", "1", "0", "0"] in movement
    retention = get("retention")
    assert ["2026-02", "1", "0", "1", "0.0"] in retention
    assert ["2025-06", "0", "0", "0", ""] in retention
    assert ["Fellow", "0", "1", "1"] in get("renewals-due")
    assert ["Member", "1", "1", "0", "0"] in get("grace")


def test_member_list_csv_has_every_membership_with_its_details(client, world, at_noon):
    client.force_login(team_member("Membership team"))
    response = client.get(reverse("members:staff_member_export"))
    assert response["Content-Disposition"] == 'attachment; filename="igpm-members-2026-06-15.csv"'
    rows = read_csv(response)
    assert rows[0] == reports.MEMBER_EXPORT_HEADER
    assert len(rows) == 1 + Membership.objects.count() == 13
    b = world["b"]
    row = next(r for r in rows if r[3] == b.user.email)
    profile = b.user.profile
    assert row == [
        b.number,
        b.user.first_name,
        b.user.last_name,
        b.user.email,
        "Fellow",
        "Active",
        "2025-01-20",
        "2027-01-19",
        "NHS Greater Manchester ICB",
        "England",
        "North West",
        profile.organisation_name,
        profile.ods_code,
        "Central PCN",
        "Practice manager",
        "Practice Manager",
        # How they pay (tests/members/test_auto_renewal_staff.py has the rest).
        "Pays each year",
        "Off",
        "",
        "",
        "",
    ]
    never_paid = next(r for r in rows if r[3] == world["k"].user.email)
    assert never_paid[0] == "" and never_paid[5] == "Awaiting payment" and never_paid[6] == ""
    no_board = next(r for r in rows if r[3] == world["f"].user.email)
    assert no_board[8:11] == ["", "", ""]


def test_csv_cells_that_would_be_formulas_are_neutralised(client):
    client.force_login(team_member("Administrators"))
    profile = ProfileFactory(
        user=UserFactory(first_name='=HYPERLINK("http://x")', last_name="@SUM(1)"),
        organisation_name="+44 161 496 0000",
        job_title="-1",
    )
    MembershipFactory(user=profile.user)
    board("=cmd|' /C calc'!A0", region="-North")
    rows = read_csv(client.get(reverse("members:staff_member_export")))
    row = next(r for r in rows if r[3] == profile.user.email)
    assert row[1:3] == ['\'=HYPERLINK("http://x")', "'@SUM(1)"]
    assert row[11] == "'+44 161 496 0000"
    assert row[15] == "'-1"
    boards = read_csv(client.get(reverse("members:staff_report_csv", args=["care-boards"])))
    assert ["'=cmd|' /C calc'!A0", "England", "'-North", "0"] in boards


# --- Query counts ------------------------------------------------------------------


def bulk_members(count: int) -> None:
    """``count`` members in bulk: a spread of grades, boards and states,
    each with one or two paid years, some renewed and some lapsed."""
    today = timezone.localdate()
    grades = list(Grade.objects.all())
    boards = list(CareBoard.objects.filter(is_active=True)[:20])
    icb = NHSOrganisation.objects.create(code="QHM", kind="icb", name="North East ICB")
    pcn = NHSOrganisation.objects.create(code="U11111", kind="pcn", name="Stockton PCN")
    practices = [
        NHSOrganisation.objects.create(code=code, kind="practice", name=code, icb=icb, pcn=pcn)
        for code in ("A81001", "A81002")
    ]
    users = User.objects.bulk_create(
        User(email=f"bulk{n}@example.org", first_name=f"First{n}", last_name=f"Last{n}")
        for n in range(count)
    )
    # Most with a board, some with a practice in the NHS data too; every
    # eleventh with no profile at all.
    Profile.objects.bulk_create(
        Profile(
            user=user,
            care_board=boards[n % len(boards)] if n % 10 else None,
            practice=practices[n % 2] if n % 3 == 0 else None,
        )
        for n, user in enumerate(users)
        if n % 11
    )
    starts = {n: today - datetime.timedelta(days=n % 700) for n in range(count)}
    memberships = Membership.objects.bulk_create(
        Membership(
            user=user,
            grade=grades[n % len(grades)],
            status=Membership.Status.ACTIVE if n % 7 else Membership.Status.LAPSED,
            number=f"IGPM-B{n:06d}",
            expires_on=period_end(starts[n]),
        )
        for n, user in enumerate(users)
    )
    years = [
        # A year back by the calendar: a person's years never overlap.
        (membership, add_years(starts[n], -back))
        for n, membership in enumerate(memberships)
        for back in range(1 + n % 2)
    ]
    payments = Payment.objects.bulk_create(
        Payment(
            membership=membership,
            user_id=membership.user_id,
            grade=membership.grade,
            purpose=Payment.Purpose.RENEW,
            method=Payment.Method.OFFLINE,
            status=Payment.Status.PAID,
            amount_pence=9500,
            paid_at=datetime.datetime.combine(start, datetime.time(10), tzinfo=LONDON),
        )
        for membership, start in years
    )
    MembershipPeriod.objects.bulk_create(
        MembershipPeriod(
            membership=membership,
            payment=payment,
            grade=membership.grade,
            starts_on=start,
            ends_on=period_end(start),
        )
        for (membership, start), payment in zip(years, payments, strict=True)
    )
    membership_figures_rebuild()


def test_member_list_written_by_postgresql_has_the_bytes_of_the_python_rows(client, at_noon):
    """The download (COPY in PostgreSQL) is byte for byte what Python's csv
    writer makes of ``member_export_rows``, on awkward text, missing
    profiles, numbers and boards, and every state of automatic renewal."""
    client.force_login(team_member("Membership team"))
    awkward = [
        ("=1+1", "+44", "-minus"),
        ("@SUM(A1)", "\tTab", "\rReturn"),
        ("Comma, Name", 'Quote "Q"', "Line\nBreak"),
        ("Zoë", "Ó Súilleabháin", "Łódź 東京"),
        ("", " leading space", "trailing space "),
        ("'apostrophe", "\\back\\slash", "semi;colon"),
    ]
    for first, last, text in awkward:
        profile = ProfileFactory(
            user=UserFactory(first_name=first, last_name=last),
            organisation_name=text,
            job_title=last,
            pcn_name="",
            ods_code="",
        )
        paid_year(MembershipFactory(user=profile.user, number=None), "2025-01-20")
    MembershipFactory(user=UserFactory(first_name="No", last_name="Profile"))
    MembershipFactory(
        user=ProfileFactory(care_board=board('=Board, "odd"', region="-Region")).user,
        status=Membership.Status.ACTIVE,
        number="IGPM-000777",
        expires_on=d("2027-01-19"),
    )
    renewals = [
        {"method": "card", "status": "active"},
        {"method": "bacs_debit", "status": "active", "mandate_status": "pending"},
        {"method": "bacs_debit", "status": "setting_up", "mandate_status": ""},
        {
            "method": "card",
            "status": "past_due",
            "last_failure_at": NOW,
            "last_failure_message": 'Declined, "do not honour"\nCall the bank',
        },
        {"method": "card", "status": "past_due", "last_failure_at": NOW},
        {"method": "card", "status": "stopping"},
        {"method": "bacs_debit", "status": "ended", "end_reason": "mandate_revoked"},
        {"method": "card", "status": "ended", "end_reason": ""},
    ]
    for n, fields in enumerate(renewals):
        membership = MembershipFactory(
            status=Membership.Status.ACTIVE,
            number=f"IGPM-{800 + n:06d}",
            expires_on=d("2027-01-19"),
        )
        AutoRenewal.objects.create(
            membership=membership,
            grade=membership.grade,
            next_collection_on=d("2026-07-05"),
            next_amount_pence=12000,
            ended_at=NOW if fields["status"] == "ended" else None,
            **fields,
        )

    response = client.get(reverse("members:staff_member_export"))
    body = b"".join(response.streaming_content)

    expected = "".join(csv_stream(reports.MEMBER_EXPORT_HEADER, reports.member_export_rows()))
    assert body == expected.encode()
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert len(rows) == 1 + Membership.objects.count()
    assert ["'=1+1", "'+44"] in [row[1:3] for row in rows]
    assert "'-Region" in [row[10] for row in rows]


@pytest.mark.parametrize("members", [10, 10_000])
def test_report_queries_are_pinned_and_flat(client, django_assert_num_queries, members):
    bulk_members(members)
    assert Membership.objects.count() == members
    client.force_login(team_member("Membership team"))

    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(reverse("members:staff_reports"))
    assert response.context["members_total"] == members - (members + 6) // 7
    in_good_standing = [n for n in range(members) if n % 7]
    at_practices = len([n for n in in_good_standing if n % 11 and n % 3 == 0])
    assert sum(row.members for row in response.context["regions"]) == len(in_good_standing)
    assert [(icb.name, icb.members) for icb in response.context["practice_icbs"]] == [
        ("North East ICB", at_practices)
    ]
    assert response.context["practice_unlinked"] == len(in_good_standing) - at_practices

    with django_assert_num_queries(AUTH_QUERIES + 1):  # one streamed query
        rows = read_csv(client.get(reverse("members:staff_member_export")))
    assert len(rows) == members + 1

    with django_assert_num_queries(AUTH_QUERIES + 2):  # summary days: paid years, lapses
        rows = read_csv(client.get(reverse("members:staff_report_csv", args=["movement"])))
    assert len(rows) == 13
    assert sum(int(row[1]) + int(row[2]) for row in rows[1:]) > 0


def test_the_page_reuses_its_figures_for_the_cache_time(client, settings):
    settings.REPORTS_CACHE_SECONDS = 600
    bulk_members(7)
    client.force_login(team_member("Membership team"))
    url = reverse("members:staff_reports")

    first = client.get(url)
    assert first.context["members_total"] == 6
    assert "worked out at most 10 minutes ago" in first.content.decode()
    active_member()
    active_member()
    # Within the cache time: the same figures, and no report queries.
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url)
    assert again.context["members_total"] == 6
    assert len(queries) == AUTH_QUERIES
    # Once the figures have gone from the cache they are worked out again.
    cache.clear()
    assert client.get(url).context["members_total"] == 8


def test_review_fixes_erased_refunded_and_late_payments_count_rightly():
    """An erased member's lapse still counts; a renewal refunded in full is
    no renewal; a payment that bought no year is no rejoin."""
    ACTIVE, LAPSED = Membership.Status.ACTIVE, Membership.Status.LAPSED
    # Lapsed 31 March 2026, then the account was erased (membership cancelled).
    erased = member("member", LAPSED, [("2025-03-01", None)])
    Membership.objects.filter(pk=erased.pk).update(status=Membership.Status.CANCELLED)
    User.objects.filter(pk=erased.user_id).update(erased_at=timezone.now())
    # Year ended 28 February 2026; its renewal was refunded in full: lapsed.
    member("member", LAPSED, [("2025-03-01", None), {"starts_on": "2026-03-01", "refunded": True}])
    # A payment in May 2026 that bought no paid year.
    late = member("member", ACTIVE, [("2025-09-01", None)])
    Payment.objects.create(
        membership=late,
        user=late.user,
        grade=late.grade,
        purpose=Payment.Purpose.RENEW,
        method=Payment.Method.STRIPE,
        status=Payment.Status.PAID,
        amount_pence=9500,
        paid_at=datetime.datetime(2026, 5, 4, 10, tzinfo=LONDON),
    )

    rows = {row.month: row for row in reports.movement_rows(today=TODAY)}
    assert rows[d("2026-03-01")].lapsed == 2
    assert rows[d("2026-03-01")].renewed == 0
    assert rows[d("2026-05-01")] == MovementRow(d("2026-05-01"))
    retention = {row.month: row for row in reports.retention_rows(today=TODAY)}
    assert (retention[d("2026-02-01")].ended, retention[d("2026-02-01")].renewed) == (2, 0)
