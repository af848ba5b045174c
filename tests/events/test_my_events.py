"""The event page's one way in, "My events", cancelling with a
confirmation, and the ticket's QR code in the page and the email."""

import base64
import datetime
import io
import re

import pytest
import zxingcpp
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from events.models import Registration
from events.panels import _dashboard_events
from events.services import registration_cancel
from tests.factories import ProfileFactory, active_member, event, member_registration

pytestmark = pytest.mark.django_db
Status = Registration.Status

VISITOR = {
    "name": "Sam Patel",
    "email": "sam@example.org",
    "organisation": "Riverside Surgery",
    "role": "Practice Manager",
}


def page(client, ev) -> str:
    return client.get(ev.get_absolute_url()).content.decode()


# The event page decides first and offers one way in.


def test_a_visitor_on_a_members_only_event_is_offered_sign_in_and_no_form(client):
    html = page(client, event(members_only=True))
    assert "Sign in or join to register" in html
    assert 'name="email"' not in html
    assert '<form method="post" class="form"' not in html


def test_a_visitor_posting_to_a_members_only_event_registers_nothing(client):
    ev = event(members_only=True)
    response = client.post(ev.get_absolute_url(), VISITOR)
    assert response.status_code == 302
    assert response["Location"] == ev.get_absolute_url()
    assert not Registration.objects.exists()


def test_a_member_registers_for_a_members_only_event_in_one_step(
    client, django_capture_on_commit_callbacks
):
    member = active_member()
    ev = event(members_only=True)
    client.force_login(member)
    html = page(client, ev)
    assert 'name="email"' not in html and 'name="name"' not in html
    assert "Sign in or join" not in html
    assert member.email in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ev.get_absolute_url(), {})
    registration = Registration.objects.get()
    assert response["Location"] == registration.get_absolute_url()
    assert registration.user == member
    assert registration.status == Status.CONFIRMED
    assert registration.name == member.get_full_name()
    assert registration.organisation == member.profile.organisation_name
    assert registration.role == member.profile.job_title


def test_a_signed_in_non_member_is_told_before_any_form(client):
    client.force_login(ProfileFactory().user)
    ev = event(members_only=True)
    html = page(client, ev)
    assert "This event is for members in good standing" in html
    assert "Join or renew your membership" in html
    assert 'type="submit" class="button">Register' not in html
    client.post(ev.get_absolute_url(), {})
    assert not Registration.objects.exists()


def test_a_visitor_sees_the_visitor_form_where_visitors_are_welcome(client):
    html = page(client, event())
    assert 'name="email"' in html
    assert "Sign in or join to register" not in html


def test_a_registered_member_sees_their_place_instead_of_a_form(client):
    member = active_member()
    ev = event()
    registration = member_registration(ev, member)
    client.force_login(member)
    html = page(client, ev)
    assert "You are booked" in html
    assert registration.checkin_code in html
    assert reverse("events:cancel", args=[registration.manage_token]) in html
    assert registration.get_absolute_url() in html
    assert 'name="access_requirements"' not in html


def test_a_cancelled_registration_gives_the_form_back(client):
    member = active_member()
    ev = event()
    registration_cancel(registration=member_registration(ev, member))
    client.force_login(member)
    html = page(client, ev)
    assert "You are booked" not in html
    assert 'name="access_requirements"' in html


# Online events do not ask about food.


def test_an_online_event_does_not_ask_for_dietary_needs(client):
    ev = event(is_online=True)
    assert 'name="dietary_requirements"' not in page(client, ev)
    client.post(ev.get_absolute_url(), {**VISITOR, "dietary_requirements": "Halal"})
    assert Registration.objects.get().dietary_requirements == ""


def test_an_event_in_person_asks_for_dietary_needs(client):
    ev = event(is_online=False, joining_link="", venue="Town Hall")
    assert 'name="dietary_requirements"' in page(client, ev)
    client.post(ev.get_absolute_url(), {**VISITOR, "dietary_requirements": "Halal"})
    assert Registration.objects.get().dietary_requirements == "Halal"


def test_a_member_at_an_online_event_is_not_asked_either(client):
    member = active_member()
    client.force_login(member)
    ev = event(is_online=True)
    html = page(client, ev)
    assert 'name="dietary_requirements"' not in html
    assert 'name="access_requirements"' in html


# My events.


def past_event(**fields):
    """An event that has happened, registered for while it was open."""
    now = timezone.now()
    return event(registration_closes_at=now + datetime.timedelta(hours=1), **fields)


def registrations_for(member, count: int) -> None:
    now = timezone.now()
    for n in range(count):
        starts = now + datetime.timedelta(days=n - count // 2)
        member_registration(past_event(title=f"Event {n}", starts_at=starts), member)


def test_my_events_needs_signing_in(client):
    response = client.get(reverse("events:my_events"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_my_events_splits_upcoming_and_past_with_their_links(client):
    member = active_member()
    now = timezone.now()
    soon = member_registration(event(title="Rotas that work"), member)
    gone = member_registration(
        past_event(title="Last year's conference", starts_at=now - datetime.timedelta(days=30)),
        member,
    )
    dropped = member_registration(event(title="Appraisals"), member)
    registration_cancel(registration=dropped)
    member_registration(event(title="Someone else's"), active_member())
    client.force_login(member)
    response = client.get(reverse("events:my_events"))
    upcoming = response.context["upcoming"]
    assert [r.event.title for r in upcoming] == ["Rotas that work", "Appraisals"]
    assert [r.event.title for r in response.context["past"]] == ["Last year's conference"]
    html = response.content.decode()
    assert "Someone else&#x27;s" not in html
    assert soon.get_absolute_url() in html
    assert reverse("events:cancel", args=[soon.manage_token]) in html
    assert reverse("events:ics", args=[soon.event.slug]) in html
    # A past event cannot be cancelled, nor a cancelled one again.
    assert reverse("events:cancel", args=[gone.manage_token]) not in html
    assert reverse("events:cancel", args=[dropped.manage_token]) not in html
    assert "Cancelled" in html


@pytest.mark.parametrize("count", [1, 20])
def test_my_events_query_count_is_pinned_and_flat(client, django_assert_num_queries, count):
    member = active_member()
    registrations_for(member, count)
    client.force_login(member)
    # the session with the user, the registrations with their events
    with django_assert_num_queries(2):
        response = client.get(reverse("events:my_events"))
    assert len(response.context["upcoming"]) + len(response.context["past"]) == count


@pytest.mark.parametrize("count", [1, 20])
def test_the_dashboard_lists_a_few_upcoming_events(client, count):
    member = active_member()
    registrations_for(member, count)
    client.force_login(member)
    response = client.get(reverse("members:dashboard"))
    html = response.content.decode()
    assert "Your events" in html
    assert reverse("events:my_events") in html
    shown = html.count('class="my-event"')
    assert shown == min(count - count // 2, 3)


def test_the_dashboard_panel_costs_one_query_however_many_registrations():
    member = active_member()
    registrations_for(member, 20)
    with CaptureQueriesContext(connection) as queries:
        panel = _dashboard_events(member=member, membership=None)
    assert len(queries) == 1
    assert len(panel["upcoming"]) == 3
    assert panel["past_count"] == 10


# Cancelling asks first.


def test_cancelling_asks_for_confirmation_first(client, django_capture_on_commit_callbacks):
    ev = event(title="Rotas that work")
    registration = member_registration(ev, active_member())
    url = reverse("events:cancel", args=[registration.manage_token])
    response = client.get(url)
    assert response.status_code == 200
    assert "Yes, cancel my place" in response.content.decode()
    registration.refresh_from_db()
    assert registration.status == Status.CONFIRMED

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response["Location"] == registration.get_absolute_url()
    registration.refresh_from_db()
    assert registration.status == Status.CANCELLED
    (message,) = [m for m in mail.outbox if "cancelled" in m.subject.lower()]
    assert f"{settings.SITE_URL}{ev.get_absolute_url()}" in message.body
    # Nothing left to confirm.
    assert client.get(url)["Location"] == registration.get_absolute_url()


# The ticket.


def decode_png(data: bytes) -> list[str]:
    image = Image.open(io.BytesIO(data))
    if image.width < 200:
        # The page's code is one pixel per module, drawn large by the
        # stylesheet: enlarge it the same way before reading it.
        image = image.resize((image.width * 8, image.height * 8), Image.Resampling.NEAREST)
    return [result.text for result in zxingcpp.read_barcodes(image)]


def test_the_confirmation_email_carries_the_ticket_qr_code(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        registration = member_registration(event(), active_member())
    (message,) = [m for m in mail.outbox if "is confirmed" in m.subject]
    (png,) = [a for a in message.attachments if a[0] == "ticket-qr-code.png"]
    assert png[2] == "image/png"
    assert decode_png(png[1]) == [registration.checkin_code]
    assert "ticket-qr-code.png" in message.body


def test_the_registration_page_shows_the_ticket_only_with_a_confirmed_place(client):
    ev = event(capacity=1)
    confirmed = member_registration(ev, active_member())
    waiting = member_registration(ev, active_member())
    html = client.get(confirmed.get_absolute_url()).content.decode()
    (uri,) = re.findall(r'class="ticket__qr" src="data:image/png;base64,([^"]+)"', html)
    assert decode_png(base64.b64decode(uri)) == [confirmed.checkin_code]
    assert f"QR code of your check-in code, {confirmed.checkin_code}" in html
    assert "css/print.css" in html
    html = client.get(waiting.get_absolute_url()).content.decode()
    assert "ticket__qr" not in html
    assert waiting.checkin_code not in html
