"""iCalendar (.ics) for events: one event, or the feed of all of them."""

import datetime
from collections.abc import Iterable

import icalendar
from django.conf import settings
from django.utils import timezone

from .models import Event

PRODID = "-//Institute of General Practice Management//Events//EN"


def _vevent(event: Event, *, joining_link: str = "", checkin_code: str = "") -> icalendar.Event:
    item = icalendar.Event()
    item.add("uid", f"event-{event.pk}@igpm.org.uk")
    item.add("dtstamp", timezone.now())
    # Times in UTC: calendar apps show them in the reader's own time zone,
    # correct on either side of the clocks changing.
    item.add("dtstart", event.starts_at.astimezone(datetime.UTC))
    item.add("dtend", event.ends_at.astimezone(datetime.UTC))
    item.add("summary", event.title)
    description = event.summary
    if joining_link:
        description += f"\n\nJoin online: {joining_link}"
    if checkin_code:
        # The door code only: the link that manages the place stays in the
        # email, as a calendar entry is often shared with colleagues.
        description += f"\n\nYour check-in code: {checkin_code}"
    item.add("description", description)
    item.add("location", "Online" if event.is_online else event.venue.replace("\n", ", "))
    item.add("url", settings.SITE_URL + event.get_absolute_url())
    if event.status == Event.Status.CANCELLED:
        item.add("status", "CANCELLED")
    return item


def calendar_for(
    events: Iterable[Event], *, joining_link: str = "", checkin_code: str = ""
) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "IGPM events")
    for event in events:
        calendar.add_component(
            _vevent(event, joining_link=joining_link, checkin_code=checkin_code)
        )
    return calendar.to_ical()
