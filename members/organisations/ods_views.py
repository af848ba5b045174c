"""Pages of the NHS organisation data: the practice search behind the
profile's picker (a page of its own without JavaScript, JSON for the
picker with it), an ODS import's progress and report, and the staff list
of practice codes the data does not know."""

from allauth.core.internal import ratelimit
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render

from igpm.search import search_query, shown_as_typed
from members.access import staff_permission_required
from members.models import OdsImport

from .ods_import import import_progress
from .ods_selectors import SEARCH_MIN_LENGTH, practice_search, unknown_practice_codes

PICKER_RESULTS = 10  # what the picker's list shows
PAGE_RESULTS = 25  # what the search page shows
SEARCH_RATE_ACTION = "practice_search"
THROTTLED = "Too many searches in a short time. Wait a minute, then search again."
UNKNOWN_PER_PAGE = 50

run_import_required = staff_permission_required(
    "members.run_ods_import", "Only the Administrators import the ODS data."
)
find_members_required = staff_permission_required(
    "members.find_members", "Only the membership team can read member records."
)


def _search_allowed(request: HttpRequest) -> bool:
    """Count one search against the member (type-ahead sends one a
    keystroke or so, so the limit is generous but bounded)."""
    return bool(
        ratelimit.consume(
            request,
            app="members",
            action=SEARCH_RATE_ACTION,
            config={SEARCH_RATE_ACTION: settings.PRACTICE_SEARCH_RATE_LIMIT},
            user=request.user,
            limit_get=True,
        )
    )


def _wants_json(request: HttpRequest) -> bool:
    return request.GET.get("format") == "json"


@login_required
def practice_search_page(request: HttpRequest) -> HttpResponse:
    """Find a practice by name, town, postcode or ODS code. Without
    JavaScript it is a search page whose results link back to the profile
    with the code filled in; the profile's picker asks it for JSON."""
    query, error = search_query(request)
    if not _search_allowed(request):
        if _wants_json(request):
            return JsonResponse({"error": THROTTLED, "results": []}, status=429)
        error = THROTTLED
    status = 429 if error == THROTTLED else 400 if error else 200
    limit = PICKER_RESULTS if _wants_json(request) else PAGE_RESULTS
    results = [] if error else practice_search(query=query, limit=limit)
    if _wants_json(request):
        return JsonResponse(
            {"error": error, "results": [choice.as_json() for choice in results]}, status=status
        )
    return render(
        request,
        "members/organisations/practice_search.html",
        {
            "query": shown_as_typed(request) if error else query,
            "search_error": error,
            "results": results,
            "searched": len(query.strip()) >= SEARCH_MIN_LENGTH and not error,
            "too_short": 0 < len(query.strip()) < SEARCH_MIN_LENGTH,
            "min_length": SEARCH_MIN_LENGTH,
        },
        status=status,
    )


@run_import_required
def staff_ods_import(request: HttpRequest, import_id: int) -> HttpResponse:
    """An import's progress while it runs (a bar the page's script keeps
    current, and a Refresh button without it), then its report."""
    record = get_object_or_404(OdsImport, pk=import_id)
    report = record.report or {}
    kinds = [
        ("GP practices", "practices"),
        ("Primary care networks", "pcns"),
        ("Sub ICB Locations", "sub_icbs"),
        ("ICBs", "icbs"),
    ]
    practices = report.get("practices", {})
    return render(
        request,
        "members/organisations/ods_import.html",
        {
            "record": record,
            "progress": import_progress(record),
            "report": report,
            "report_rows": [(label, report[key]) for label, key in kinds if key in report],
            "code_lists": [
                ("Practices added", practices.get("added_codes")),
                ("Practices changed", practices.get("changed_codes")),
                ("Practices moved", practices.get("moved_codes")),
                ("Practices closed", practices.get("closed_codes")),
            ],
        },
    )


@run_import_required
def staff_ods_import_progress(request: HttpRequest, import_id: int) -> JsonResponse:
    record = get_object_or_404(OdsImport, pk=import_id)
    return JsonResponse(import_progress(record))


@find_members_required
def staff_practice_codes(request: HttpRequest) -> HttpResponse:
    """Members whose practice code the NHS data does not know."""
    page = Paginator(unknown_practice_codes(), UNKNOWN_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "members/organisations/unknown_codes.html", {"page": page})
