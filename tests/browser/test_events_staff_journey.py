"""The events team in Debian's Chromium: attendee list, check-in, CSV, and
what a checked-in member gets afterwards (CPD hours, a certificate).

axe runs on every staff events page, the error state included.
"""

import csv
import io
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from events.models import Registration
from events.services import registration_create
from tests.browser.conftest import assert_accessible
from tests.browser.test_account_pages import sign_in
from tests.factories import active_member, event, team_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV_HEADER = [
    "name",
    "email",
    "organisation",
    "role",
    "status",
    "checked_in_at",
    "access_requirements",
    "dietary_requirements",
    "registered_at",
]


def heading(page):
    return page.get_by_role("heading", level=1)


def events_staff():
    """Staff with two-factor in the Events team."""
    return team_member("Events team")


def register_member(ev, name: str, organisation: str) -> Registration:
    user = active_member()
    first, last = name.split(" ", 1)
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])
    return registration_create(
        event=ev,
        user=user,
        name=name,
        email=user.email,
        organisation=organisation,
        role="Practice Manager",
    )


def event_with_registrations():
    """Three members with confirmed places and a visitor who has not yet
    confirmed their email address."""
    ev = event(title="Managing winter pressures", cpd_hours=1.5)
    grace = register_member(ev, "Grace Adeyemi", "Riverside Surgery")
    tom = register_member(ev, "Tom Reilly", "Hillview Medical Centre")
    register_member(ev, "Priya Shah", "Northgate Practice")
    visitor = registration_create(
        event=ev,
        name="Sam Visitor",
        email="sam.visitor@example.org",
        organisation="Parkside PCN",
        role="Operations Manager",
    )
    assert visitor.status == Registration.Status.UNCONFIRMED
    return ev, grace, tom


def count(page, label: str):
    return (
        page.locator("dl.stats > div").filter(has=page.locator("dt", has_text=label)).locator("dd")
    )


def checked_in_time(registration: Registration) -> str:
    registration.refresh_from_db()
    return timezone.localtime(registration.checked_in_at).strftime("%H:%M")


@pytest.fixture
def member_page(page, live_server):
    """A page in a fresh browser context: another person, other cookies."""
    context = page.context.browser.new_context(
        base_url=live_server.url, viewport={"width": 1024, "height": 800}
    )
    other = context.new_page()
    other.set_default_timeout(15_000)
    yield other
    context.close()


def test_events_team_checks_in_and_member_gets_cpd_and_certificate(page, member_page, live_server):
    ev, grace, tom = event_with_registrations()
    sign_in(page, events_staff(), live_server)

    page.goto("/staff/")
    page.get_by_role("link", name="Events: attendees and check-in").click()
    expect(heading(page)).to_have_text("Events: attendees and check-in")
    row = page.get_by_role("row").filter(has_text=ev.title)
    expect(row.get_by_role("cell").nth(2)).to_have_text(f"3 of {ev.capacity}")
    assert_accessible(page)

    row.get_by_role("link", name=ev.title).click()
    expect(heading(page)).to_have_text(ev.title)
    expect(count(page, "Confirmed")).to_have_text("3")
    expect(count(page, "Waiting")).to_have_text("0")
    expect(count(page, "Cancelled")).to_have_text("0")
    expect(count(page, "Attended")).to_have_text("0")
    attendees = page.locator(".attendee")
    expect(attendees).to_have_count(4)
    # The visitor has no place yet, so nothing to check in.
    visitor = attendees.filter(has_text="Sam Visitor")
    expect(visitor).to_contain_text("Email not yet confirmed")
    expect(visitor.get_by_role("button")).to_have_count(0)

    # Find Grace by name and check her in from the list.
    page.get_by_label("Find by name, email or organisation").fill("adeyemi")
    page.get_by_role("button", name="Search").click()
    expect(attendees).to_have_count(1)
    expect(attendees).to_contain_text("Grace Adeyemi")
    assert_accessible(page)
    page.get_by_role("button", name="Check in Grace Adeyemi").click()
    expect(page.get_by_role("status")).to_have_text("Grace Adeyemi is checked in.")
    # The search is kept after checking in.
    expect(page.get_by_label("Find by name, email or organisation")).to_have_value("adeyemi")
    expect(attendees.filter(has_text="Grace Adeyemi")).to_contain_text(
        f"Checked in {checked_in_time(grace)}"
    )
    expect(count(page, "Attended")).to_have_text("1")

    # Tom reads out his check-in code at the door, in lower case.
    page.get_by_label("Check-in code", exact=True).fill(tom.checkin_code.lower())
    page.get_by_role("button", name="Check in", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Tom Reilly is checked in.")
    expect(attendees.filter(has_text="Tom Reilly")).to_contain_text(
        f"Checked in {checked_in_time(tom)}"
    )
    expect(count(page, "Attended")).to_have_text("2")

    # A mistyped code is refused and nobody else is checked in.
    page.get_by_label("Check-in code", exact=True).fill("not-a-check-in-code")
    page.get_by_role("button", name="Check in", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(
        "No registration for this event has that check-in code."
    )
    expect(count(page, "Attended")).to_have_text("2")
    assert_accessible(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download all registrations (CSV)").click()
    assert download.value.suggested_filename == f"{ev.slug}-attendees.csv"
    with open(download.value.path(), encoding="utf-8") as f:
        rows = list(csv.reader(io.StringIO(f.read())))
    assert rows[0] == CSV_HEADER
    assert len(rows) == 1 + ev.registrations.count() == 5
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["Grace Adeyemi"][4] == "Confirmed"
    assert by_name["Grace Adeyemi"][5]
    assert by_name["Priya Shah"][5] == ""
    assert by_name["Sam Visitor"][4] == "Email not yet confirmed"

    # Grace's CPD log has the event and its hours.
    sign_in(member_page, grace.user, live_server)
    member_page.goto("/accreditation/cpd/")
    expect(heading(member_page)).to_have_text("Your CPD log")
    entry = member_page.get_by_role("row").filter(has_text=ev.title)
    expect(entry).to_have_count(1)
    expect(entry.get_by_role("cell").nth(3)).to_have_text("1.5")
    expect(member_page.locator(".lead")).to_contain_text("1.5 hours")

    # Her registration page offers the certificate of attendance.
    member_page.goto(f"/registrations/{grace.manage_token}/")
    expect(heading(member_page)).to_have_text("Your registration")
    assert_accessible(member_page)
    with member_page.expect_download() as download:
        member_page.get_by_role(
            "link", name="Download your certificate of attendance (PDF)"
        ).click()
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"


def test_check_in_works_on_a_320px_phone(phone_page, live_server):
    ev, grace, _ = event_with_registrations()
    sign_in(phone_page, events_staff(), live_server)

    path = f"/staff/events/{ev.pk}/"
    phone_page.goto(path)
    expect(heading(phone_page)).to_have_text(ev.title)
    overflow = phone_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a 320px screen"
    buttons = phone_page.get_by_role("button", name=re.compile(r"^Check in "))
    expect(buttons).to_have_count(3)
    for i in range(3):
        button = buttons.nth(i)
        expect(button).to_be_visible()
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320, box
    assert_accessible(phone_page)

    phone_page.get_by_role("button", name="Check in Grace Adeyemi").click()
    expect(phone_page.get_by_role("status")).to_have_text("Grace Adeyemi is checked in.")
    expect(phone_page.locator(".attendee").filter(has_text="Grace Adeyemi")).to_contain_text(
        f"Checked in {checked_in_time(grace)}"
    )
