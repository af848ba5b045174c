"""The signed-in person is read with whether they hold a live registration
at an event not long ended or still to come (events.signed_in); an event
page looks for their own booking only where they do."""

import datetime

import pytest
from django.db.models import Exists, OuterRef, Q
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from events.models import Registration
from events.selectors import registration_for_person
from events.signed_in import LIVE_BOOKINGS
from members.authentication import AuthenticationMiddleware, person_fact, user_as_signed_in
from members.models import User
from members.sessions import SessionStore
from tests.factories import UserFactory, active_member, event

pytestmark = pytest.mark.django_db


def _orm_live_bookings(user: User) -> bool:
    """The fact as the ORM would work it out, in Python's clock."""
    since = timezone.now() - datetime.timedelta(days=1)
    return (
        User.objects.filter(pk=user.pk)
        .values_list(
            Exists(
                Registration.objects.filter(
                    Q(user=OuterRef("pk")) | Q(email=user.email.strip().lower()),
                    status__in=Registration.LIVE,
                    event__ends_at__gt=since,
                )
            ),
            flat=True,
        )
        .get()
    )


def _by_address(held, email: str, status=Registration.Status.CONFIRMED) -> Registration:
    return Registration.objects.create(
        event=held, email=email, name="A Member", organisation="Surgery",
        role="Practice Manager", status=status,
    )  # fmt: skip


def test_the_fact_is_what_the_orm_finds_in_each_case():
    member = UserFactory(email="Booked@Example.org ")
    now = timezone.now()

    def check(expected: bool) -> None:
        read = person_fact(user_as_signed_in(member.pk), LIVE_BOOKINGS)
        assert read is expected and _orm_live_bookings(member) is expected

    check(False)
    ahead = _by_address(event(), "booked@example.org")
    check(True)
    ahead.status = Registration.Status.CANCELLED
    ahead.save()
    check(False)
    # By account, on the waiting list.
    other = event()
    waiting = _by_address(other, "someone-else@example.org", Registration.Status.WAITING)
    waiting.user = member
    waiting.save()
    check(True)
    # An event that ended an hour ago still counts; two days ago, not.
    other.starts_at, other.ends_at = (
        now - datetime.timedelta(hours=3),
        now - datetime.timedelta(hours=1),
    )
    other.save()
    check(True)
    other.starts_at, other.ends_at = (
        now - datetime.timedelta(days=2, hours=2),
        now - datetime.timedelta(days=2),
    )
    other.save()
    check(False)
    # Someone else's booking is not theirs.
    _by_address(event(), "nobody@example.org")
    check(False)


def test_the_fact_is_read_with_the_session(client, django_assert_num_queries):
    member = active_member()
    _by_address(event(), member.email)
    client.force_login(member)
    request = RequestFactory().get("/")
    request.session = SessionStore(client.session.session_key)
    AuthenticationMiddleware(lambda request: None).process_request(request)
    with django_assert_num_queries(1):
        assert person_fact(request.user, LIVE_BOOKINGS) is True


def test_no_booking_is_looked_for_where_the_person_holds_none(django_assert_num_queries):
    member = UserFactory()
    held = event()
    read = user_as_signed_in(member.pk)
    with django_assert_num_queries(0):
        assert registration_for_person(event=held, user=read) is None
    # An event long past is looked at: the fact does not reach back to it.
    past = event(starts_at=timezone.now() - datetime.timedelta(days=30))
    with django_assert_num_queries(1):
        assert registration_for_person(event=past, user=read) is None
    # A user read any other way has no fact: their booking is looked for.
    with django_assert_num_queries(1):
        assert registration_for_person(event=held, user=member) is None


def test_a_booking_is_found_where_the_person_holds_one(django_assert_num_queries):
    member = UserFactory()
    held = event()
    booked = _by_address(held, member.email)
    read = user_as_signed_in(member.pk)
    with django_assert_num_queries(1):
        assert registration_for_person(event=held, user=read) == booked
    # Booked elsewhere: this event's booking is looked for, and is none.
    elsewhere = event()
    with django_assert_num_queries(1):
        assert registration_for_person(event=elsewhere, user=read) is None


def test_after_registering_the_event_page_shows_the_place(client):
    member = active_member()
    held = event()
    client.force_login(member)
    page = client.get(held.get_absolute_url())
    assert b"You are registering as" in page.content
    client.post(held.get_absolute_url(), {"access_requirements": "", "dietary_requirements": ""})
    # Another browser of theirs, without the cookie that says their places
    # changed, reads the person afresh: the fact comes with them.
    client.cookies.pop("igpm_places_changed", None)
    again = client.get(held.get_absolute_url())
    assert b"You are booked" in again.content
    assert reverse("events:my_events").encode() in again.content
