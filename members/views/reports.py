"""Staff reports: one page of figures with charts and tables, a CSV for
each section, and the member list for the membership team.

Every figure comes from an aggregate in the database (``members.reports``,
``accreditation.reports``, ``events.reports``): the page runs the same
queries with ten members or a hundred thousand.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from accreditation import reports as accreditation_reports
from events import reports as events_reports
from igpm.charts import Series, bar_chart, line_chart
from igpm.csv import csv_response
from members import reports
from members.access import staff_permission_required

reports_required = staff_permission_required(
    "members.view_reports", "Reports are for staff with the reports permission."
)
member_list_required = staff_permission_required(
    "members.find_members", "The member list is for staff who may look members up."
)
# Events listed on the page; the CSV has every one in the period.
EVENTS_ON_PAGE = 30


@dataclass(frozen=True)
class Period:
    """What "now" and "the last 12 months" mean for one set of figures."""

    today: datetime.date
    now: datetime.datetime
    months: list[datetime.date]

    @classmethod
    def current(cls) -> "Period":
        now = timezone.now()
        today = timezone.localdate(now)
        return cls(today=today, now=now, months=reports.last_months(today))

    @property
    def since(self) -> datetime.date:
        return self.months[0]

    @property
    def since_at(self) -> datetime.datetime:
        return reports.uk_midnight(self.since)


def month_label(month: datetime.date) -> str:
    return month.strftime("%b %Y")


def month_ticks(months: list[datetime.date]) -> list[str]:
    """Short labels under a chart: the year, on a line of its own, only
    where it changes."""
    return [
        month.strftime("%b\n%Y" if i == 0 or month.month == 1 else "%b")
        for i, month in enumerate(months)
    ]


def percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


MOVEMENTS = ("joined", "renewed", "rejoined", "lapsed")


@reports_required
def reports_page(request: HttpRequest) -> HttpResponse:
    if settings.REPORTS_CACHE_SECONDS:
        # Keyed by the day, since "today" is part of every figure.
        period, figures = cache.get_or_set(
            f"members:reports:{timezone.localdate().isoformat()}",
            _figures,
            settings.REPORTS_CACHE_SECONDS,
        )
    else:
        period, figures = _figures()
    return render(
        request,
        "members/staff/reports.html",
        {
            **figures,
            **_totals(**figures),
            "period": period,
            "cached_for_minutes": settings.REPORTS_CACHE_SECONDS // 60,
            "events_on_page": EVENTS_ON_PAGE,
            "charts": _charts(**figures),
        },
    )


def _figures() -> tuple["Period", dict]:
    """Every figure on the page, worked out now."""
    period = Period.current()
    figures = {
        "grades": reports.grade_rows(today=period.today),
        "movement": reports.movement_rows(today=period.today),
        "retention": reports.retention_rows(today=period.today),
        "statuses": accreditation_reports.status_rows(),
        "event_types": events_reports.type_rows(since=period.since_at, now=period.now),
        "events": list(
            events_reports.event_rows(since=period.since_at, now=period.now, limit=EVENTS_ON_PAGE)
        ),
    }
    figures["regions"], figures["boards"] = reports.place_rows()
    figures["decisions"], figures["decisions_by_pathway"] = accreditation_reports.decision_rows(
        since=period.since_at
    )
    return period, figures


def _totals(*, grades, movement, retention, event_types, **_) -> dict:
    ended = sum(row.ended for row in retention)
    renewed = sum(row.renewed for row in retention)
    return {
        "members_total": sum(row.members for row in grades),
        "in_grace_total": sum(row.in_grace for row in grades),
        "due_soon_total": sum(row.due_soon for row in grades),
        "due_total": sum(row.due for row in grades),
        "movement_totals": {
            name: sum(getattr(row, name) for row in movement) for name in MOVEMENTS
        },
        "retention_ended": ended,
        "retention_renewed": renewed,
        "retention_rate": reports.rate(renewed, ended),
        "events_total": sum(row.events for row in event_types),
    }


def _charts(*, grades, regions, movement, retention, statuses, event_types, **_) -> dict:
    grade_names = [row.grade for row in grades]
    return {
        "grades": bar_chart(
            chart_id="chart-grades",
            title="Members in good standing by grade",
            labels=grade_names,
            series=[
                Series("Active", [row.active for row in grades]),
                Series("In grace", [row.in_grace for row in grades]),
            ],
            stacked=True,
        ),
        "regions": bar_chart(
            chart_id="chart-regions",
            title="Members in good standing by region or nation",
            labels=[row.name for row in regions],
            series=[Series("Members", [row.members for row in regions])],
        ),
        "movement": line_chart(
            chart_id="chart-movement",
            title="Joined, renewed, rejoined and lapsed each month",
            labels=[month_label(row.month) for row in movement],
            ticks=month_ticks([row.month for row in movement]),
            series=[
                Series(name.capitalize(), [getattr(row, name) for row in movement])
                for name in MOVEMENTS
            ],
        ),
        "retention": line_chart(
            chart_id="chart-retention",
            title="Retention rate by month of expiry",
            labels=[month_label(row.month) for row in retention],
            ticks=month_ticks([row.month for row in retention]),
            series=[Series("Renewed", [row.rate for row in retention])],
            unit="%",
            maximum=100,
        ),
        "due": bar_chart(
            chart_id="chart-due",
            title="Renewals due in the next 60 days by grade",
            labels=grade_names,
            series=[
                Series("Within 30 days", [row.due_soon for row in grades]),
                Series("In 31 to 60 days", [row.due_later for row in grades]),
            ],
            stacked=True,
        ),
        "grace": bar_chart(
            chart_id="chart-grace",
            title="Members in grace by grade and when their grace ends",
            labels=grade_names,
            series=[
                Series("Grace ends within 7 days", [row.grace_week for row in grades]),
                Series("In 8 to 14 days", [row.grace_fortnight for row in grades]),
                Series("In 15 to 30 days", [row.grace_later for row in grades]),
            ],
            stacked=True,
        ),
        "statuses": bar_chart(
            chart_id="chart-statuses",
            title="Accreditation applications by status",
            labels=[row.label for row in statuses],
            series=[
                Series("First accreditation", [row.initial for row in statuses]),
                Series("Revalidation", [row.revalidation for row in statuses]),
            ],
            stacked=True,
        ),
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


# --- CSV downloads ---------------------------------------------------------------


@dataclass(frozen=True)
class CsvReport:
    header: list[str]
    rows: Callable[[Period], Iterable[Iterable[object]]]


def _grades(period: Period):
    for row in reports.grade_rows(today=period.today):
        yield [row.grade, row.active, row.in_grace, row.members]


def _regions(period: Period):
    regions, _ = reports.place_rows()
    for row in regions:
        yield [row.name, row.members]


def _boards(period: Period):
    _, boards = reports.place_rows()
    for row in boards:
        yield [row.name, row.nation, row.region, row.members]


def _movement(period: Period):
    for row in reports.movement_rows(today=period.today):
        yield [row.month.strftime("%Y-%m"), row.joined, row.renewed, row.rejoined, row.lapsed]


def _retention(period: Period):
    for row in reports.retention_rows(today=period.today):
        yield [row.month.strftime("%Y-%m"), row.ended, row.renewed, row.lapsed, percent(row.rate)]


def _due(period: Period):
    for row in reports.grade_rows(today=period.today):
        yield [row.grade, row.due_soon, row.due_later, row.due]


def _grace(period: Period):
    for row in reports.grade_rows(today=period.today):
        yield [row.grade, row.in_grace, row.grace_week, row.grace_fortnight, row.grace_later]


def _statuses(period: Period):
    for row in accreditation_reports.status_rows():
        yield [row.label, row.initial, row.revalidation, row.applications]


def _decisions(period: Period):
    overall, by_pathway = accreditation_reports.decision_rows(since=period.since_at)
    for row in [overall, *by_pathway]:
        yield [row.pathway, row.decided, row.approved, row.rejected, row.median_days]


def _events(period: Period):
    for row in events_reports.event_rows(since=period.since_at, now=period.now):
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


CSV_REPORTS = {
    "grades": CsvReport(["grade", "active", "in grace", "members"], _grades),
    "regions": CsvReport(["region or nation", "members"], _regions),
    "care-boards": CsvReport(["ICB or health board", "nation", "region", "members"], _boards),
    "movement": CsvReport(["month", "joined", "renewed", "rejoined", "lapsed"], _movement),
    "retention": CsvReport(
        ["month of expiry", "paid years ended", "renewed", "lapsed", "retention rate %"],
        _retention,
    ),
    "renewals-due": CsvReport(
        ["grade", "due within 30 days", "due in 31 to 60 days", "due within 60 days"], _due
    ),
    "grace": CsvReport(
        [
            "grade",
            "in grace",
            "grace ends within 7 days",
            "grace ends in 8 to 14 days",
            "grace ends in 15 to 30 days",
        ],
        _grace,
    ),
    "accreditation": CsvReport(
        ["status", "first accreditation", "revalidation", "applications"], _statuses
    ),
    "decision-times": CsvReport(
        ["pathway", "decided", "approved", "rejected", "median days to decision"], _decisions
    ),
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
        _events,
    ),
}


@reports_required
def report_csv(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    report = CSV_REPORTS.get(slug)
    if report is None:
        raise Http404("No such report.")
    period = Period.current()
    return csv_response(
        filename=f"igpm-{slug}-{period.today.isoformat()}.csv",
        header=report.header,
        rows=report.rows(period),
    )


@member_list_required
def member_export(request: HttpRequest) -> StreamingHttpResponse:
    """Every membership with its member's details: personal data, for
    those who may look members up. Streamed a chunk of rows at a time."""
    return csv_response(
        filename=f"igpm-members-{timezone.localdate().isoformat()}.csv",
        header=reports.MEMBER_EXPORT_HEADER,
        rows=reports.member_export_rows(),
    )
