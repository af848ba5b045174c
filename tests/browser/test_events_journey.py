"""Finding, registering for and managing a place at an event in Debian's
Chromium, with axe on every distinct page state."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from events.models import Event, Registration
from tests.browser.conftest import assert_accessible
from tests.browser.test_account_pages import sign_in
from tests.factories import active_member, event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JOINING_LINK = "https://meet.example.org/igpm-winter"


def heading(page):
    return page.get_by_role("heading", level=1)


def status(page):
    return page.locator("dt:has-text('Status') + dd")


def emails_to(address: str, subject: str) -> list:
    return [m for m in mail.outbox if address in m.to and subject in m.subject]


def attachment_names(message) -> list[str]:
    return [a.filename if hasattr(a, "filename") else a[0] for a in message.attachments]


def test_visitor_registers_and_confirms_their_email(page):
    ev = event(title="Managing winter pressures")

    page.goto("/events/")
    expect(heading(page)).to_have_text("Events")
    expect(page.locator(".event-list")).to_have_css("list-style-type", "none")
    assert_accessible(page)
    page.get_by_role("link", name="Managing winter pressures").click()
    expect(heading(page)).to_have_text("Managing winter pressures")
    expect(page.get_by_text("50 of 50 left")).to_be_visible()
    assert_accessible(page)

    # First try: no name, an address that is not one.
    page.get_by_label("Email address").fill("sam.example.org")
    page.get_by_label("Organisation").fill("Riverside Surgery")
    page.get_by_label("Role").fill("Practice Manager")
    page.get_by_label("Access requirements (optional)").fill("Captions, please.")
    page.get_by_role("button", name="Register").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter your full name.")
    expect(summary).to_contain_text("Enter an email address like name@example.org.")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.get_by_label("Full name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_name_error")).to_have_text("Error: Enter your full name.")
    expect(page.get_by_label("Email address")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_email_error")).to_have_text(
        "Error: Enter an email address like name@example.org."
    )
    expect(page.get_by_label("Email address")).to_have_value("sam.example.org")
    expect(page.get_by_label("Organisation")).to_have_value("Riverside Surgery")
    expect(page.get_by_label("Role")).to_have_value("Practice Manager")
    expect(page.get_by_label("Access requirements (optional)")).to_have_value("Captions, please.")
    assert_accessible(page)
    assert not Registration.objects.exists()

    page.get_by_label("Full name").fill("Sam Patel")
    page.get_by_label("Email address").fill("sam@example.org")
    page.get_by_role("button", name="Register").click()

    # The page after registering names no registration: only the emailed
    # link confirms the address.
    expect(heading(page)).to_have_text("Check your email")
    expect(page.get_by_text("No place is held for you until you follow the link.")).to_be_visible()
    registration = Registration.objects.get(event=ev)
    assert registration.status == Registration.Status.UNCONFIRMED
    for secret in (registration.manage_token, registration.checkin_code):
        assert secret not in page.url
        assert secret not in page.content()
    assert JOINING_LINK not in page.content()
    assert_accessible(page)

    assert registration.access_requirements == "Captions, please."
    (confirm_email,) = emails_to("sam@example.org", "Confirm your place")
    assert JOINING_LINK not in confirm_email.body
    confirm_path = re.search(r"/registrations/confirm/[\w-]+/", confirm_email.body).group(0)
    assert registration.manage_token not in confirm_path

    page.goto(confirm_path)
    expect(heading(page)).to_have_text("Confirm your email address")
    expect(page.get_by_text("sam@example.org")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Confirm and complete my registration").click()

    expect(heading(page)).to_have_text("Your registration")
    expect(status(page)).to_have_text("Confirmed")
    expect(page.locator("dt:has-text('Check-in code') + dd")).to_have_text(
        registration.checkin_code
    )
    expect(page.get_by_role("link", name=JOINING_LINK)).to_be_visible()
    # The confirmed visitor has a ticket to show at the door.
    ticket = page.get_by_role("region", name="You are booked")
    qr_name = f"QR code of your check-in code, {registration.checkin_code}"
    expect(ticket.get_by_role("img", name=qr_name)).to_be_visible()
    assert_accessible(page)

    # The link worked once.
    page.goto(confirm_path)
    expect(heading(page)).to_have_text("This confirmation link does not work")
    assert_accessible(page)

    (confirmed,) = emails_to("sam@example.org", "is confirmed")
    assert "event.ics" in attachment_names(confirmed)
    assert "ticket-qr-code.png" in attachment_names(confirmed)
    assert JOINING_LINK in confirmed.body


def test_members_share_the_last_place_through_the_waiting_list(page, browser, live_server):
    ev = event(title="Appraisals that work", capacity=1)
    first = active_member()
    second = active_member()

    sign_in(page, first, live_server)
    page.goto(ev.get_absolute_url())
    expect(page.get_by_text("1 of 1 left")).to_be_visible()
    # Who they are comes from the profile: one click registers.
    register = page.get_by_role("region", name="Register")
    expect(register).to_contain_text(f"You are registering as {first.get_full_name()}")
    expect(register).to_contain_text(first.email)
    expect(page.get_by_label("Full name")).to_have_count(0)
    expect(page.get_by_label("Email address")).to_have_count(0)
    # An online event asks nothing about food.
    expect(page.get_by_label("Dietary requirements (optional)")).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("button", name="Register").click()
    expect(heading(page)).to_have_text("Your registration")
    expect(status(page)).to_have_text("Confirmed")
    expect(page.get_by_role("link", name=JOINING_LINK)).to_be_visible()
    assert_accessible(page)
    first_page_url = page.url

    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1024, "height": 800}
    )
    try:
        other = context.new_page()
        other.set_default_timeout(15_000)
        sign_in(other, second, live_server)
        other.goto(ev.get_absolute_url())
        expect(other.get_by_text("Full: you can join the waiting list")).to_be_visible()
        assert_accessible(other)
        other.get_by_role("button", name="Join the waiting list").click()
        expect(heading(other)).to_have_text("Your registration")
        expect(status(other)).to_have_text("On the waiting list")
        expect(other.get_by_text("The event is full.")).to_be_visible()
        assert JOINING_LINK not in other.content()
        assert_accessible(other)
        assert emails_to(second.email, "waiting list")

        page.goto(first_page_url)
        page.get_by_role("link", name="Cancel my registration").click()
        expect(heading(page)).to_have_text("Cancel your place?")
        assert_accessible(page)
        page.get_by_role("button", name="Yes, cancel my place").click()
        expect(page.get_by_role("status")).to_contain_text("Your registration is cancelled.")
        expect(status(page)).to_have_text("Cancelled")
        assert JOINING_LINK not in page.content()
        assert_accessible(page)

        other.reload()
        expect(status(other)).to_have_text("Offered a place")
        expect(other.get_by_text("A place is yours if you accept it by")).to_be_visible()
        assert JOINING_LINK not in other.content()
        assert_accessible(other)
        assert emails_to(second.email, "A place has come free")

        other.get_by_role("button", name="Accept the place").click()
        expect(other.get_by_role("status")).to_contain_text("The place is yours.")
        expect(status(other)).to_have_text("Confirmed")
        expect(other.get_by_role("link", name=JOINING_LINK)).to_be_visible()
        assert_accessible(other)
    finally:
        context.close()

    statuses = dict(Registration.objects.filter(event=ev).values_list("user", "status"))
    assert statuses == {
        first.pk: Registration.Status.CANCELLED,
        second.pk: Registration.Status.CONFIRMED,
    }


def test_national_practice_manager_day_lists_local_celebrations(page):
    day = event(
        title="National Practice Manager Day",
        type=Event.Type.NPM_DAY,
        is_online=False,
        joining_link="",
        venue="Practices across the UK",
    )
    for title, region, host in [
        ("Tea and cake in Camden", Event.Region.LONDON, "Camden Federation"),
        ("Salford celebration lunch", Event.Region.NORTH_WEST, "Salford Care Group"),
    ]:
        event(
            title=title,
            type=Event.Type.NPM_DAY,
            umbrella=day,
            is_online=False,
            joining_link="",
            venue="The practice meeting room",
            region=region,
            host_type=Event.HostType.FEDERATION,
            host_name=host,
        )

    page.goto(day.get_absolute_url())
    expect(heading(page)).to_have_text("National Practice Manager Day")
    local = page.get_by_role("region", name="Celebrations near you")
    expect(local.get_by_role("listitem")).to_have_count(2)
    expect(local.get_by_role("link", name="Tea and cake in Camden")).to_be_visible()
    expect(local.get_by_role("link", name="Salford celebration lunch")).to_be_visible()
    assert_accessible(page)

    local.get_by_label("Region").select_option(label="North West")
    local.get_by_role("button", name="Show").click()
    local = page.get_by_role("region", name="Celebrations near you")
    expect(local.get_by_role("listitem")).to_have_count(1)
    expect(local.get_by_role("listitem")).to_contain_text(
        "Salford celebration lunch: Salford Care Group, North West"
    )
    expect(local.get_by_label("Region")).to_have_value("north_west")
    assert_accessible(page)

    local.get_by_role("link", name="Salford celebration lunch").click()
    expect(heading(page)).to_have_text("Salford celebration lunch")
    expect(page.get_by_role("link", name="National Practice Manager Day")).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize("where", ["list", "detail"])
def test_event_pages_fit_a_320px_phone(phone_page, where):
    ev = event(
        title="Understanding the GP contract changes for 2025 to 2026",
        summary="A long summary that wraps: contracts, enhanced access, "
        "additional roles reimbursement and everything in between.",
    )
    path = "/events/" if where == "list" else ev.get_absolute_url()
    phone_page.goto(path)
    expect(heading(phone_page)).to_be_visible()
    overflow = phone_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a 320px screen"
    assert_accessible(phone_page)
