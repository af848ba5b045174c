"""The parts of the event pages that are the same for every viewer, rendered
once per version of the event and kept in each process's memory.

An event's version is its ``updated_at``: every change to it, in the admin
or through the services (capacity, cancelling), saves the row and so moves
it, and the pages read the row on every request anyway. Places left are not
in any part: they are counted on every request, so a registration shows at
once. Nothing about the viewer is either: who is booked, their details, the
form and its CSRF token are rendered per request. Nor is the link to an
umbrella event, whose title is another row's.

In memory, not in the shared cache: a key names a version, so a process can
never serve an old one, and on a loaded machine a round trip to Redis costs
as much as rendering the part. A deploy starts new processes, so new markup
shows at once.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from igpm.memo import memory

from .models import Event

BODY_TEMPLATES = {
    "facts": "events/includes/event_facts.html",
    "about": "events/includes/event_about.html",
}
CARD_TEMPLATE = "events/includes/event_card.html"


def version(event: Event) -> tuple:
    """What the shared parts of an event's pages depend on: it moves on
    every save of the event, which sets ``updated_at``."""
    return (event.pk, event.updated_at)


def _get(kind: str, event: Event, render) -> object:
    # With DEBUG on, an edited template shows at once.
    if settings.DEBUG:
        return render()
    key = (kind, *version(event))
    value = memory.get(key)
    if value is None:
        value = render()
        memory.set(key, value)
    return value


def event_body(event: Event) -> dict[str, SafeString]:
    """The event page's shared parts, by name (see ``BODY_TEMPLATES``)."""

    def render() -> dict[str, SafeString]:
        # Rendered by the portal's own templates, escaped as they rendered.
        return {
            name: mark_safe(render_to_string(template, {"event": event}))  # noqa: S308
            for name, template in BODY_TEMPLATES.items()
        }

    return _get("body", event, render)


def event_cards(events: list[Event]) -> list[SafeString]:
    """Each listed event's card, in order; only those not yet in memory
    are rendered."""
    return [
        _get("card", event, lambda event=event: render_to_string(CARD_TEMPLATE, {"event": event}))
        for event in events
    ]
