"""Reminders before, the thank-you after: each once, on time."""

import datetime
import io

import pypdf
import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from events.models import Event, RegistrationEmail
from events.reminders import event_emails_sweep
from events.services import registration_check_in
from events.tasks import registration_email_task
from tests.factories import StaffFactory, active_member, event, member_registration

pytestmark = pytest.mark.django_db


def confirmed(ev):
    return member_registration(ev, active_member())


def sweep_at(moment) -> dict:
    queued: list[tuple[str, int]] = []
    with time_machine.travel(moment, tick=False):
        counts = event_emails_sweep(
            enqueue=lambda kind, ids: queued.extend((kind, i) for i in ids)
        )
    for kind, registration_id in queued:
        registration_email_task(registration_id, kind)
    return counts


@pytest.mark.parametrize(
    ("event_type", "before", "kind"),
    [
        (Event.Type.CONFERENCE, datetime.timedelta(days=6), "reminder_7d"),
        (Event.Type.CONFERENCE, datetime.timedelta(hours=20), "reminder_1d"),
        (Event.Type.CONFERENCE, datetime.timedelta(minutes=30), "reminder_1d"),
        (Event.Type.WEBINAR, datetime.timedelta(hours=20), "reminder_1d"),
        (Event.Type.WEBINAR, datetime.timedelta(minutes=30), "reminder_1h"),
    ],
)
def test_each_reminder_goes_once(event_type, before, kind):
    starts = timezone.now() + datetime.timedelta(days=10)
    ev = event(type=event_type, starts_at=starts, ends_at=starts + datetime.timedelta(hours=2))
    registration = confirmed(ev)
    mail.outbox.clear()
    counts = sweep_at(starts - before)
    assert counts[kind] == 1
    assert sum(counts.values()) == 1
    assert sweep_at(starts - before)[kind] == 0
    [message] = mail.outbox
    assert message.to == [registration.email]
    assert ev.joining_link in message.body
    assert RegistrationEmail.objects.get(kind=kind).sent_at is not None


def test_no_reminder_for_waiting_or_cancelled_people():
    starts = timezone.now() + datetime.timedelta(days=10)
    ev = event(capacity=1, starts_at=starts, ends_at=starts + datetime.timedelta(hours=1))
    confirmed(ev)
    confirmed(ev)  # waiting
    mail.outbox.clear()
    assert sweep_at(starts - datetime.timedelta(days=3))["reminder_7d"] == 1


def test_thank_you_with_certificate_goes_only_to_those_checked_in():
    starts = timezone.now() + datetime.timedelta(days=2)
    ev = event(
        type=Event.Type.CONFERENCE,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=6),
        cpd_hours=5,
    )
    came, stayed_home = confirmed(ev), confirmed(ev)
    with time_machine.travel(starts + datetime.timedelta(hours=1), tick=False):
        registration_check_in(registration=came, by=StaffFactory(mfa=True))
    mail.outbox.clear()
    counts = sweep_at(starts + datetime.timedelta(hours=8))
    assert counts["thank_you"] == 1
    [message] = mail.outbox
    assert message.to == [came.email]
    assert "your IGPM CPD log now includes 5 hours for it" in message.body
    name, content, mimetype = message.attachments[0]
    assert name == "certificate-of-attendance.pdf"
    assert mimetype == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert came.name in text
    assert ev.title in text
    assert stayed_home.email not in [m.to[0] for m in mail.outbox]


def test_attendance_certificate_only_for_attendees(client):
    ev = event()
    came, absent = confirmed(ev), confirmed(ev)
    registration_check_in(registration=came, by=StaffFactory(mfa=True))
    ok = client.get(reverse("events:certificate", args=[came.manage_token]))
    assert ok.content.startswith(b"%PDF")
    assert client.get(reverse("events:certificate", args=[absent.manage_token])).status_code == 404
