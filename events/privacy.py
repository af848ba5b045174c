"""What events holds about a member, for the privacy registry: their
registrations (booked signed in, or as a visitor under their email address)
and the emails sent about them."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from members.models import User
from members.privacy.actions import Custom, Erasing, Keep
from members.privacy.registry import Holding, register

from .models import Registration, RegistrationEmail
from .retention import registrations_anonymise
from .services import registration_cancel


def _registrations(user: User) -> QuerySet:
    """Places booked signed in, and any booked as a visitor (no account)
    with the same email address. Another member's places are never theirs,
    even under an address this member now uses."""
    return Registration.objects.filter(
        Q(user=user) | Q(user__isnull=True, email__iexact=user.email)
    )


def _registrations_erase(rows: QuerySet, erasing: Erasing) -> int:
    upcoming = rows.filter(event__starts_at__gt=timezone.now()).exclude(
        status=Registration.Status.CANCELLED
    )
    for registration in upcoming:
        # A place held goes to the next person waiting; no email to the
        # member, whose address is about to go.
        registration_cancel(registration=registration, by=erasing.by, notify=False)
    return registrations_anonymise(rows)


register(
    Holding(
        model=Registration,
        rows=_registrations,
        erase=Custom(
            _registrations_erase,
            "places at future events cancelled (freed for the waiting list); "
            "every registration kept for attendance counts with name, email, "
            "organisation, role and access and dietary needs removed",
        ),
        section="event_registrations",
        about="Your event registrations, including any made as a visitor with your email address.",
    ),
    Holding(
        model=RegistrationEmail,
        rows=lambda user: RegistrationEmail.objects.filter(registration__in=_registrations(user)),
        erase=Keep("the kind and date of each event email, nothing else"),
        section="event_emails",
        about="Emails sent to you about your event registrations.",
    ),
)
