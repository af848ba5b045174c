"""Reads about one person's registrations."""

from django.db.models import Q
from django.utils import timezone

from igpm.compiled import STAND_IN_IDS, STAND_IN_TEXT, CompiledQuery, columns, instance
from members.authentication import person_fact
from members.billing.selectors import membership_as_signed_in
from members.models import Membership, User

from .models import Event, Registration
from .signed_in import LIVE_BOOKINGS


def member_in_good_standing(user: User) -> bool:
    """Whether ``user`` may register for a members-only event (by the
    membership read with them as the request began)."""
    membership = membership_as_signed_in(user=user)
    return membership is not None and membership.status in Membership.IN_GOOD_STANDING


def _live_for_person(*, event_id, user_id, email):
    return (
        Registration.objects.filter(event=event_id, status__in=Registration.LIVE)
        .filter(Q(user=user_id) | Q(email=email))
        .order_by("created_at", "pk")
        .values(*columns(Registration))[:1]
    )


# Every signed-in view of an event page asks it.
_LIVE_FOR_PERSON = CompiledQuery(
    _live_for_person, event_id=STAND_IN_IDS[0], user_id=STAND_IN_IDS[1], email=STAND_IN_TEXT
)


def registration_for_person(*, event: Event, user: User) -> Registration | None:
    """The signed-in person's place, or place in the queue, at ``event``:
    theirs by account, or made for their address before they signed in.
    Not looked for where the person was read holding no live registration
    at any event this one could be (``signed_in``)."""
    live = person_fact(user, LIVE_BOOKINGS)
    if live is not None and not live and event.ends_at > timezone.now():
        return None
    found = _LIVE_FOR_PERSON.rows(
        event_id=event.pk, user_id=user.pk, email=user.email.strip().lower()
    )
    return instance(Registration, found[0]) if found else None


def member_registrations(*, user: User) -> list[Registration]:
    """Everything ``user`` has registered for, soonest first, in one
    query however many there are."""
    return list(
        Registration.objects.filter(user=user)
        .exclude(status=Registration.Status.UNCONFIRMED)
        .select_related("event")
        .order_by("event__starts_at", "pk")
    )


def registrations_split(
    registrations: list[Registration],
) -> tuple[list[Registration], list[Registration]]:
    """Upcoming (not yet ended, soonest first) and past (latest first)."""
    now = timezone.now()
    upcoming = [r for r in registrations if r.event.ends_at >= now]
    past = [r for r in registrations if r.event.ends_at < now]
    return upcoming, past[::-1]
