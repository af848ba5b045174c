"""A members-only event as a visitor, a non-member and a member; My events
on the dashboard and its own page, cancelling with a confirmation; the
ticket's QR code read from the screen and scanned in at the desk. At a
1280 px desktop and a 320 px phone, with axe on every state (and, as in
every browser test, no Content-Security-Policy violation)."""

import datetime
import io
import re

import pytest
import zxingcpp
from django.conf import settings
from django.core import mail
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from events.models import Registration
from tests.browser.conftest import assert_accessible, assert_no_sideways_scroll
from tests.browser.test_account_pages import sign_in
from tests.factories import ProfileFactory, active_member, event, member_registration, team_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 320, "height": 640}, "is_mobile": True, "has_touch": True},
}


class Screen:
    """Opens pages of one size, each in its own browser context (another
    person, other cookies). The browser fixture watches every context for
    CSP violations."""

    def __init__(self, browser, live_server, size: str):
        self.browser, self.live_server, self.size = browser, live_server, size
        self.contexts = []

    def new_page(self):
        context = self.browser.new_context(base_url=self.live_server.url, **SCREENS[self.size])
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture(params=sorted(SCREENS))
def screen(request, browser, live_server):
    screen = Screen(browser, live_server, request.param)
    yield screen
    screen.close()


def heading(page):
    return page.get_by_role("heading", level=1)


def check(page) -> None:
    assert_no_sideways_scroll(page)
    assert_accessible(page)


def qr_on(page) -> str:
    """What a scanner reads from the ticket's QR code on the screen."""
    image = page.locator(".ticket__qr").screenshot()
    (result,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(image)))
    return result.text


def in_person(**fields):
    return event(is_online=False, joining_link="", venue="Town Hall, Leeds", **fields)


def test_a_members_only_event_offers_each_person_one_way_in(screen, live_server):
    ev = in_person(title="Members' forum: the 2026 contract", members_only=True)

    visitor = screen.new_page()
    visitor.goto(ev.get_absolute_url())
    way_in = visitor.get_by_role("region", name="Sign in or join to register")
    expect(way_in).to_contain_text("This event is for IGPM members.")
    expect(way_in.get_by_role("link", name="Sign in to register")).to_have_attribute(
        "href", re.compile(r"next=")
    )
    expect(way_in.get_by_role("link", name="Join the IGPM")).to_be_visible()
    expect(visitor.get_by_role("textbox")).to_have_count(0)
    expect(visitor.get_by_role("button", name="Register")).to_have_count(0)
    check(visitor)

    not_member = screen.new_page()
    sign_in(not_member, ProfileFactory().user, live_server)
    not_member.goto(ev.get_absolute_url())
    told = not_member.get_by_role("region", name="For IGPM members")
    expect(told.get_by_role("link", name="Join or renew your membership")).to_be_visible()
    expect(not_member.get_by_role("textbox")).to_have_count(0)
    check(not_member)

    member = active_member()
    page = screen.new_page()
    sign_in(page, member, live_server)
    page.goto(ev.get_absolute_url())
    register = page.get_by_role("region", name="Register")
    expect(register).to_contain_text(f"You are registering as {member.get_full_name()}")
    expect(page.get_by_label("Full name")).to_have_count(0)
    # In person: the venue asks about food.
    expect(page.get_by_label("Dietary requirements (optional)")).to_be_visible()
    check(page)
    page.get_by_label("Dietary requirements (optional)").fill("Vegetarian")
    page.get_by_role("button", name="Register").click()

    registration = Registration.objects.get(event=ev)
    assert registration.dietary_requirements == "Vegetarian"
    expect(heading(page)).to_have_text("Your registration")
    ticket = page.get_by_role("region", name="You are booked")
    expect(ticket).to_contain_text(registration.checkin_code)
    qr = ticket.get_by_role("img", name=re.compile("QR code of your check-in code"))
    expect(qr).to_be_visible()
    assert qr_on(page) == registration.checkin_code
    check(page)

    # Printed, the ticket is what is left: no header, navigation or buttons.
    page.emulate_media(media="print")
    expect(page.locator(".ticket")).to_be_visible()
    expect(page.locator(".ticket__qr")).to_be_visible()
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".site-footer")).to_be_hidden()
    expect(page.get_by_role("link", name="Cancel my registration")).to_be_hidden()
    page.emulate_media(media="screen")

    # Back on the event page: their place, not a form.
    page.goto(ev.get_absolute_url())
    booked = page.get_by_role("region", name="You are booked")
    expect(booked).to_contain_text(registration.checkin_code)
    expect(booked.get_by_role("link", name="Show your ticket")).to_be_visible()
    expect(booked.get_by_role("link", name="Cancel your place")).to_be_visible()
    expect(page.get_by_role("link", name="Add to your calendar (.ics)")).to_be_visible()
    expect(page.get_by_role("textbox")).to_have_count(0)
    check(page)


def test_my_events_lists_registrations_and_cancelling_asks_first(screen, live_server):
    member = active_member()
    now = timezone.now()
    soon = member_registration(event(title="Rotas that work"), member)
    member_registration(
        event(
            title="Last winter's webinar",
            starts_at=now - datetime.timedelta(days=60),
            registration_closes_at=now + datetime.timedelta(hours=1),
        ),
        member,
    )

    page = screen.new_page()
    sign_in(page, member, live_server)
    page.goto("/dashboard/")
    panel = page.get_by_role("region", name="Your events")
    expect(panel.get_by_role("link", name="Rotas that work", exact=True)).to_be_visible()
    expect(panel).not_to_contain_text("Last winter's webinar")
    check(page)
    panel.get_by_role("link", name="My events, including 1 past").click()

    expect(heading(page)).to_have_text("My events")
    upcoming = page.get_by_role("region", name="Coming up")
    past = page.get_by_role("region", name="Past events")
    expect(upcoming).to_contain_text("Rotas that work")
    expect(upcoming).to_contain_text("Confirmed")
    expect(upcoming.get_by_role("link", name="Ticket for Rotas that work")).to_be_visible()
    calendar = upcoming.get_by_role("link", name="Add to calendar for Rotas that work")
    expect(calendar).to_be_visible()
    expect(past).to_contain_text("Last winter's webinar")
    expect(past.get_by_role("link", name=re.compile("^Cancel"))).to_have_count(0)
    check(page)

    upcoming.get_by_role("link", name="Cancel Rotas that work").click()
    expect(heading(page)).to_have_text("Cancel your place?")
    check(page)
    # Changing one's mind leaves the place.
    page.get_by_role("link", name="No, keep it").click()
    expect(heading(page)).to_have_text("Your registration")
    soon.refresh_from_db()
    assert soon.status == Registration.Status.CONFIRMED

    page.get_by_role("link", name="Cancel my registration").click()
    page.get_by_role("button", name="Yes, cancel my place").click()
    expect(page.get_by_role("status")).to_contain_text("Your registration is cancelled.")
    expect(page.locator("dt:has-text('Status') + dd")).to_have_text("Cancelled")
    check(page)

    page.goto("/my-events/")
    expect(page.get_by_role("region", name="Coming up")).to_contain_text("Cancelled")
    check(page)

    (cancelled,) = [
        m for m in mail.outbox if member.email in m.to and "cancelled" in m.subject.lower()
    ]
    assert f"{settings.SITE_URL}{soon.event.get_absolute_url()}" in cancelled.body


def test_the_ticket_is_scanned_in_at_the_desk(screen, live_server):
    ev = event(title="Appraisals that work")
    member = active_member()
    registration = member_registration(ev, member)

    attendee = screen.new_page()
    attendee.goto(registration.get_absolute_url())
    scanned = qr_on(attendee)
    assert scanned == registration.checkin_code

    desk = screen.new_page()
    sign_in(desk, team_member("Events team"), live_server)
    desk.goto(f"/staff/events/{ev.pk}/")
    expect(desk.get_by_role("textbox", name="Check-in code")).to_be_focused()
    check(desk)
    # A desk scanner types what it reads, then Enter; a sloppy one may add
    # a space or send lower case.
    desk.keyboard.type(f" {scanned[:4].lower()} {scanned[4:]}")
    desk.keyboard.press("Enter")
    expect(desk.get_by_role("status")).to_have_text(f"{registration.name} is checked in.")
    expect(desk.get_by_role("textbox", name="Check-in code")).to_be_focused()
    check(desk)
    registration.refresh_from_db()
    assert registration.checked_in_at is not None
