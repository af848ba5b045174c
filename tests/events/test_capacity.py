"""More places offered to the waiting list first, in order, whether the
capacity is changed by the service or saved in the admin."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from events.models import Registration
from events.services import event_capacity_change, places_taken
from members.models import AuditEntry
from tests.factories import StaffFactory, UserFactory, active_member, event, member_registration

Status = Registration.Status


def full_event(capacity: int, waiting: int):
    ev = event(capacity=capacity)
    held = [member_registration(ev, active_member()) for _ in range(capacity)]
    queue = [member_registration(ev, active_member()) for _ in range(waiting)]
    assert all(r.status == Status.WAITING for r in queue)
    return ev, held, queue


def statuses(registrations) -> list[str]:
    return [Registration.objects.get(pk=r.pk).status for r in registrations]


@pytest.mark.django_db
def test_more_places_go_to_the_people_waiting_in_order(django_capture_on_commit_callbacks):
    ev, _, queue = full_event(capacity=2, waiting=3)
    staff = StaffFactory(mfa=True)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        offered = event_capacity_change(event=ev, capacity=4, by=staff)
    assert [r.pk for r in offered] == [queue[0].pk, queue[1].pk]
    assert statuses(queue) == [Status.OFFERED, Status.OFFERED, Status.WAITING]
    told = sorted(m.to[0] for m in mail.outbox if "A place has come free" in m.subject)
    assert told == sorted([queue[0].email, queue[1].email])
    entry = AuditEntry.objects.get(action="capacity_changed")
    assert (entry.actor, entry.from_state, entry.to_state) == (staff, "2", "4")

    # A newcomer a moment later joins the back of the queue.
    late = member_registration(ev, active_member())
    assert late.status == Status.WAITING
    assert places_taken(ev) == 4


@pytest.mark.django_db
def test_fewer_places_take_nobodys_away():
    ev, held, queue = full_event(capacity=3, waiting=1)
    assert event_capacity_change(event=ev, capacity=1, by=StaffFactory(mfa=True)) == []
    assert statuses(held) == [Status.CONFIRMED] * 3
    assert statuses(queue) == [Status.WAITING]
    ev.refresh_from_db()
    assert ev.capacity == 1


@pytest.mark.django_db
def test_the_same_capacity_changes_nothing():
    ev, _, queue = full_event(capacity=1, waiting=1)
    assert event_capacity_change(event=ev, capacity=1, by=StaffFactory(mfa=True)) == []
    assert statuses(queue) == [Status.WAITING]
    assert not AuditEntry.objects.filter(action="capacity_changed").exists()


def admin_form(ev, **changes) -> dict:
    """The admin's change form for ``ev``, as a browser would post it."""
    local = {
        name: timezone.localtime(getattr(ev, name))
        for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at")
    }
    data = {
        "title": ev.title,
        "slug": ev.slug,
        "type": ev.type,
        "umbrella": "",
        "status": ev.status,
        "summary": ev.summary,
        "description": ev.description,
        "cpd_hours": str(ev.cpd_hours),
        "is_online": "on" if ev.is_online else "",
        "venue": ev.venue,
        "joining_link": ev.joining_link,
        "region": ev.region,
        "host_type": ev.host_type,
        "host_name": ev.host_name,
        "members_only": "",
        "capacity": str(ev.capacity),
        "_save": "Save",
    }
    for name, value in local.items():
        data[f"{name}_0"] = value.strftime("%Y-%m-%d")
        data[f"{name}_1"] = value.strftime("%H:%M:%S")
    data.update(changes)
    return data


@pytest.mark.django_db
def test_saving_more_places_in_the_admin_offers_them_to_the_waiting_list(
    client, django_capture_on_commit_callbacks
):
    ev, _, queue = full_event(capacity=1, waiting=2)
    admin = StaffFactory(mfa=True, is_superuser=True)
    client.force_login(admin)
    url = reverse("admin:events_event_change", args=[ev.pk])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, admin_form(ev, capacity="2"), follow=True)
    assert response.status_code == 200
    assert "1 person on the waiting list offered a place by email." in response.content.decode()
    ev.refresh_from_db()
    assert ev.capacity == 2
    assert statuses(queue) == [Status.OFFERED, Status.WAITING]
    assert [m.to for m in mail.outbox] == [[queue[0].email]]
    entry = AuditEntry.objects.get(action="capacity_changed")
    assert (entry.actor, entry.from_state, entry.to_state) == (admin, "1", "2")


@pytest.mark.django_db
def test_saving_other_fields_in_the_admin_leaves_the_queue_alone(client):
    ev, _, queue = full_event(capacity=1, waiting=1)
    client.force_login(StaffFactory(mfa=True, is_superuser=True))
    url = reverse("admin:events_event_change", args=[ev.pk])
    response = client.post(url, admin_form(ev, title="Managing spring pressures"))
    assert response.status_code == 302
    ev.refresh_from_db()
    assert ev.title == "Managing spring pressures"
    assert statuses(queue) == [Status.WAITING]


@pytest.mark.django_db(transaction=True)
def test_newcomers_racing_a_capacity_rise_never_jump_the_queue():
    """While the capacity goes from 5 to 10, twenty newcomers register at
    once: the five new places go to the five people who were waiting."""
    ev, _, queue = full_event(capacity=5, waiting=5)
    staff = StaffFactory(mfa=True)
    newcomers = UserFactory.create_batch(20)
    workers = 11
    barrier = threading.Barrier(workers)

    def work(n):
        try:
            barrier.wait()
            if n == 0:
                event_capacity_change(event=ev, capacity=10, by=staff)
                return []
            return [member_registration(ev, user).status for user in newcomers[n - 1 :: 10]]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = [s for result in pool.map(work, range(workers)) for s in result]
    assert outcomes == [Status.WAITING] * 20
    assert statuses(queue) == [Status.OFFERED] * 5
    assert places_taken(ev) == 10


@pytest.mark.django_db
def test_a_capacity_saved_around_the_service_lets_a_newcomer_jump_the_queue():
    """Negative control: a plain save of the new capacity, as the admin
    did before, leaves the new places to whoever registers next."""
    ev, _, queue = full_event(capacity=1, waiting=1)
    type(ev).objects.filter(pk=ev.pk).update(capacity=2)
    ev.refresh_from_db()
    late = member_registration(ev, active_member())
    assert late.status == Status.CONFIRMED
    assert statuses(queue) == [Status.WAITING]
