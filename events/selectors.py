"""Reads about one person's registrations."""

from django.db.models import Q
from django.utils import timezone

from members.models import Membership, User

from .models import Event, Registration


def member_in_good_standing(user: User) -> bool:
    """Whether ``user`` may register for a members-only event."""
    return (
        user.is_authenticated
        and Membership.objects.filter(user=user, status__in=Membership.IN_GOOD_STANDING).exists()
    )


def registration_for_person(*, event: Event, user: User) -> Registration | None:
    """The signed-in person's place, or place in the queue, at ``event``:
    theirs by account, or made for their address before they signed in."""
    return (
        Registration.objects.filter(event=event, status__in=Registration.LIVE)
        .filter(Q(user=user) | Q(email=user.email.strip().lower()))
        .first()
    )


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
