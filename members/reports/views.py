"""Staff reports: one page of figures with charts and tables, a CSV for
each section, and the member list for the membership team.

The page shows every app's registered report (``members.reports.registry``)
in order. Every figure comes from an aggregate in the database: the page
runs no more queries with a hundred thousand members than with ten.
"""

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from igpm.csv import csv_copy_response, csv_response
from members import reports
from members.access import staff_permission_required
from members.reports.period import Period
from members.reports.registry import CSV_REPORTS, REPORTS, reports_context, reports_figures

reports_required = staff_permission_required(
    "members.view_reports", "Reports are for staff with the reports permission."
)
member_list_required = staff_permission_required(
    "members.find_members", "The member list is for staff who may look members up."
)


@reports_required
def reports_page(request: HttpRequest) -> HttpResponse:
    return _page(request, REPORTS)


@reports_required
def report_section(request: HttpRequest, anchor: str) -> HttpResponse:
    """One section of the reports page on a page of its own, for a link
    to send or a phone to load without the rest."""
    for report in REPORTS:
        for section in report.sections:
            if section.anchor == anchor:
                return _page(request, [report], section=section)
    raise Http404("No such section of the reports.")


def _page(request: HttpRequest, shown: list, section=None) -> HttpResponse:
    if settings.REPORTS_CACHE_SECONDS:
        # Keyed by the day, since "today" is part of every figure; "v2" since
        # the figures are kept by report, unlike those cached before.
        period, figures = cache.get_or_set(
            f"members:reports:v2:{timezone.localdate().isoformat()}",
            _figures,
            settings.REPORTS_CACHE_SECONDS,
        )
    else:
        period, figures = _figures()
    return render(
        request,
        "members/staff/reports.html",
        {
            **reports_context(figures),
            "reports": shown,
            "all_reports": REPORTS,
            # A report's template shows only this section when it is set.
            "only_section": section.anchor if section else "",
            "section": section,
            "period": period,
            "cached_for_minutes": settings.REPORTS_CACHE_SECONDS // 60,
        },
    )


def _figures() -> tuple[Period, dict[str, dict]]:
    """Every figure on the page, worked out now."""
    period = Period.current()
    return period, reports_figures(period)


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
    those who may look members up. Written by PostgreSQL and streamed a
    thousand rows at a time."""
    return csv_copy_response(
        filename=f"igpm-members-{timezone.localdate().isoformat()}.csv",
        header=reports.MEMBER_EXPORT_HEADER,
        select_sql=reports.member_export_sql(),
    )
