"""Events' panels on members' pages (``members.panels``): the member's
registrations on the staff member record, and their events on their
dashboard."""

from django.db.models import Exists

from members.panels import Panel, register_dashboard_panel, register_record_panel

from .models import Registration
from .selectors import member_registrations, registrations_split

# The dashboard lists this many upcoming events; "My events" has them all.
DASHBOARD_SHOWN = 3


def _record_events(*, member) -> dict:
    return {
        "registrations": list(
            Registration.objects.filter(user=member)
            .select_related("event")
            .order_by("-event__starts_at", "-pk")
        )
    }


def _has_registrations(*, member_id, today) -> Exists:
    return Exists(
        Registration.objects.filter(user=member_id).exclude(status=Registration.Status.UNCONFIRMED)
    )


def _dashboard_events(*, member, membership) -> dict:
    """One query: the member's registrations, split in Python."""
    upcoming, past = registrations_split(member_registrations(user=member))
    live = [r for r in upcoming if r.status != Registration.Status.CANCELLED]
    return {"upcoming": live[:DASHBOARD_SHOWN], "past_count": len(past)}


register_record_panel(
    Panel(
        name="events",
        template="events/panels/record_events.html",
        load=_record_events,
        anchor="events-heading",
        title="Events",
    )
)
register_dashboard_panel(
    Panel(
        name="events",
        template="events/panels/dashboard_events.html",
        load=_dashboard_events,
        # What _dashboard_events gives a member with no registrations.
        shown_if=_has_registrations,
        empty={"upcoming": [], "past_count": 0},
    )
)
