"""Events' part of the demo data (``members.demo``): the next National
Practice Manager Day with local celebrations, and a webinar."""

import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from members.demo import register

from .models import Event


@register
def events_seed() -> None:
    """The next National Practice Manager Day with local celebrations,
    and a webinar."""
    if Event.objects.exists():
        return
    london = ZoneInfo("Europe/London")
    now = timezone.now()
    day = datetime.date(now.year if now.month < 4 else now.year + 1, 4, 21)

    def at(hour: int, minute: int = 0, on: datetime.date = day) -> datetime.datetime:
        return datetime.datetime.combine(on, datetime.time(hour, minute), tzinfo=london)

    common = {"registration_opens_at": now, "status": Event.Status.PUBLISHED}
    npm_day = Event.objects.create(
        title=f"National Practice Manager Day {day.year}",
        slug=f"national-practice-manager-day-{day.year}",
        type=Event.Type.NPM_DAY,
        summary="A day to recognise the managers who keep general practice running.",
        description="Join the national online celebration in the morning, then "
        "find a local celebration hosted by your ICB or practice.",
        starts_at=at(9, 30),
        ends_at=at(12),
        is_online=True,
        joining_link="https://meet.example.org/npm-day",
        capacity=1000,
        registration_closes_at=at(9),
        cpd_hours=2,
        **common,
    )
    for slug, title, host, region, venue in [
        (
            "npm-day-manchester",
            "Greater Manchester celebration lunch",
            "NHS Greater Manchester ICB",
            Event.Region.NORTH_WEST,
            "Old Trafford Conference Centre, Manchester",
        ),
        (
            "npm-day-london",
            "North Central London practice managers' afternoon",
            "NHS North Central London ICB",
            Event.Region.LONDON,
            "The Wellcome Collection, Euston Road, London",
        ),
        (
            "npm-day-cardiff",
            "Cardiff and Vale celebration",
            "Cardiff and Vale UHB",
            Event.Region.WALES,
            "Cardiff City Hall",
        ),
    ]:
        Event.objects.create(
            title=title,
            slug=slug,
            type=Event.Type.NPM_DAY,
            umbrella=npm_day,
            summary=f"A National Practice Manager Day celebration, hosted by {host}.",
            description="Lunch, a talk from local leaders and time to meet colleagues.",
            starts_at=at(12, 30),
            ends_at=at(15),
            venue=venue,
            capacity=60,
            registration_closes_at=at(9),
            host_type=Event.HostType.ICB,
            host_name=host,
            region=region,
            cpd_hours=1.5,
            **common,
        )
    webinar_day = timezone.localdate() + datetime.timedelta(days=14)
    Event.objects.create(
        title="Webinar: preparing for a CQC inspection",
        slug="webinar-cqc-inspection",
        type=Event.Type.WEBINAR,
        summary="What inspectors look for, and how practice managers prepare.",
        description="An hour with a former inspector and two practice managers.",
        starts_at=at(13, on=webinar_day),
        ends_at=at(14, on=webinar_day),
        is_online=True,
        joining_link="https://meet.example.org/igpm-cqc",
        capacity=3,
        registration_closes_at=at(12, on=webinar_day),
        members_only=True,
        cpd_hours=1,
        **common,
    )
