"""The staff back office: the staff home page, find a member, read their
whole record and timeline, and (administrators) read the audit trail."""

from collections.abc import Callable

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from members.access import staff_member_required, staff_permission_required
from members.billing.selectors import payments_needing_attention_count
from members.privacy.selectors import erasure_requests_summary

from .forms import AuditFilterForm, MemberSearchForm
from .naming import entries_describe
from .selectors import (
    audit_filter_choices,
    audit_trail,
    member_record,
    member_search,
    member_timeline,
    members_listed,
    staff_overview,
)

find_members_required = staff_permission_required(
    "members.find_members", "Member records are for the membership team and administrators."
)
audit_trail_required = staff_permission_required(
    "members.view_audit_trail", "The audit trail is for administrators."
)

MEMBERS_PER_PAGE = 25
ENTRIES_PER_PAGE = 50


@staff_member_required
def staff_home(request: HttpRequest) -> HttpResponse:
    erasures = (
        erasure_requests_summary() if request.user.has_perm("members.handle_erasure") else None
    )
    attention_count = (
        payments_needing_attention_count()
        if request.user.has_perm("members.manage_memberships")
        else None
    )
    return render(
        request,
        "members/staff/home.html",
        {"overview": staff_overview(), "erasures": erasures, "attention_count": attention_count},
    )


@find_members_required
def members(request: HttpRequest) -> HttpResponse:
    def search(q: str = "", board: int | None = None, status: str = ""):
        found = member_search(query=q, care_board_id=board, status=status)
        return found.values_list("pk", flat=True)

    form = MemberSearchForm(request.GET or None)
    return _filtered_page(
        request, "members/staff/members.html", form, search, MEMBERS_PER_PAGE, members_listed
    )


@find_members_required
def member_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    record = member_record(user_id=user_id)
    timeline = Paginator(member_timeline(member=record.member), ENTRIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    timeline.object_list = entries_describe(timeline.object_list)
    return render(request, "members/staff/member.html", {"record": record, "timeline": timeline})


@audit_trail_required
def audit(request: HttpRequest) -> HttpResponse:
    actions, target_types = audit_filter_choices()
    form = AuditFilterForm(request.GET or None, actions=actions, target_types=target_types)
    return _filtered_page(
        request, "members/staff/audit.html", form, audit_trail, ENTRIES_PER_PAGE, entries_describe
    )


def _filtered_page(
    request: HttpRequest, template: str, form, search, per_page: int, shown: Callable[[list], list]
):
    """A page of what ``search`` finds with the form's filters, as ``shown``
    makes the page's rows of it: everything before a search, nothing while
    a filter has an error (shown beside it)."""
    if not form.is_bound:
        rows = search()
    elif form.is_valid():
        rows = search(**form.cleaned_data)
    else:
        rows = search().none()
    page = Paginator(rows, per_page).get_page(request.GET.get("page"))
    page.object_list = shown(list(page.object_list))
    params = request.GET.copy()
    params.pop("page", None)  # the pagination links carry the filters only
    return render(
        request, template, {"form": form, "page": page, "query_string": params.urlencode()}
    )
