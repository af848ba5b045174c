"""Your data and privacy: a copy of your data, and deleting your account;
and the staff page where erasure requests are decided."""

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from igpm.files import private_file_response
from members.access import staff_permission_required
from members.exceptions import MembershipError
from members.models import ErasureRequest
from members.privacy.forms import ErasureDecisionForm, ErasureRequestForm
from members.privacy.models import ERASURE_DUE_DAYS, ERASURE_WARN_DAYS
from members.privacy.registry import REGISTRY
from members.privacy.selectors import (
    erasure_request_review,
    erasure_requests_decided,
    erasure_requests_open,
    privacy_overview,
)
from members.privacy.services import (
    EXPORT_LINK_DAYS,
    data_export_for_download,
    data_export_request,
    erasure_cancel,
    erasure_confirm,
    erasure_refuse,
    erasure_request,
)
from members.selectors import profile_get

# A signed-in session is not enough to take a copy of everything or to ask
# for the account to go: the password (or a two-factor code) from the last
# few minutes is. app="" makes this hold whatever allauth's own settings say.
# The request is held while the person re-authenticates, then carried out.
recently_reauthenticated = reauthentication_required(app="", allow_get=True)


def _erasure_confirmed(request: HttpRequest) -> bool:
    # Ask for the password only once the box is ticked: a form sent back
    # for its missing tick should not cost a password first.
    return ErasureRequestForm(request.POST).is_valid()


erasure_team_required = staff_permission_required(
    "members.handle_erasure", "Only staff who handle erasure requests can open this page."
)


@login_required
def privacy(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "members/privacy/overview.html",
        {
            **privacy_overview(user=request.user),
            "profile": profile_get(user=request.user),
            "sections": [holding for holding in REGISTRY if holding.section],
            "link_days": EXPORT_LINK_DAYS,
            "now": timezone.now(),
        },
    )


@require_POST
@login_required
@recently_reauthenticated
def privacy_export(request: HttpRequest) -> HttpResponse:
    try:
        data_export_request(user=request.user)
    except MembershipError as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(
            request,
            "We are preparing a copy of your data. We will email you a link to "
            f"download it, usually within a few minutes; the link works for "
            f"{EXPORT_LINK_DAYS} days.",
        )
    return redirect("members:privacy")


@login_required
def privacy_download(request: HttpRequest, token: str) -> HttpResponse:
    export = data_export_for_download(token=token, user=request.user)
    if export is None:
        raise Http404("No such download.")
    if not export.downloadable():
        return render(request, "members/privacy/export_gone.html", {"export": export}, status=410)
    return private_file_response(
        export.file,
        filename=f"igpm-my-data-{timezone.localtime(export.ready_at):%Y-%m-%d}.zip",
        content_type="application/zip",
    )


@login_required
@reauthentication_required(app="", allow_get=True, enabled=_erasure_confirmed)
def privacy_erasure(request: HttpRequest) -> HttpResponse:
    """The confirming step before asking for erasure: what goes, what is
    kept, and a box to tick."""
    if privacy_overview(user=request.user)["erasure"] is not None:
        messages.info(request, "You have already asked us to delete your account.")
        return redirect("members:privacy")
    form = ErasureRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            erasure_request(user=request.user)
        except MembershipError as exc:
            messages.warning(request, str(exc))
        else:
            messages.success(
                request,
                "We have your request to delete your account. Staff will confirm it within "
                "one month and we will email you when it is done. You can cancel it until then.",
            )
        return redirect("members:privacy")
    return render(
        request,
        "members/privacy/erasure.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


@require_POST
@login_required
def privacy_erasure_cancel(request: HttpRequest) -> HttpResponse:
    if erasure_cancel(user=request.user) is not None:
        messages.success(request, "Your request to delete your account is cancelled.")
    return redirect("members:privacy")


# --- Staff -------------------------------------------------------------------


@erasure_team_required
def staff_erasure_requests(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    return render(
        request,
        "members/staff/erasure_requests.html",
        {
            "open_requests": [(item, item.age_days(now)) for item in erasure_requests_open()],
            "decided": erasure_requests_decided(),
            "warn_days": ERASURE_WARN_DAYS,
            "due_days": ERASURE_DUE_DAYS,
        },
    )


def _review_page(request: HttpRequest, request_id: int, form=None, status=200) -> HttpResponse:
    erasure, holdings = erasure_request_review(request_id=request_id)
    return render(
        request,
        "members/staff/erasure_request.html",
        {
            "erasure": erasure,
            "age": erasure.age_days(),
            "holdings": holdings,
            "form": form or ErasureDecisionForm(),
            "due_days": ERASURE_DUE_DAYS,
        },
        status=status,
    )


@erasure_team_required
def staff_erasure_request(request: HttpRequest, request_id: int) -> HttpResponse:
    return _review_page(request, request_id)


@require_POST
@erasure_team_required
def staff_erasure_decide(request: HttpRequest, request_id: int) -> HttpResponse:
    erasure = get_object_or_404(ErasureRequest, pk=request_id)
    form = ErasureDecisionForm(request.POST)
    if form.is_valid():
        try:
            if form.cleaned_data["decision"] == "confirm":
                erasure_confirm(request=erasure, by=request.user)
                done = "The account has been erased."
            else:
                erasure_refuse(
                    request=erasure, by=request.user, reason=form.cleaned_data["reason"]
                )
                done = "The request has been refused and the member told why."
        except MembershipError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, done)
            return redirect("members:staff_erasure_requests")
    return _review_page(request, request_id, form=form, status=400)
