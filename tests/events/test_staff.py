"""The events team on the day: attendee list, check-in, CSV."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accreditation.models import CpdEntry
from events.models import Registration
from events.services import registration_create
from tests.factories import StaffFactory, active_member, event, member_registration

pytestmark = pytest.mark.django_db


@pytest.fixture
def events_team(client):
    staff = StaffFactory(mfa=True)
    staff.groups.add(Group.objects.get(name="Events team"))
    client.force_login(staff)
    return staff


def register(ev, user=None, n=0) -> Registration:
    if user is not None:
        return member_registration(ev, user)
    return registration_create(
        event=ev,
        name=f"Visitor {n}",
        email=f"visitor{n}@example.org",
        organisation="Hillside Practice",
        role="Deputy manager",
    )


def test_check_in_by_code_gives_a_member_cpd_once(client, events_team):
    ev = event(cpd_hours=2)
    member = active_member()
    registration = register(ev, member)
    url = reverse("events:staff_check_in", args=[ev.pk])
    response = client.post(url, {"code": registration.checkin_code})
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.checked_in_at is not None
    entry = CpdEntry.objects.get(user=member)
    assert (entry.hours, entry.source, entry.activity) == (2, "event", ev.title)

    client.post(url, {"code": registration.checkin_code})
    assert CpdEntry.objects.filter(user=member).count() == 1

    page = client.get(reverse("events:staff_attendees", args=[ev.pk])).content.decode()
    assert "was already checked in" in page
    assert "Checked in" in page


def test_only_confirmed_places_check_in(client, events_team):
    ev = event(capacity=1)
    register(ev, active_member())
    waiting = register(ev, active_member())
    unconfirmed = register(ev, n=1)
    for registration in (waiting, unconfirmed):
        client.post(
            reverse("events:staff_check_in", args=[ev.pk]), {"code": registration.checkin_code}
        )
        registration.refresh_from_db()
        assert registration.checked_in_at is None
    response = client.post(reverse("events:staff_check_in", args=[ev.pk]), {"code": "nope"})
    page = client.get(response["Location"]).content.decode()
    assert "No registration for this event has that check-in code." in page


def test_search_counts_and_csv(client, events_team):
    ev = event(capacity=2)
    first = register(ev, active_member())
    register(ev, active_member())
    register(ev, active_member())  # waiting
    register(ev, n=9)  # unconfirmed visitor
    page = client.get(reverse("events:staff_attendees", args=[ev.pk]), {"q": first.name})
    html = page.content.decode()
    assert page.context["counts"] == {"confirmed": 2, "waiting": 1, "cancelled": 0, "attended": 0}
    assert len(page.context["registrations"]) == 1

    response = client.get(reverse("events:staff_attendees_csv", args=[ev.pk]))
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("name,email,organisation")
    assert len(lines) == 5
    assert "visitor9@example.org" in body
    assert html.count('class="attendee"') == 1


@pytest.mark.parametrize("count", [1, 40])
def test_attendee_list_queries_are_flat(client, events_team, django_assert_num_queries, count):
    ev = event(capacity=100)
    for n in range(count):
        register(ev, n=n)
    # session with user, authenticator, permissions (user, groups), event, counts, list
    with django_assert_num_queries(7):
        response = client.get(reverse("events:staff_attendees", args=[ev.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "name", "data"),
    [
        ("get", "events:staff_overview", None),
        ("get", "events:staff_attendees", None),
        ("get", "events:staff_attendees_csv", None),
        ("post", "events:staff_check_in", "code"),
    ],
)
def test_only_the_events_team_may_see_or_check_in(client, method, name, data):
    ev = event()
    registration = register(ev, active_member())
    url = reverse(name, args=[] if name == "events:staff_overview" else [ev.pk])
    payload = {"code": registration.checkin_code} if data else None
    assert getattr(client, method)(url, payload)["Location"].startswith(reverse("account_login"))
    client.force_login(StaffFactory(mfa=True))
    assert getattr(client, method)(url, payload).status_code == 403
    client.force_login(registration.user)
    assert getattr(client, method)(url, payload).status_code == 403
    registration.refresh_from_db()
    assert registration.checked_in_at is None


@pytest.mark.parametrize("count", [1, 25])
def test_event_overview_queries_are_flat(client, events_team, django_assert_num_queries, count):
    for _ in range(count):
        register(event(), n=0)
    # session with user, authenticator, permissions (user, groups), events with counts
    with django_assert_num_queries(5):
        response = client.get(reverse("events:staff_overview"))
    assert len(response.context["events"]) == count
