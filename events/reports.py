"""Events figures for the staff reports: how full events were and how many
of those booked came. Each function aggregates in the database and returns
plain rows.

An event's *places* are its capacity; *booked* are registrations holding a
place (confirmed, or offered and not yet answered); the *fill rate* is
booked over places; *waiting* are still on the waiting list. *Attended* are
those checked in on the day; the *attendance rate* is attended over
confirmed places, for events that have started. Drafts and cancelled events
are left out.

The section of the staff reports page these make is registered at the end.
"""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.utils import timezone

from igpm.charts import Series, bar_chart
from members.reports.period import Period, percent
from members.reports.registry import CsvReport, Report, Section, register

from .models import Event, Registration

RegStatus = Registration.Status
TYPES = dict(Event.Type.choices)


def rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _events(since: datetime.datetime):
    return Event.objects.filter(status=Event.Status.PUBLISHED, starts_at__gte=since)


@dataclass(frozen=True)
class TypeRow:
    label: str
    events: int
    places: int
    booked: int
    confirmed_started: int  # confirmed places at events that have started
    attended: int

    @property
    def fill_rate(self) -> float | None:
        return rate(self.booked, self.places)

    @property
    def attendance_rate(self) -> float | None:
        return rate(self.attended, self.confirmed_started)


def type_rows(*, since: datetime.datetime, now: datetime.datetime) -> list[TypeRow]:
    """Per type of event, for events starting from ``since`` (those still
    to come included): two queries, one over events and one over their
    registrations, so capacities are not counted once per registration."""
    events = {
        kind: (count, places or 0)
        for kind, count, places in _events(since)
        .values_list("type")
        .annotate(count=Count("pk"), places=Sum("capacity"))
        .order_by()
    }
    registrations = {
        kind: rest
        for kind, *rest in Registration.objects.filter(event__in=_events(since).values("pk"))
        .values_list("event__type")
        .annotate(
            booked=Count("pk", filter=Q(status__in=Registration.HOLDS_PLACE)),
            confirmed_started=Count(
                "pk", filter=Q(status=RegStatus.CONFIRMED, event__starts_at__lte=now)
            ),
            attended=Count("pk", filter=Q(checked_in_at__isnull=False)),
        )
        .order_by()
    }
    return [
        TypeRow(label, *events[kind], *registrations.get(kind, (0, 0, 0)))
        for kind, label in Event.Type.choices
        if kind in events
    ]


@dataclass(frozen=True)
class EventRow:
    pk: int
    title: str
    type: str
    starts_at: datetime.datetime
    places: int
    booked: int
    waiting: int
    confirmed: int
    attended: int
    started: bool

    @property
    def fill_rate(self) -> float | None:
        return rate(self.booked, self.places)

    @property
    def attendance_rate(self) -> float | None:
        return rate(self.attended, self.confirmed) if self.started else None


def event_rows(
    *, since: datetime.datetime, now: datetime.datetime, limit: int | None = None
) -> Iterator[EventRow]:
    """Each event starting from ``since``, latest first, with its counts:
    one query, read in chunks. ``limit`` keeps only the latest events."""
    events = (
        _events(since)
        .annotate(
            booked=Count(
                "registrations", filter=Q(registrations__status__in=Registration.HOLDS_PLACE)
            ),
            waiting=Count("registrations", filter=Q(registrations__status=RegStatus.WAITING)),
            confirmed=Count("registrations", filter=Q(registrations__status=RegStatus.CONFIRMED)),
            attended=Count("registrations", filter=Q(registrations__checked_in_at__isnull=False)),
        )
        .order_by("-starts_at", "-pk")
        .values_list(
            "pk",
            "title",
            "type",
            "starts_at",
            "capacity",
            "booked",
            "waiting",
            "confirmed",
            "attended",
        )
    )
    if limit is not None:
        events = events[:limit]
    for pk, title, kind, starts_at, *counts in events.iterator(chunk_size=500):
        yield EventRow(pk, title, TYPES.get(kind, kind), starts_at, *counts, starts_at <= now)


# --- The section of the staff reports page -----------------------------------

# Events listed on the page; the CSV has every one in the period.
EVENTS_ON_PAGE = 30


def _figures(period: Period) -> dict:
    return {
        "event_types": type_rows(since=period.since_at, now=period.now),
        "events": list(event_rows(since=period.since_at, now=period.now, limit=EVENTS_ON_PAGE)),
    }


def _totals(*, event_types, **_) -> dict:
    return {
        "events_total": sum(row.events for row in event_types),
        "events_on_page": EVENTS_ON_PAGE,
    }


def _charts(*, event_types, **_) -> dict:
    return {
        "events": bar_chart(
            chart_id="chart-events",
            title="Fill and attendance rates by type of event",
            labels=[row.label for row in event_types],
            series=[
                Series("Fill rate", [row.fill_rate for row in event_types]),
                Series("Attendance rate", [row.attendance_rate for row in event_types]),
            ],
            unit="%",
            maximum=100,
        ),
    }


def _events_csv(period: Period):
    for row in event_rows(since=period.since_at, now=period.now):
        yield [
            row.title,
            row.type,
            timezone.localtime(row.starts_at).strftime("%Y-%m-%d %H:%M"),
            row.places,
            row.booked,
            percent(row.fill_rate),
            row.waiting,
            row.confirmed,
            row.attended,
            percent(row.attendance_rate),
        ]


register(
    Report(
        name="events",
        template="events/staff/report.html",
        sections=(Section("events", "Events: fill rates and attendance"),),
        figures=_figures,
        totals=_totals,
        charts=_charts,
        csvs={
            "events": CsvReport(
                [
                    "event",
                    "type",
                    "starts (UK time)",
                    "places",
                    "booked",
                    "fill rate %",
                    "waiting",
                    "confirmed",
                    "attended",
                    "attendance rate %",
                ],
                _events_csv,
            ),
        },
    )
)
