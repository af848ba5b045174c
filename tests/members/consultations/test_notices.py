"""Invitations and reminders: only to members in the audience who asked
for them and have not answered, each once, even with two sweeps at once;
a reminder can be stopped from its link."""

import datetime
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.urls import reverse

from members.consultations import services
from members.consultations.models import ConsultationNotice, ReminderOptOut
from members.consultations.notices import consultation_notices_send, consultation_notices_sweep
from members.models import Profile
from tests.factories import active_member

from .world import consultation, full_answers, policy_officer

Kind = ConsultationNotice.Kind


def consenting(n=1):
    members = [active_member() for _ in range(n)]
    Profile.objects.filter(user__in=members).update(consultation_consent=True)
    return members


def sent_now(made=None):
    """Run a sweep and send what it recorded; the emails by recipient."""
    mail.outbox.clear()
    ids = []
    consultation_notices_sweep(enqueue=ids.extend)
    consultation_notices_send(notice_ids=ids)
    return {message.to[0]: message for message in mail.outbox}


@pytest.mark.django_db
def test_invitations_go_to_consenting_members_of_the_audience_only():
    keen, answered = consenting(2)
    quiet = active_member()  # never asked for consultation emails
    officer = policy_officer()
    made = consultation(opened=False, by=officer)
    services.consultation_open(consultation=made, by=officer)
    services.response_submit(consultation=made, user=answered, answers=full_answers(made))
    emails = sent_now()
    assert set(emails) == {keen.email}
    assert "Have your say" in emails[keen.email].subject
    assert made.get_absolute_url() in emails[keen.email].body
    assert quiet.email not in emails
    assert sent_now() == {}  # the next sweep sends nothing again


@pytest.mark.django_db
def test_two_reminders_at_most_to_those_who_have_not_answered_and_not_after_stopping(client):
    first, second, stops = consenting(3)
    made = consultation(days=10)
    assert set(sent_now()) == {first.email, second.email, stops.email}  # invitations

    at_7_days = made.closes_at - datetime.timedelta(days=6)
    with time_machine.travel(at_7_days):
        services.response_submit(consultation=made, user=first, answers=full_answers(made))
        reminders = sent_now()
    assert set(reminders) == {second.email, stops.email}
    body = reminders[stops.email].body
    stop_path = body.split("No more reminders about this consultation:\n")[1].split()[0]
    stop_path = stop_path.removeprefix("http://testserver").split("://", 1)[-1]
    stop_path = stop_path[stop_path.index("/consultations/") :]
    assert "Stop reminders" in client.get(stop_path).content.decode()
    assert not ReminderOptOut.objects.exists()  # a GET changes nothing
    client.post(stop_path)
    assert ReminderOptOut.objects.filter(consultation=made, user=stops).exists()

    with time_machine.travel(made.closes_at - datetime.timedelta(hours=12)):
        assert set(sent_now()) == {second.email}
        assert sent_now() == {}
    kinds = ConsultationNotice.objects.filter(user=second).values_list("kind", flat=True)
    assert sorted(kinds) == sorted([Kind.INVITATION, Kind.REMINDER_1, Kind.REMINDER_2])
    assert not ConsultationNotice.objects.filter(user=first).exclude(kind=Kind.INVITATION)


@pytest.mark.django_db
def test_a_forged_stop_link_changes_nothing(client):
    response = client.post(reverse("members:consultation_reminders_stop", args=["forged"]))
    assert response.status_code == 404
    assert not ReminderOptOut.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_record_and_send_one_email_each():
    consultation()  # opening it queues the invitations: to nobody yet
    members = consenting(6)
    mail.outbox.clear()
    barrier = threading.Barrier(2)

    def sweep(_):
        try:
            ids = []
            barrier.wait()
            consultation_notices_sweep(enqueue=ids.extend)
            consultation_notices_send(notice_ids=ids)
            return len(ids)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        recorded = list(pool.map(sweep, range(2)))
    assert sum(recorded) == 6
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.email for m in members)
    assert ConsultationNotice.objects.count() == 6


@pytest.mark.django_db
def test_the_hourly_beat_job_closes_due_consultations_and_sends_invitations(settings):
    from celery import current_app

    from members.consultations.models import Consultation
    from members.consultations.tasks import consultation_notices_sweep_task

    entry = settings.CELERY_BEAT_SCHEDULE["members-consultation-notices-sweep"]
    assert entry["task"] in current_app.tasks
    (keen,) = consenting(1)
    made = consultation()
    late = consultation()
    Consultation.objects.filter(pk=late.pk).update(
        closes_at=made.opens_at + datetime.timedelta(minutes=1)
    )
    mail.outbox.clear()
    result = consultation_notices_sweep_task()
    assert result["closed"] == 1 and result["invitation"] == 1
    assert [m.to for m in mail.outbox] == [[keen.email]]
