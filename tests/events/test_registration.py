"""Registration: capacity under concurrency, the waiting list, offers,
emails once, the joining link only for confirmed places, and .ics."""

import datetime
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from events import services
from events.ics import calendar_for
from events.models import Registration
from events.services import (
    RegistrationRefused,
    offer_claim,
    offers_expire,
    registration_cancel,
    registration_create,
)
from tests.factories import UserFactory, active_member, event, member_registration

Status = Registration.Status
LONDON = ZoneInfo("Europe/London")


def person(n: int) -> dict:
    return {
        "name": f"Person {n}",
        "email": f"person{n}@example.org",
        "organisation": "Riverside Surgery",
        "role": "Practice Manager",
    }


def rush(ev, attempts: int, workers: int) -> list:
    """``attempts`` registrations fired at once from ``workers`` threads,
    each with its own database connection, all released by one barrier."""
    users = UserFactory.create_batch(attempts)
    barrier = threading.Barrier(workers)
    per_worker = [users[i::workers] for i in range(workers)]

    def work(batch):
        try:
            barrier.wait()
            return [member_registration(ev, user).status for user in batch]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [s for statuses in pool.map(work, per_worker) for s in statuses]


@pytest.mark.django_db(transaction=True)
def test_two_hundred_at_once_for_fifty_places_never_overbook():
    ev = event(capacity=50)
    statuses = rush(ev, attempts=200, workers=40)
    assert statuses.count(Status.CONFIRMED) == 50
    assert statuses.count(Status.WAITING) == 150
    assert Registration.objects.filter(event=ev, status=Status.CONFIRMED).count() == 50
    assert Registration.objects.filter(event=ev, status=Status.WAITING).count() == 150


@pytest.mark.django_db(transaction=True)
def test_without_the_lock_the_same_rush_overbooks(monkeypatch):
    """Negative control: with the event lock removed (and the gap between
    counting and saving widened a little), the test above would fail."""
    ev = event(capacity=50)
    monkeypatch.setattr(
        services, "_lock_event", lambda event_id: services.Event.objects.get(pk=event_id)
    )
    real_count = services.places_taken

    def slow_count(event):
        taken = real_count(event)
        time.sleep(0.02)
        return taken

    monkeypatch.setattr(services, "places_taken", slow_count)
    rush(ev, attempts=120, workers=40)
    assert Registration.objects.filter(event=ev, status=Status.CONFIRMED).count() > 50


@pytest.mark.django_db
def test_cancelling_offers_the_place_to_the_first_in_line(django_capture_on_commit_callbacks):
    ev = event(capacity=1)
    first, second, third = (active_member() for _ in range(3))
    with django_capture_on_commit_callbacks(execute=True):
        held = member_registration(ev, first)
        waiting_1 = member_registration(ev, second)
        waiting_2 = member_registration(ev, third)
    assert (held.status, waiting_1.status, waiting_2.status) == ("confirmed", "waiting", "waiting")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        registration_cancel(registration=held, by=first)
    waiting_1.refresh_from_db()
    waiting_2.refresh_from_db()
    assert waiting_1.status == Status.OFFERED
    assert waiting_2.status == Status.WAITING
    offer_mail = [m for m in mail.outbox if m.to == [second.email]]
    assert len(offer_mail) == 1
    assert "A place has come free" in offer_mail[0].subject

    with django_capture_on_commit_callbacks(execute=True):
        offer_claim(registration=waiting_1)
    waiting_1.refresh_from_db()
    assert waiting_1.status == Status.CONFIRMED
    assert any("is confirmed" in m.subject for m in mail.outbox if m.to == [second.email])


@pytest.mark.django_db
def test_an_offer_not_taken_in_time_moves_on():
    ev = event(capacity=1)
    first, second, third = (active_member() for _ in range(3))
    held = member_registration(ev, first)
    waiting_1 = member_registration(ev, second)
    waiting_2 = member_registration(ev, third)
    registration_cancel(registration=held, by=first)
    waiting_1.refresh_from_db()
    assert waiting_1.status == Status.OFFERED

    later = timezone.now() + datetime.timedelta(hours=49)
    with time_machine.travel(later):
        with pytest.raises(RegistrationRefused, match="offer has ended"):
            offer_claim(registration=waiting_1)
        assert offers_expire() == 1
        assert offers_expire() == 0
    waiting_1.refresh_from_db()
    waiting_2.refresh_from_db()
    assert waiting_1.status == Status.CANCELLED
    assert waiting_2.status == Status.OFFERED


@pytest.mark.django_db
def test_refusals_are_explained():
    user = active_member()
    ev = event()
    member_registration(ev, user)
    with pytest.raises(RegistrationRefused, match="already registered"):
        member_registration(ev, user)
    closed = event(registration_closes_at=timezone.now() - datetime.timedelta(minutes=1))
    with pytest.raises(RegistrationRefused, match="closed"):
        member_registration(closed, user)
    not_yet = event(registration_opens_at=timezone.now() + datetime.timedelta(days=1))
    with pytest.raises(RegistrationRefused, match="opens on"):
        member_registration(not_yet, user)
    members_only = event(members_only=True)
    with pytest.raises(RegistrationRefused, match="for IGPM members"):
        registration_create(event=members_only, **person(1))


def confirm_path(message) -> str:
    """The confirmation link in a visitor's email."""
    return re.search(r"/registrations/confirm/[\w-]+/", message.body).group(0)


@pytest.mark.django_db
def test_a_visitor_confirms_their_address_before_the_place_is_theirs(
    client, django_capture_on_commit_callbacks
):
    ev = event(capacity=5)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("events:detail", args=[ev.slug]),
            {**person(7), "access_requirements": "Captions, please"},
        )
    registration = Registration.objects.get()
    assert response["Location"] == reverse("events:check_email", args=[ev.slug])
    assert registration.status == Status.UNCONFIRMED
    assert registration.user is None
    [message] = mail.outbox
    path = confirm_path(message)
    assert ev.joining_link not in message.body
    assert registration.manage_token not in message.body

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path)
    assert response["Location"] == registration.get_absolute_url()
    # The link works once.
    assert client.post(path).status_code == 404
    registration.refresh_from_db()
    assert registration.status == Status.CONFIRMED
    assert registration.confirm_token_hash is None
    confirmed = [m for m in mail.outbox if "is confirmed" in m.subject]
    assert len(confirmed) == 1
    assert ev.joining_link in confirmed[0].body
    assert registration.checkin_code in confirmed[0].body
    assert registration.get_absolute_url() in confirmed[0].body
    name, content, mimetype = confirmed[0].attachments[0]
    assert (name, mimetype) == ("event.ics", "text/calendar")
    [vevent] = icalendar.Calendar.from_ical(content).walk("VEVENT")
    assert registration.checkin_code in str(vevent.get("description"))
    assert registration.manage_token not in str(content)
    page = client.get(registration.get_absolute_url()).content.decode()
    assert ev.joining_link in page
    assert registration.checkin_code in page


@pytest.mark.django_db
def test_the_joining_link_is_never_shown_without_a_confirmed_place(
    client, django_capture_on_commit_callbacks
):
    ev = event(capacity=1)
    holder, waiter = active_member(), active_member()
    with django_capture_on_commit_callbacks(execute=True):
        member_registration(ev, holder)
        waiting = member_registration(ev, waiter)
    for url in (
        reverse("events:detail", args=[ev.slug]),
        reverse("events:registration", args=[waiting.manage_token]),
        reverse("events:ics", args=[ev.slug]),
        reverse("events:feed"),
        reverse("events:list"),
    ):
        assert ev.joining_link not in client.get(url).content.decode(), url
    waiter_mail = [m for m in mail.outbox if m.to == [waiter.email]]
    assert waiter_mail
    assert all(ev.joining_link not in m.body for m in waiter_mail)


@pytest.mark.django_db
def test_each_email_is_sent_once_however_often_it_is_queued():
    from events.tasks import registration_email_task

    registration = member_registration(event(), active_member())
    mail.outbox.clear()
    assert registration_email_task(registration.pk, "confirmed") is True
    assert registration_email_task(registration.pk, "confirmed") is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("local_start", "utc_start"),
    [
        # 21 April 2026 is British Summer Time (UTC+1)...
        (datetime.datetime(2026, 4, 21, 9, 30), "20260421T083000Z"),
        # ...the clocks go back on 25 October 2026...
        (datetime.datetime(2026, 10, 26, 9, 30), "20261026T093000Z"),
        # ...and forward again on 28 March 2027.
        (datetime.datetime(2027, 3, 28, 9, 30), "20270328T083000Z"),
    ],
)
def test_ics_times_are_right_across_the_clocks_changing(local_start, utc_start):
    starts = local_start.replace(tzinfo=LONDON)
    ev = event(starts_at=starts, ends_at=starts + datetime.timedelta(hours=2))
    calendar = icalendar.Calendar.from_ical(calendar_for([ev]))
    [vevent] = calendar.walk("VEVENT")
    assert vevent.get("dtstart").to_ical().decode() == utc_start
    assert vevent.decoded("dtstart").astimezone(LONDON).replace(tzinfo=None) == local_start
    assert vevent.decoded("dtend") - vevent.decoded("dtstart") == datetime.timedelta(hours=2)
    assert str(vevent.get("summary")) == ev.title


@pytest.mark.django_db
def test_cancelling_an_event_tells_everyone_once(django_capture_on_commit_callbacks):
    from events.services import event_cancel
    from tests.factories import StaffFactory

    ev = event(capacity=1)
    people = [active_member() for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        for user in people:
            member_registration(ev, user)
    mail.outbox.clear()
    staff = StaffFactory(mfa=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert event_cancel(event=ev, by=staff) == 3
        assert event_cancel(event=ev, by=staff) == 0
    ev.refresh_from_db()
    assert ev.status == "cancelled"
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in people)
    assert all("cancelled" in m.body for m in mail.outbox)
    with pytest.raises(RegistrationRefused, match="not open"):
        member_registration(ev, active_member())
