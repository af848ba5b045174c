"""Staff reports in Debian's Chromium: from the staff area to the charts,
their tables and the CSVs, on a laptop and on a 320 px phone.

axe runs on the page with every table closed and again with all open.
"""

import csv
import re

import pytest
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import expect

from events.models import Registration
from members.models import NHSOrganisation, Profile
from tests.browser.conftest import assert_accessible
from tests.browser.test_account_pages import sign_in
from tests.factories import StaffFactory, active_member, event, member_registration

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def membership_team_member():
    """Staff with two-factor in the Membership team (the transactional flush
    may have removed the seeded group and its permissions: made again)."""
    user = StaffFactory(mfa=True)
    group, _ = Group.objects.get_or_create(name="Membership team")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="members", codename__in=["view_reports", "find_members"]
        )
    )
    user.groups.add(group)
    return user


@pytest.fixture
def figures():
    """Three paid-up members, two at a practice in the NHS data, and a
    webinar two of them booked."""
    members = [active_member() for _ in range(3)]
    icb = NHSOrganisation.objects.create(code="QHM", kind="icb", name="North East ICB")
    pcn = NHSOrganisation.objects.create(code="U11111", kind="pcn", name="Stockton PCN")
    practice = NHSOrganisation.objects.create(
        code="A81001", kind="practice", name="The Densham Surgery", icb=icb, pcn=pcn
    )
    Profile.objects.filter(user__in=members[:2]).update(ods_code="A81001", practice=practice)
    webinar = event(title="Managing winter pressures", capacity=4)
    for user in members[:2]:
        member_registration(webinar, user)
    assert webinar.registrations.filter(status=Registration.Status.CONFIRMED).count() == 2
    return members


def test_staff_open_the_reports_read_a_chart_and_its_table_and_download_csvs(
    page, live_server, figures
):
    sign_in(page, membership_team_member(), live_server)
    page.goto("/staff/")
    page.get_by_role("link", name="Reports: membership, accreditation and events").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    assert_accessible(page)

    grades = page.locator("#grades")
    chart = grades.get_by_role("img", name=re.compile(r"^Members in good standing by grade"))
    expect(chart).to_be_visible()
    expect(grades).to_contain_text("3 members in good standing")
    table = grades.get_by_role("table")
    expect(table).to_be_hidden()
    grades.get_by_text("Members by grade as a table").click()
    expect(table).to_be_visible()
    member_row = table.get_by_role("row", name=re.compile(r"^Member "))
    expect(member_row.get_by_role("cell")).to_have_text(["3", "0", "3"])

    events = page.locator("#events")
    expect(
        events.get_by_role("img", name=re.compile(r"^Fill and attendance rates by type"))
    ).to_be_visible()
    expect(
        events.get_by_role("row", name=re.compile("Managing winter pressures"))
    ).to_contain_text("50.0%")

    # Every table open: axe checks them all.
    for summary in page.locator("details > summary").all():
        summary.click()
    assert_accessible(page)

    with page.expect_download() as download:
        grades.get_by_role("link", name="Download members by grade (CSV)").click()
    assert re.fullmatch(r"igpm-grades-\d{4}-\d{2}-\d{2}\.csv", download.value.suggested_filename)
    with open(download.value.path(), encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["grade", "active", "in grace", "members"]
    assert ["Member", "3", "0", "3"] in rows

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the member list (CSV)").click()
    with open(download.value.path(), encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert sorted(row[3] for row in rows[1:]) == sorted(user.email for user in figures)

    # The ICBs here; every PCN on the section's own page.
    pcns = page.locator("#pcns")
    expect(pcns.get_by_role("row", name=re.compile("North East ICB"))).to_contain_text("2")
    expect(pcns).not_to_contain_text("Stockton PCN")
    pcns.get_by_role("link", name="this section's own page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Members by ICB and PCN")
    expect(page.get_by_role("row", name=re.compile("Stockton PCN"))).to_contain_text("2")
    assert_accessible(page)


def test_reports_fit_a_320px_phone(phone_page, live_server, figures):
    sign_in(phone_page, membership_team_member(), live_server)
    phone_page.goto("/staff/reports/")
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Reports")
    for summary in phone_page.locator("details > summary").all():
        summary.click()
    overflow = phone_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the reports scroll sideways by {overflow}px on a 320px screen"
    for chart in phone_page.get_by_role("img").all():
        box = chart.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320, box
    assert_accessible(phone_page)
