"""Organisation accounts in the privacy registry (``members.privacy.registry``).

The seats a member held and their administrator roles are theirs:
exported, and kept or removed on erasure. The organisation's own records
(the account, its years, seats and reminders) are about the organisation,
not a person.
"""

from django.db.models import Q

from members.privacy.actions import Anonymise, Delete, Keep
from members.privacy.registry import NOT_PERSONAL, Holding, register

from .models import OrganisationAdministrator, SeatHolding, SeatInvitation

register(
    Holding(
        model=OrganisationAdministrator,
        rows=lambda user: OrganisationAdministrator.objects.filter(user=user),
        erase=Delete(),
        section="organisation_roles",
        about="The organisation accounts you administer.",
    ),
    Holding(
        model=SeatInvitation,
        rows=lambda user: SeatInvitation.objects.filter(
            Q(email__iexact=user.email) | Q(accepted_by=user) | Q(invited_by=user)
        ),
        erase=Anonymise({"email": "erased@invalid"}),
        section="seat_invitations",
        about="Invitations to take an organisation's seat that were sent to you or by you.",
        exclude=frozenset({"token"}),
    ),
    Holding(
        model=SeatHolding,
        rows=lambda user: SeatHolding.objects.filter(Q(user=user) | Q(released_by=user)),
        erase=Keep("which seat covered each year, part of the organisation's payment record"),
        section="organisation_seats",
        about="The organisation seats you held, and when.",
    ),
)

NOT_PERSONAL.update(
    {
        "members.OrganisationAccount": "an organisation's account: its name, code and "
        "billing address, not a person's",
        "members.OrganisationMembership": "an organisation's year of membership",
        "members.OrganisationNotice": "a reminder to an organisation, kind and date only",
        "members.Seat": "a numbered seat of an organisation's year",
    }
)
