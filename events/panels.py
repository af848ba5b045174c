"""Events' panel on the staff member record (``members.panels``): the
member's registrations."""

from members.panels import Panel, register_record_panel

from .models import Registration


def _record_events(*, member) -> dict:
    return {
        "registrations": list(
            Registration.objects.filter(user=member)
            .select_related("event")
            .order_by("-event__starts_at", "-pk")
        )
    }


register_record_panel(
    Panel(
        name="events",
        template="events/panels/record_events.html",
        load=_record_events,
        anchor="events-heading",
        title="Events",
    )
)
