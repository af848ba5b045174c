"""Visitors' registration details are anonymised once the event is long
past; members' registrations and recent events are left alone."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from events import retention
from events.models import Registration, RegistrationEmail
from events.reminders import event_emails_sweep
from events.services import registration_check_in
from events.tasks import visitor_registrations_anonymise_task
from members.models import AuditEntry
from tests.factories import StaffFactory, active_member, event, member_registration

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
# Events are set up now and the job runs at a frozen moment later.
LATER = timezone.now() + 800 * DAY


def visitor(ev, n: int) -> Registration:
    return Registration.objects.create(
        event=ev,
        name=f"Visitor {n}",
        email=f"visitor{n}@example.org",
        organisation="Hilltop Surgery",
        role="Receptionist",
        access_requirements="Hearing loop",
        dietary_requirements="Halal",
        status=Registration.Status.CONFIRMED,
    )


def ended(days_before_run: int, **fields):
    """An event that ended ``days_before_run`` days before LATER."""
    ends = LATER - days_before_run * DAY
    return event(starts_at=ends - datetime.timedelta(hours=2), **fields)


def details(registration: Registration) -> tuple:
    registration.refresh_from_db()
    return (
        registration.name,
        registration.email,
        registration.organisation,
        registration.role,
        registration.access_requirements,
        registration.dietary_requirements,
    )


def test_old_visitors_are_anonymised_and_everyone_else_is_left_alone():
    old_event = ended(400)
    old_visitor = visitor(old_event, 1)
    old_member = member_registration(old_event, active_member())
    recent_visitor = visitor(ended(300), 2)
    untouched = {r.pk: details(r) for r in (old_member, recent_visitor)}

    with time_machine.travel(LATER, tick=False):
        assert visitor_registrations_anonymise_task() == 1

    assert details(old_visitor) == (
        "Anonymised attendee",
        f"registration-{old_visitor.pk}@erased.invalid",
        "",
        "",
        "",
        "",
    )
    assert old_visitor.anonymised_at == LATER
    assert old_visitor.status == Registration.Status.CONFIRMED  # counts still add up
    assert {r.pk: details(r) for r in (old_member, recent_visitor)} == untouched
    (summary,) = AuditEntry.objects.filter(action="visitors_anonymised")
    assert summary.data["count"] == 1
    assert summary.actor_label == "system"
    assert "visitor1@example.org" not in str(summary.data)


def test_running_twice_changes_nothing_the_second_time():
    ev = ended(500)
    rows = [visitor(ev, n) for n in range(3)]
    with time_machine.travel(LATER, tick=False):
        assert visitor_registrations_anonymise_task() == 3
    after_first = [(details(r), r.anonymised_at, r.updated_at) for r in rows]
    with time_machine.travel(LATER + DAY, tick=False):
        assert visitor_registrations_anonymise_task() == 0
    assert [(details(r), r.anonymised_at, r.updated_at) for r in rows] == after_first
    assert AuditEntry.objects.filter(action="visitors_anonymised").count() == 1


def test_the_retention_period_comes_from_the_setting(settings):
    recent = visitor(ended(40), 1)
    with time_machine.travel(LATER, tick=False):
        assert visitor_registrations_anonymise_task() == 0
        settings.EVENTS_VISITOR_RETENTION_DAYS = 30
        assert visitor_registrations_anonymise_task() == 1
    assert details(recent)[0] == "Anonymised attendee"


def test_works_in_batches_with_one_summary(monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 2)
    ev = ended(400)
    rows = [visitor(ev, n) for n in range(5)]
    with time_machine.travel(LATER, tick=False):
        assert retention.visitor_registrations_anonymise() == 5
    assert all(details(r)[0] == "Anonymised attendee" for r in rows)
    assert len({details(r)[1] for r in rows}) == 5  # each address still unique
    (summary,) = AuditEntry.objects.filter(action="visitors_anonymised")
    assert summary.data["count"] == 5


def test_anonymised_attendees_get_no_more_emails():
    starts = timezone.now() + 2 * DAY
    ev = event(starts_at=starts, ends_at=starts + datetime.timedelta(hours=2))
    registration = member_registration(ev, active_member())
    registration_check_in(registration=registration, by=StaffFactory())
    retention.registrations_anonymise(Registration.objects.filter(pk=registration.pk))
    # The day after the event, the thank-you sweep passes them by.
    with time_machine.travel(starts + DAY, tick=False):
        counts = event_emails_sweep(enqueue=lambda kind, ids: None)
    assert counts["thank_you"] == 0
    assert not RegistrationEmail.objects.filter(kind="thank_you").exists()


def test_a_visitors_email_leaves_the_audit_trail_with_their_details():
    from events.services import registration_cancel, registration_create
    from tests.factories import visitor_confirm

    ev = ended(400)
    booked = registration_create(
        event=ev,
        name="Val Visitor",
        email="val@example.org",
        organisation="Hilltop Surgery",
        role="Receptionist",
    )
    visitor_confirm(booked)
    registration_cancel(registration=booked)
    staff = StaffFactory()
    staff_entry = AuditEntry.objects.create(
        actor=staff,
        actor_label=staff.email,
        target_type="registration",
        target_id=booked.pk,
        action="checked_in",
    )
    assert AuditEntry.objects.filter(actor_label="val@example.org").count() == 3

    with time_machine.travel(LATER):
        retention.visitor_registrations_anonymise()

    assert not AuditEntry.objects.filter(actor_label__icontains="val@example.org").exists()
    assert AuditEntry.objects.filter(target_id=booked.pk, actor_label="visitor").count() == 3
    staff_entry.refresh_from_db()
    assert staff_entry.actor_label == staff.email
