"""Every change of a registration's status is in the audit trail, with who
made it and from what to what."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from events.models import Registration
from events.services import (
    event_cancel,
    offer_claim,
    offers_expire,
    registration_cancel,
    registration_create,
)
from members.models import AuditEntry
from tests.factories import (
    StaffFactory,
    active_member,
    event,
    member_registration,
    visitor_confirm,
)

pytestmark = pytest.mark.django_db
Status = Registration.Status


def trail(registration: Registration) -> list[tuple[str, str, str, str]]:
    return list(
        AuditEntry.objects.filter(target_type="registration", target_id=registration.pk)
        .order_by("pk")
        .values_list("actor_label", "action", "from_state", "to_state")
    )


def test_a_members_registration_from_place_to_waiting_list_to_offer():
    ev = event(capacity=1)
    first, second, third = (active_member() for _ in range(3))
    held = member_registration(ev, first)
    offered = member_registration(ev, second)
    lapses = member_registration(ev, third)
    registration_cancel(registration=held, by=first)
    offer_claim(registration=offered)
    registration_cancel(registration=offered, by=second)  # the place moves to the third
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=49)):
        offers_expire()

    assert trail(held) == [
        (first.email, "registered", "", Status.CONFIRMED),
        (first.email, "registration_cancelled", Status.CONFIRMED, Status.CANCELLED),
    ]
    assert trail(offered) == [
        (second.email, "registered", "", Status.WAITING),
        ("system", "place_offered", Status.WAITING, Status.OFFERED),
        (second.email, "offer_accepted", Status.OFFERED, Status.CONFIRMED),
        (second.email, "registration_cancelled", Status.CONFIRMED, Status.CANCELLED),
    ]
    assert trail(lapses)[-2:] == [
        ("system", "place_offered", Status.WAITING, Status.OFFERED),
        ("system", "offer_expired", Status.OFFERED, Status.CANCELLED),
    ]
    assert AuditEntry.objects.filter(target_type="registration", subject=third).count() == 3


def test_a_visitors_registration_and_a_cancelled_event():
    ev = event()
    visitor = registration_create(
        event=ev,
        name="Vic Visitor",
        email="vic@example.org",
        organisation="Hillside Surgery",
        role="Receptionist",
    )
    visitor_confirm(visitor)
    staff = StaffFactory(mfa=True)
    event_cancel(event=ev, by=staff)
    event_cancel(event=ev, by=staff)  # twice: nothing more to record

    assert trail(visitor) == [
        ("vic@example.org", "registered", "", Status.UNCONFIRMED),
        ("vic@example.org", "email_confirmed", Status.UNCONFIRMED, Status.CONFIRMED),
        (staff.email, "event_cancelled", Status.CONFIRMED, Status.CANCELLED),
    ]
    assert AuditEntry.objects.get(target_type="event").actor_label == staff.email
