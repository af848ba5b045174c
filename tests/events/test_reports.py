"""Events in the staff reports: fill rates and attendance."""

import csv
import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse

from events import reports
from events.models import Event, Registration
from events.reports import TypeRow
from tests.factories import StaffFactory, event

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime.datetime(2026, 6, 15, 12, 0, tzinfo=LONDON)
SINCE = datetime.datetime(2025, 7, 1, tzinfo=LONDON)
Status = Registration.Status


def register(ev, status, n, checked_in=False):
    return Registration.objects.create(
        event=ev,
        name=f"Person {n}",
        email=f"person{n}@example.org",
        organisation="Riverside Surgery",
        role="Practice Manager",
        status=status,
        offer_expires_at=NOW + datetime.timedelta(days=2) if status == Status.OFFERED else None,
        checked_in_at=ev.starts_at if checked_in else None,
    )


@pytest.fixture
def events():
    """A webinar on 1 May 2026 with 10 places: 4 confirmed (3 came), one
    cancelled, one waiting. A conference on 1 July with 4 places: 3
    confirmed and one offered. Left out: a draft, a cancelled event and
    one from before July 2025."""
    webinar = event(
        title="Winter pressures",
        type=Event.Type.WEBINAR,
        starts_at=datetime.datetime(2026, 5, 1, 14, tzinfo=LONDON),
        capacity=10,
    )
    for n in range(4):
        register(webinar, Status.CONFIRMED, n, checked_in=n < 3)
    register(webinar, Status.CANCELLED, 4)
    register(webinar, Status.WAITING, 5)
    conference = event(
        title="=Annual conference",
        type=Event.Type.CONFERENCE,
        starts_at=datetime.datetime(2026, 7, 1, 9, tzinfo=LONDON),
        capacity=4,
    )
    for n in range(3):
        register(conference, Status.CONFIRMED, n)
    register(conference, Status.OFFERED, 3)
    for status in (Event.Status.DRAFT, Event.Status.CANCELLED):
        register(
            event(status=status, starts_at=datetime.datetime(2026, 5, 2, tzinfo=LONDON)),
            Status.CONFIRMED,
            9,
        )
    register(event(starts_at=datetime.datetime(2025, 6, 1, tzinfo=LONDON)), Status.CONFIRMED, 9)
    return webinar, conference


def test_fill_and_attendance_by_type(events):
    assert reports.type_rows(reports.event_rows(since=SINCE, now=NOW)) == [
        TypeRow("Webinar", 1, 10, 4, 4, 3),
        TypeRow("Conference", 1, 4, 4, 0, 0),
    ]
    webinar, conference = reports.type_rows(reports.event_rows(since=SINCE, now=NOW))
    assert (webinar.fill_rate, webinar.attendance_rate) == (40.0, 75.0)
    assert (conference.fill_rate, conference.attendance_rate) == (100.0, None)


def test_each_event_latest_first(events):
    webinar, conference = events
    rows = list(reports.event_rows(since=SINCE, now=NOW))
    assert [row.pk for row in rows] == [conference.pk, webinar.pk]
    first, second = rows
    assert (first.places, first.booked, first.waiting, first.attended) == (4, 4, 0, 0)
    assert (first.fill_rate, first.attendance_rate) == (100.0, None)
    assert (second.booked, second.waiting, second.confirmed, second.attended) == (4, 1, 4, 3)
    assert (second.fill_rate, second.attendance_rate) == (40.0, 75.0)
    assert [row.pk for row in reports.event_rows(since=SINCE, now=NOW, limit=1)] == [conference.pk]


def test_the_page_and_csv_show_the_events(client, events):
    staff = StaffFactory(mfa=True)
    staff.groups.add(Group.objects.get(name="Events team"))
    client.force_login(staff)
    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse("members:staff_reports")).content.decode()
        response = client.get(reverse("members:staff_report_csv", args=["events"]))
    assert "Webinar: Fill rate 40%, Attendance rate 75%;" in html
    assert "Conference: Fill rate 100%, Attendance rate no data." in html
    assert "<td>40.0%</td><td>1</td><td>3</td><td>75.0%</td>" in html
    assert response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        [
            "event",
            "type",
            "starts (UK time)",
            "places",
            "booked",
            "fill rate %",
            "waiting",
            "confirmed",
            "attended",
            "attendance rate %",
        ],
        [
            "'=Annual conference",
            "Conference",
            "2026-07-01 09:00",
            "4",
            "4",
            "100.0",
            "0",
            "3",
            "0",
            "",
        ],
        [
            "Winter pressures",
            "Webinar",
            "2026-05-01 14:00",
            "10",
            "4",
            "40.0",
            "1",
            "4",
            "3",
            "75.0",
        ],
    ]
