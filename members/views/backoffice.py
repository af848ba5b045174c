"""The staff back office: find a member, read their whole record and
timeline, and (administrators) read the audit trail."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from members.access import staff_permission_required
from members.backoffice import (
    audit_filter_choices,
    audit_trail,
    member_record,
    member_search,
    member_timeline,
)
from members.forms import AuditFilterForm, MemberSearchForm

find_members_required = staff_permission_required(
    "members.find_members", "Member records are for the membership team and administrators."
)
audit_trail_required = staff_permission_required(
    "members.view_audit_trail", "The audit trail is for administrators."
)

MEMBERS_PER_PAGE = 25
ENTRIES_PER_PAGE = 50


@find_members_required
def members(request: HttpRequest) -> HttpResponse:
    form = MemberSearchForm(request.GET or None)
    found = member_search()
    if form.is_bound and form.is_valid():
        found = member_search(
            query=form.cleaned_data["q"],
            care_board_id=form.cleaned_data["board"],
            status=form.cleaned_data["status"],
        )
    elif form.is_bound:
        found = found.none()
    page = Paginator(found, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "members/staff/members.html",
        {"form": form, "page": page, "query_string": _without_page(request)},
    )


@find_members_required
def member_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    record = member_record(user_id=user_id)
    timeline = Paginator(member_timeline(member=record.member), ENTRIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "members/staff/member.html", {"record": record, "timeline": timeline})


@audit_trail_required
def audit(request: HttpRequest) -> HttpResponse:
    actions, target_types = audit_filter_choices()
    form = AuditFilterForm(request.GET or None, actions=actions, target_types=target_types)
    entries = audit_trail()
    if form.is_bound and form.is_valid():
        entries = audit_trail(**form.cleaned_data)
    elif form.is_bound:
        entries = entries.none()
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "members/staff/audit.html",
        {"form": form, "page": page, "query_string": _without_page(request)},
    )


def _without_page(request: HttpRequest) -> str:
    """The request's filters, for the pagination links to carry."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
