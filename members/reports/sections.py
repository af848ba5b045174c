"""Members' part of the staff reports: members by grade and by region,
joiners, renewals and lapses, retention, renewals due and members in grace;
then how members pay (collection methods, automatic renewals due, failed
collections). Shown first, as the lowest layer."""

from igpm.charts import Series, bar_chart, line_chart
from members.billing.models.membership import format_pence

from . import collection, membership, summary
from .period import Period, month_label, month_ticks, percent, rate
from .registry import CsvReport, Report, Section, register

MOVEMENTS = ("joined", "renewed", "rejoined", "lapsed")


def _figures(period: Period) -> dict:
    regions, boards = membership.place_rows(period)
    return {
        "grades": membership.grade_rows(today=period.today),
        "movement": summary.movement_rows(today=period.today),
        "retention": summary.retention_rows(today=period.today),
        "regions": regions,
        "boards": boards,
    }


def _totals(*, grades, movement, retention, **_) -> dict:
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
        "retention_rate": rate(renewed, ended),
    }


def _charts(*, grades, regions, movement, retention, **_) -> dict:
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
    }


# --- CSV downloads ---------------------------------------------------------------


def _grades(period: Period):
    for row in membership.grade_rows(today=period.today):
        yield [row.grade, row.active, row.in_grace, row.members]


def _regions(period: Period):
    regions, _ = membership.place_rows(period)
    for row in regions:
        yield [row.name, row.members]


def _boards(period: Period):
    _, boards = membership.place_rows(period)
    for row in boards:
        yield [row.name, row.nation, row.region, row.members]


def _movement(period: Period):
    for row in summary.movement_rows(today=period.today):
        yield [row.month.strftime("%Y-%m"), row.joined, row.renewed, row.rejoined, row.lapsed]


def _retention(period: Period):
    for row in summary.retention_rows(today=period.today):
        yield [row.month.strftime("%Y-%m"), row.ended, row.renewed, row.lapsed, percent(row.rate)]


def _due(period: Period):
    for row in membership.grade_rows(today=period.today):
        yield [row.grade, row.due_soon, row.due_later, row.due]


def _grace(period: Period):
    for row in membership.grade_rows(today=period.today):
        yield [row.grade, row.in_grace, row.grace_week, row.grace_fortnight, row.grace_later]


register(
    Report(
        name="membership",
        template="members/staff/reports/membership.html",
        sections=(
            Section("grades", "Members by grade"),
            Section("regions", "Members by region and ICB"),
            Section("movement", "Joiners, renewals and lapses"),
            Section("retention", "Retention rate"),
            Section("renewals-due", "Renewals due"),
            Section("grace", "Members in grace"),
        ),
        figures=_figures,
        totals=_totals,
        charts=_charts,
        csvs={
            "grades": CsvReport(["grade", "active", "in grace", "members"], _grades),
            "regions": CsvReport(["region or nation", "members"], _regions),
            "care-boards": CsvReport(
                ["ICB or health board", "nation", "region", "members"], _boards
            ),
            "movement": CsvReport(["month", "joined", "renewed", "rejoined", "lapsed"], _movement),
            "retention": CsvReport(
                ["month of expiry", "paid years ended", "renewed", "lapsed", "retention rate %"],
                _retention,
            ),
            "renewals-due": CsvReport(
                ["grade", "due within 30 days", "due in 31 to 60 days", "due within 60 days"],
                _due,
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
        },
    )
)


# --- How members pay: automatic renewal ---------------------------------------------


def _collection_figures(period: Period) -> dict:
    methods, pending, retrying = collection.method_rows()
    failed, failed_total = collection.failed_rows(today=period.today)
    return {
        "collection_methods": methods,
        "mandates_pending": pending,
        "collections_retrying": retrying,
        "auto_due": collection.due_rows(today=period.today),
        "failed_collections": failed,
        "failed_collections_total": failed_total,
    }


def _collection_totals(*, collection_methods, auto_due, **_) -> dict:
    return {
        "automatic_total": sum(row.members for row in collection_methods[:2]),
        "auto_due_30": sum(row.within_30 for row in auto_due),
        "auto_due_60": sum(row.within_60 for row in auto_due),
        "auto_due_amount_60": format_pence(sum(row.amount_60_pence for row in auto_due)),
    }


def _methods_csv(period: Period):
    rows, _, _ = collection.method_rows()
    for row in rows:
        yield [row.label, row.members]


def _auto_due_csv(period: Period):
    for row in collection.due_rows(today=period.today):
        yield [
            row.method, row.within_30, row.within_60,
            f"{row.amount_30_pence / 100:.2f}", f"{row.amount_60_pence / 100:.2f}",
        ]  # fmt: skip


def _failed_csv(period: Period):
    for renewal in collection.failed_this_month(today=period.today).iterator(chunk_size=2000):
        row = collection.failed_row(renewal)
        yield [row.number, row.name, row.method, row.failed_at.isoformat(), row.message, row.state]


register(
    Report(
        name="collection",
        template="members/staff/reports/collection.html",
        sections=(
            Section("collection-methods", "Members by collection method"),
            Section("automatic-renewals-due", "Automatic renewals due"),
            Section("failed-collections", "Failed collections this month"),
        ),
        figures=_collection_figures,
        totals=_collection_totals,
        csvs={
            "collection-methods": CsvReport(["collection method", "members"], _methods_csv),
            "automatic-renewals-due": CsvReport(
                [
                    "collected by",
                    "due within 30 days",
                    "due within 60 days",
                    "amount within 30 days (GBP)",
                    "amount within 60 days (GBP)",
                ],
                _auto_due_csv,
            ),
            "failed-collections": CsvReport(
                ["membership number", "member", "collected by", "failed at", "reason", "state"],
                _failed_csv,
            ),
        },
    )
)
