"""The event pages keep what every viewer sees alike (events.fragments) and,
for anonymous visitors, the event and its places for a moment; never what
belongs to one viewer."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from events import forms, fragments, views
from events.services import registration_create
from tests.events.test_capacity import admin_form
from tests.factories import (
    StaffFactory,
    active_member,
    confirm_token_issue,
    event,
    member_registration,
)


def places(response) -> str:
    return re.search(r"<dt>Places</dt><dd>([^<]*)</dd>", response.content.decode())[1]


@pytest.mark.django_db
def test_a_members_registration_shows_in_the_places_at_once(client, clock):
    ev = event(capacity=5)
    member = active_member()
    client.force_login(member)
    assert places(client.get(ev.get_absolute_url())) == "5 of 5 left"
    client.post(ev.get_absolute_url(), {})
    page = client.get(ev.get_absolute_url())  # No time has passed.
    assert "You are booked" in page.content.decode()
    assert places(page) == "4 of 5 left"


@pytest.mark.django_db
def test_a_registration_shows_at_once_to_others_served_by_the_same_process(client, clock):
    ev = event(capacity=5)
    onlooker = Client()
    assert places(onlooker.get(ev.get_absolute_url())) == "5 of 5 left"
    client.force_login(active_member())
    client.post(ev.get_absolute_url(), {})
    assert places(onlooker.get(ev.get_absolute_url())) == "4 of 5 left"


@pytest.mark.django_db
def test_a_member_booked_elsewhere_is_shown_booked_at_once(client, clock):
    """Their booking is theirs: never from the moment-old event."""
    ev = event(capacity=5)
    member = active_member()
    client.force_login(member)
    assert "You are booked" not in client.get(ev.get_absolute_url()).content.decode()
    member_registration(ev, member)  # Another tab, or the desk.
    assert "You are booked" in client.get(ev.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_anonymous_visitors_see_places_at_most_a_moment_old(client, clock):
    ev = event(capacity=5)
    url = ev.get_absolute_url()
    assert places(client.get(url)) == "5 of 5 left"
    member_registration(ev, active_member())
    clock.now += views.PLACES_SECONDS - 0.1
    assert places(client.get(url)) == "5 of 5 left"
    clock.now += 0.2
    assert places(client.get(url)) == "4 of 5 left"


@pytest.mark.django_db
def test_a_visitor_who_confirms_sees_their_place_taken_at_once(client, clock):
    ev = event(capacity=5)
    url = ev.get_absolute_url()
    assert places(client.get(url)) == "5 of 5 left"
    registration = registration_create(
        event=ev, user=None, name="Sam Patel", email="sam@example.org",
        organisation="Riverside Surgery", role="Practice Manager",
    )  # fmt: skip
    token = confirm_token_issue(registration)
    client.post(reverse("events:confirm", args=[token]))
    assert places(client.get(url)) == "4 of 5 left"  # No time has passed.
    assert views.PLACES_COOKIE in client.cookies


@pytest.mark.django_db
def test_two_viewers_never_see_each_others_part(client):
    ev = event(capacity=5)
    first, second = active_member(), active_member()
    booked = member_registration(ev, first)
    url = ev.get_absolute_url()

    client.force_login(first)
    mine = client.get(url).content.decode()
    client.force_login(second)
    theirs = client.get(url).content.decode()
    client.logout()
    anonymous = client.get(url).content.decode()

    assert "You are booked" in mine and booked.checkin_code in mine
    assert "You are booked" not in theirs and booked.checkin_code not in theirs
    assert f"registering as <strong>{second.get_full_name()}" in theirs
    assert first.get_full_name() not in theirs
    assert "Everyone is welcome" in anonymous
    for text in (booked.checkin_code, first.get_full_name(), second.get_full_name()):
        assert text not in anonymous
    csrf = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    assert csrf.search(theirs)[1] != csrf.search(anonymous)[1]


@pytest.mark.django_db
def test_an_edit_in_the_admin_shows_on_the_page_at_once(client):
    ev = event(description="The old description.")
    client.force_login(StaffFactory(mfa=True, is_superuser=True))
    assert "The old description." in client.get(ev.get_absolute_url()).content.decode()
    before = fragments.version(ev)
    admin_url = reverse("admin:events_event_change", args=[ev.pk])
    response = client.post(admin_url, admin_form(ev, description="The new description."))
    assert response.status_code == 302
    ev.refresh_from_db()
    assert fragments.version(ev) != before
    page = client.get(ev.get_absolute_url()).content.decode()
    assert "The new description." in page and "The old description." not in page


@pytest.mark.django_db
def test_a_capacity_change_moves_the_version_and_the_places(client):
    ev = event(capacity=5)
    client.force_login(StaffFactory(mfa=True, is_superuser=True))
    assert places(client.get(ev.get_absolute_url())) == "5 of 5 left"
    before = fragments.version(ev)
    admin_url = reverse("admin:events_event_change", args=[ev.pk])
    assert client.post(admin_url, admin_form(ev, capacity="8")).status_code == 302
    ev.refresh_from_db()
    assert fragments.version(ev) != before
    assert places(client.get(ev.get_absolute_url())) == "8 of 8 left"


@pytest.mark.django_db
def test_an_edited_event_shows_on_the_list_within_a_moment(client, clock):
    ev = event(title="Managing winter pressures")
    assert "Managing winter pressures" in client.get(reverse("events:list")).content.decode()
    ev.title = "Managing spring pressures"
    ev.save()
    # The list was read a moment ago: visitors see it as it was...
    assert "Managing winter pressures" in client.get(reverse("events:list")).content.decode()
    clock.now += views.PLACES_SECONDS + 0.1
    page = client.get(reverse("events:list")).content.decode()
    assert "Managing spring pressures" in page and "Managing winter pressures" not in page


@pytest.mark.django_db
def test_staff_see_an_edited_event_on_the_list_at_once(client, clock):
    ev = event(title="Managing winter pressures")
    assert "Managing winter pressures" in client.get(reverse("events:list")).content.decode()
    ev.title = "Managing spring pressures"
    ev.save()
    client.force_login(StaffFactory(mfa=True))
    page = client.get(reverse("events:list")).content.decode()
    assert "Managing spring pressures" in page and "Managing winter pressures" not in page


@pytest.mark.django_db
def test_each_filter_and_page_of_the_list_is_kept_apart(client, clock):
    webinar = event(title="Webinar on rotas", type="webinar")
    regional = event(title="Regional meeting on rotas", type="regional")
    listed = client.get(reverse("events:list"), {"type": "webinar"}).content.decode()
    assert webinar.title in listed and regional.title not in listed
    listed = client.get(reverse("events:list"), {"type": "regional"}).content.decode()
    assert regional.title in listed and webinar.title not in listed
    # A page number no one would type is answered, but not kept.
    client.get(reverse("events:list"), {"page": "9" * 40})
    assert not [key for key in fragments.memory.entries if "9" * 40 in key]


@pytest.mark.django_db
def test_the_form_is_rendered_once_but_a_bound_one_every_time(client):
    ev = event(is_online=False, venue="Lowry Centre")
    url = ev.get_absolute_url()
    first = client.get(url).content.decode()
    assert "Dietary requirements" in first
    assert any(html in first for html in forms._UNBOUND_HTML.values())
    response = client.post(url, {"name": "Sam Typed", "email": "not-an-email"})
    assert response.status_code == 400
    assert 'value="Sam Typed"' in response.content.decode()
    online = client.get(event(is_online=True).get_absolute_url()).content.decode()
    assert "Dietary requirements" not in online
