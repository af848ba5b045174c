import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from igpm.search import chosen_id, form_text, search_query, shown_as_typed
from members.billing.selectors import (
    membership_as_signed_in,
    membership_get,
    payments_for_member,
)
from members.billing.services.payments import offline_provider_enabled
from members.forms import ProfileForm
from members.joining import join_step, joining_urls
from members.models import AutoRenewal, Profile
from members.organisations.ods_selectors import practice_choice
from members.panels import DASHBOARD_PANELS, panels_load
from members.selectors import (
    care_board_choices,
    directory_pcn_choices,
    directory_search,
    profile_as_signed_in,
    profile_completeness,
    profile_get,
)
from members.services.accounts import profile_update

# How long the dashboard tells a member their automatic renewal ended
# because a collection failed or the Direct Debit was cancelled.
AUTO_RENEWAL_ENDED_SHOWN = datetime.timedelta(days=90)


def _auto_renewal_context(membership) -> dict:
    """The membership's latest automatic renewal (one query): live, or
    ended lately by a failure the member must act on."""
    if membership is None:
        return {}
    renewal = (
        AutoRenewal.objects.filter(membership=membership).order_by("-created_at", "-pk").first()
    )
    if renewal is None:
        return {}
    failed = (
        renewal.status == AutoRenewal.Status.ENDED
        and renewal.end_reason
        in (AutoRenewal.EndReason.RETRIES_ENDED, AutoRenewal.EndReason.MANDATE_REVOKED)
        and renewal.ended_at is not None
        and renewal.ended_at >= timezone.now() - AUTO_RENEWAL_ENDED_SHOWN
        and membership.payable
    )
    return {
        "auto_renewal": renewal,
        "renewal_failed_recently": failed,
        # The offline test provider's demo: collect the next year now.
        "simulate_collection": renewal.collects
        and not renewal.stripe_subscription_id
        and offline_provider_enabled(),
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    # The dashboard changes nothing: what was read with the user will do.
    profile = profile_as_signed_in(user=request.user)
    completeness = profile_completeness(user=request.user, profile=profile)
    membership = membership_as_signed_in(user=request.user)
    return render(
        request,
        "members/dashboard.html",
        {
            **_auto_renewal_context(membership),
            "profile": profile,
            "completeness": completeness,
            "membership": membership,
            "payments": payments_for_member(user=request.user, limit=5) if membership else [],
            "panels": panels_load(DASHBOARD_PANELS, member=request.user, membership=membership),
        },
    )


@login_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    profile = profile_get(user=request.user)
    form = ProfileForm(
        request.POST if request.method == "POST" else None, instance=profile, user=request.user
    )
    chosen = None
    if request.method == "GET" and "practice" in request.GET:
        # Back from the practice search page (no JavaScript): the practice
        # chosen there fills in the form, to check and save.
        chosen = practice_choice(form_text(request.GET["practice"]) or "")
        if chosen is not None:
            form.initial.update(ods_code=chosen.code, pcn_name=chosen.pcn)
            if chosen.care_board_id:
                form.initial["care_board"] = chosen.care_board_id
    if request.method == "POST" and form.is_valid():
        profile_update(user=request.user, **form.cleaned_data)
        messages.success(request, "Your profile has been saved.")
        next_url = request.GET.get("next", "")
        if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            return redirect(next_url)
        return redirect("members:dashboard")
    joining = request.GET.get("next", "") in joining_urls()
    return render(
        request,
        "members/profile_form.html",
        {
            "form": form,
            "is_new": profile is None,
            "join_step": join_step(1) if joining else None,
            "chosen_practice": chosen,
        },
    )


@login_required
def directory(request: HttpRequest) -> HttpResponse:
    """The member directory: for members in good standing only."""
    membership = membership_get(user=request.user)
    if membership is None or not membership.in_good_standing:
        raise PermissionDenied("The member directory is for IGPM members.")
    board_id = chosen_id(request.GET.get("board", ""))
    pcn_id = chosen_id(request.GET.get("pcn", ""))
    # As the drop-downs will show them chosen: "01" is board 1.
    board = "" if board_id is None else str(board_id)
    pcn = "" if pcn_id is None else str(pcn_id)
    query, error = search_query(request)
    role = request.GET.get("role", "")
    found = directory_search(query=query, care_board_id=board_id, role=role, pcn_id=pcn_id)
    page = Paginator(found.none() if error else found, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "members/directory.html",
        {
            "page": page,
            "query_string": urlencode({"q": query, "board": board, "role": role, "pcn": pcn}),
            "query": shown_as_typed(request) if error else query,
            "search_error": error,
            "board": board,
            "role": role,
            "boards": care_board_choices(),
            "roles": Profile.Role.choices,
            "pcn": pcn,
            "pcns": directory_pcn_choices(),
        },
        status=400 if error else 200,
    )
