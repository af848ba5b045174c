"""What the query that reads the signed-in person also reads for the event
pages (``members.authentication.PERSON_FACTS``)."""

import datetime

from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower, Now, Trim

from members.authentication import PERSON_FACTS

from .models import Registration

LIVE_BOOKINGS = "events_live_bookings"
# Whether the person holds a live registration (by account, or made for
# their address) at an event that ended less than this long ago or has yet
# to end: a day more than the event page needs, in case the database's
# clock and the portal's differ.
LIVE_BOOKINGS_SINCE = datetime.timedelta(days=1)


def _live_bookings(user: str) -> Exists:
    return Exists(
        Registration.objects.filter(
            Q(user=OuterRef(user + "id")) | Q(email=Lower(Trim(OuterRef(user + "email")))),
            status__in=Registration.LIVE,
            event__ends_at__gt=Now() - LIVE_BOOKINGS_SINCE,
        )
    )


PERSON_FACTS[LIVE_BOOKINGS] = _live_bookings
