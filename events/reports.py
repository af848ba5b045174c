"""Events figures for the staff reports: how full events were and how many
of those booked came, from one aggregate over the events in the period and
their registrations.

An event's *places* are its capacity; *booked* are registrations holding a
place (confirmed, or offered and not yet answered); the *fill rate* is
booked over places; *waiting* are still on the waiting list. *Attended* are
those checked in on the day; the *attendance rate* is attended over
confirmed places, for events that have started. Drafts and cancelled events
are left out.

The section of the staff reports page these make is registered at the end.
"""

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import Count, Q
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


def type_rows(events: Iterable[EventRow]) -> list[TypeRow]:
    """Per type of event, the totals of ``events`` (as ``event_rows`` gives
    them), in the order the types are offered: no query of its own."""
    totals: dict[str, list[int]] = {}
    for row in events:
        counts = totals.setdefault(row.type, [0, 0, 0, 0, 0])
        counts[0] += 1
        counts[1] += row.places
        counts[2] += row.booked
        counts[3] += row.confirmed if row.started else 0
        counts[4] += row.attended
    return [TypeRow(label, *totals[label]) for label in TYPES.values() if label in totals]


# --- The section of the staff reports page -----------------------------------

# Events listed on the page; the CSV has every one in the period.
EVENTS_ON_PAGE = 30


def _figures(period: Period) -> dict:
    # Every event in the period, in one query: the totals by type are
    # theirs, and the page lists the latest.
    events = list(event_rows(since=period.since_at, now=period.now))
    return {"event_types": type_rows(events), "events": events[:EVENTS_ON_PAGE]}


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
