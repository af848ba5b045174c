"""Accreditation figures for the staff reports: the pipeline by status and
how long decisions take. Each function aggregates in the database and
returns plain rows; the section of the staff reports page they make is
registered at the end."""

import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Func, Q

from igpm.charts import Series, bar_chart
from members.reports.period import Period
from members.reports.registry import CsvReport, Report, Section, register

from .models import Application

Status = Application.Status
DECIDED = [Status.APPROVED, Status.REJECTED]
SECONDS_PER_DAY = 86_400
# The order an application moves through, for the pipeline.
PIPELINE = [
    Status.DRAFT,
    Status.SUBMITTED,
    Status.IN_REVIEW,
    Status.MORE_INFO,
    Status.APPROVED,
    Status.REJECTED,
    Status.WITHDRAWN,
]


class Median(Aggregate):
    """The middle value: PostgreSQL's ``percentile_cont(0.5)``."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class EpochSeconds(Func):
    """The length of an interval in seconds (PostgreSQL)."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


@dataclass(frozen=True)
class StatusRow:
    status: str
    label: str
    initial: int
    revalidation: int

    @property
    def applications(self) -> int:
        return self.initial + self.revalidation


def status_rows() -> list[StatusRow]:
    """Every application by where it stands now, first applications and
    revalidations apart, in pipeline order (statuses with none included)."""
    counts = {
        status: (initial, revalidation)
        for status, initial, revalidation in Application.objects.values_list("status")
        .annotate(
            initial=Count("pk", filter=Q(kind=Application.Kind.INITIAL)),
            revalidation=Count("pk", filter=Q(kind=Application.Kind.REVALIDATION)),
        )
        .order_by()
    }
    return [StatusRow(status, status.label, *counts.get(status, (0, 0))) for status in PIPELINE]


@dataclass(frozen=True)
class DecisionRow:
    pathway: str
    approved: int
    rejected: int
    median_days: float | None

    @property
    def decided(self) -> int:
        return self.approved + self.rejected


def decision_rows(*, since: datetime.datetime) -> tuple[DecisionRow, list[DecisionRow]]:
    """Applications approved or rejected since ``since``: all
    pathways together, then each pathway with any, most decisions first.

    The time to a decision runs from the latest submission (a resubmission
    after a request for more information restarts it) to the decision.
    """
    decided = Application.objects.filter(
        status__in=DECIDED,
        decided_at__gte=since,
        submitted_at__isnull=False,
    )
    if connection.vendor == "postgresql":
        return _decision_rows_in_database(decided)
    return _decision_rows_in_python(decided)


def _days(value: float | None) -> float | None:
    return None if value is None else round(value / SECONDS_PER_DAY, 1)


def _decision_rows_in_database(decided) -> tuple[DecisionRow, list[DecisionRow]]:
    counts = {
        "decided": Count("pk"),
        "approved": Count("pk", filter=Q(status=Status.APPROVED)),
        "rejected": Count("pk", filter=Q(status=Status.REJECTED)),
        "median": Median(EpochSeconds(F("decided_at") - F("submitted_at"))),
    }
    overall = decided.aggregate(**counts)
    per_pathway = (
        decided.values_list("pathway__name")
        .annotate(**counts)
        .order_by("-decided", "pathway__name")
    )
    rows = [
        DecisionRow(name, approved, rejected, _days(median))
        for name, _, approved, rejected, median in per_pathway
    ]
    total = DecisionRow(
        "All pathways", overall["approved"], overall["rejected"], _days(overall["median"])
    )
    return total, rows


def _decision_rows_in_python(decided) -> tuple[DecisionRow, list[DecisionRow]]:
    """The same figures where the database has no median (SQLite, in the
    demo): one query for the decisions, the middle found here."""
    seconds: dict[str, list[float]] = defaultdict(list)
    outcomes: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for name, status, submitted_at, decided_at in decided.values_list(
        "pathway__name", "status", "submitted_at", "decided_at"
    ).iterator():
        for key in (name, None):
            seconds[key].append((decided_at - submitted_at).total_seconds())
            outcomes[key][0 if status == Status.APPROVED else 1] += 1

    def row(key, label) -> DecisionRow:
        median = statistics.median(seconds[key]) if seconds[key] else None
        return DecisionRow(label, *outcomes[key], _days(median))

    rows = [row(name, name) for name in outcomes if name is not None]
    rows.sort(key=lambda r: (-r.decided, r.pathway))
    return row(None, "All pathways"), rows


# --- The section of the staff reports page -----------------------------------


def _figures(period: Period) -> dict:
    decisions, decisions_by_pathway = decision_rows(since=period.since_at)
    return {
        "statuses": status_rows(),
        "decisions": decisions,
        "decisions_by_pathway": decisions_by_pathway,
    }


def _charts(*, statuses, **_) -> dict:
    return {
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
    }


def _statuses_csv(period: Period):
    for row in status_rows():
        yield [row.label, row.initial, row.revalidation, row.applications]


def _decisions_csv(period: Period):
    overall, by_pathway = decision_rows(since=period.since_at)
    for row in [overall, *by_pathway]:
        yield [row.pathway, row.decided, row.approved, row.rejected, row.median_days]


register(
    Report(
        name="accreditation",
        template="accreditation/staff/report.html",
        sections=(Section("accreditation", "Accreditation pipeline"),),
        figures=_figures,
        charts=_charts,
        csvs={
            "accreditation": CsvReport(
                ["status", "first accreditation", "revalidation", "applications"], _statuses_csv
            ),
            "decision-times": CsvReport(
                ["pathway", "decided", "approved", "rejected", "median days to decision"],
                _decisions_csv,
            ),
        },
    )
)
