from urllib.parse import urlencode

from allauth.core.internal import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from members.access import staff_permission_required
from members.billing.services.invoices import InvoiceDetails, invoice_request
from members.exceptions import MembershipError
from members.models import ImportedMember, ImportRow, RegisterImport, User

from . import services
from .forms import ClaimPasswordForm, ImportChoiceForm, RegisterUploadForm, RenewalInvoiceForm
from .invitations import (
    ClaimLinkRefused,
    account_claim,
    claim_invitation_resend,
    invitation_from_token,
)

membership_team_required = staff_permission_required(
    "members.manage_memberships", "Membership team only."
)
PAGE_ROWS = 100
SHOWS = {
    "problems": ("Rows with errors", {"action": ImportRow.Action.ERROR}),
    "create": ("New members", {"action": ImportRow.Action.CREATE}),
    "update": ("Updates", {"action": ImportRow.Action.UPDATE}),
    "unchanged": ("No change", {"action": ImportRow.Action.UNCHANGED}),
    "all": ("All rows", {}),
    "ticked": ("Ticked to leave out", {"left_out": True}),
}


@membership_team_required
def register_imports(request: HttpRequest) -> HttpResponse:
    form = RegisterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        register_import = services.register_import_upload(
            name=upload.name, content=form.content, by=request.user
        )
        messages.success(request, "File uploaded. The dry run is checking every row.")
        return redirect(register_import)
    imports = RegisterImport.objects.select_related("uploaded_by").defer("content")[:50]
    return render(
        request,
        "members/register_import/list.html",
        {"form": form, "imports": imports},
        status=400 if form.errors else 200,
    )


def _detail(request, register_import, form=None, status=200) -> HttpResponse:
    show = request.GET.get("show", "")
    if show not in SHOWS:
        show = "problems" if register_import.check_counts.get("error") else "all"
    label, lookup = SHOWS[show]
    rows = register_import.rows.filter(**lookup).order_by("line")
    page = Paginator(rows, PAGE_ROWS).get_page(request.GET.get("page"))
    return render(
        request,
        "members/register_import/detail.html",
        {
            "register_import": register_import,
            "form": form or ImportChoiceForm(),
            "page": page,
            "show": show,
            "show_label": label,
            "shows": [(key, name) for key, (name, _) in SHOWS.items()],
            "query_string": f"show={show}",
            "choosing": register_import.status == RegisterImport.Status.CHECKED,
            "ticked_count": register_import.rows.filter(left_out=True).count()
            if register_import.status == RegisterImport.Status.CHECKED
            else 0,
            "outcomes": dict(
                register_import.rows.exclude(outcome="")
                .values_list("outcome")
                .annotate(n=Count("pk"))
                .order_by()
            )
            if register_import.status == RegisterImport.Status.IMPORTED
            else {},
        },
        status=status,
    )


@membership_team_required
def register_import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    register_import = get_object_or_404(RegisterImport.objects.defer("content"), pk=import_id)
    return _detail(request, register_import)


@membership_team_required
def register_import_progress(request: HttpRequest, import_id: int) -> JsonResponse:
    """What the progress page's script polls for (the page works without it)."""
    register_import = get_object_or_404(RegisterImport.objects.defer("content"), pk=import_id)
    return JsonResponse(
        {
            "status": register_import.status,
            "busy": register_import.busy,
            "stalled": register_import.stalled,
            "done": register_import.done_rows,
            "total": register_import.total_rows,
            "percent": register_import.percent,
        }
    )


@require_POST
@membership_team_required
def register_import_start(request: HttpRequest, import_id: int) -> HttpResponse:
    register_import = get_object_or_404(RegisterImport.objects.defer("content"), pk=import_id)
    form = ImportChoiceForm(request.POST)
    if form.is_valid():
        try:
            leave_out = services.parse_lines(form.cleaned_data["leave_out"])
        except MembershipError as refused:
            form.add_error("leave_out", str(refused))
    if form.is_valid():
        try:
            services.register_import_start(
                register_import=register_import,
                by=request.user,
                leave_out=leave_out,
                errors_left_out=form.cleaned_data["errors_left_out"],
            )
        except services.ErrorsNotLeftOut as refused:
            form.add_error("errors_left_out", str(refused))
        except MembershipError as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, "The import has started.")
            return redirect(register_import)
    return _detail(request, register_import, form=form, status=400)


def _lines(values: list[str]) -> set[int] | None:
    """Row numbers from a page's form: at most a page of them, digits only."""
    if len(values) > PAGE_ROWS or not all(v.isdecimal() and len(v) < 8 for v in values):
        return None
    return {int(v) for v in values}


@require_POST
@membership_team_required
def register_rows_choose(request: HttpRequest, import_id: int) -> HttpResponse:
    """The ticks on one page of the dry-run report (works without script:
    a plain form, back to the same page)."""
    register_import = get_object_or_404(RegisterImport.objects.defer("content"), pk=import_id)
    shown, ticked = _lines(request.POST.getlist("shown")), _lines(request.POST.getlist("line"))
    show = request.POST.get("show", "")
    page = request.POST.get("page", "")
    back = (
        register_import.get_absolute_url()
        + "?"
        + urlencode(
            {"show": show if show in SHOWS else "all", "page": page if page.isdecimal() else 1}
        )
    )
    if shown is None or ticked is None:
        messages.error(request, "The ticks could not be read: tick the rows again.")
        return redirect(back)
    try:
        total = services.register_rows_choose(
            register_import=register_import, by=request.user, shown=shown, ticked=ticked
        )
    except MembershipError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request, f"Saved. {total} row{'s' if total != 1 else ''} ticked to leave out."
        )
    return redirect(back)


@require_POST
@membership_team_required
def register_import_resume(request: HttpRequest, import_id: int) -> HttpResponse:
    """Carry on a dry run or an import that stopped or stalled."""
    register_import = get_object_or_404(RegisterImport.objects.defer("content"), pk=import_id)
    try:
        services.register_import_resume(register_import=register_import, by=request.user)
    except MembershipError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Carrying on from where it stopped.")
    return redirect(register_import)


@require_POST
@membership_team_required
def claim_resend(request: HttpRequest, user_id: int) -> HttpResponse:
    member = get_object_or_404(User, pk=user_id)
    try:
        claim_invitation_resend(user=member, by=request.user)
    except MembershipError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"The invitation to claim the account went to {member.email}.")
    return redirect("members:staff_member", member.pk)


@membership_team_required
def renewal_invoice(request: HttpRequest, user_id: int) -> HttpResponse:
    """Invoice the next year of a member from the register who has not
    claimed their account (and so cannot open the pay page)."""
    imported = get_object_or_404(
        ImportedMember.objects.select_related("user__membership__grade", "user__profile"),
        user_id=user_id,
    )
    member = imported.user
    membership = member.membership
    initial = {"organisation": member.profile.organisation_name}
    form = RenewalInvoiceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            requested = invoice_request(
                membership=membership, by=request.user, details=InvoiceDetails(**form.cleaned_data)
            )
        except MembershipError as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                f"Invoice {requested.payment.invoice_number} was sent to "
                + " and ".join(requested.recipients)
                + ".",
            )
            return redirect("members:staff_member", member.pk)
    return render(
        request,
        "members/register_import/renewal_invoice.html",
        {"form": form, "member": member, "membership": membership, "imported": imported},
        status=400 if form.errors else 200,
    )


CLAIM_RATE_ACTION = "register_claim"
CLAIM_THROTTLED = (
    "Too many attempts to claim an account have come from your connection recently. "
    "Wait a few minutes, then open the link in your invitation again."
)
# A signed token is about 30 characters; anything much longer is not one.
CLAIM_TOKEN_MAX = 200


def _claim_allowed(request: HttpRequest) -> bool:
    """Count one opening or sending of the claim page against the client's
    address (settings.REGISTER_CLAIM_RATE_LIMIT), in allauth's limiter: the
    shared cache, and the address found behind the trusted proxies as for
    sign-in (ALLAUTH_TRUSTED_PROXY_COUNT). A GET counts too: it is what
    tries a token."""
    return bool(
        ratelimit.consume(
            request,
            app="members",
            action=CLAIM_RATE_ACTION,
            config={CLAIM_RATE_ACTION: settings.REGISTER_CLAIM_RATE_LIMIT},
            limit_get=True,
        )
    )


def _claim_refused(request: HttpRequest, *, replaced: bool) -> HttpResponse:
    template = "claim_replaced.html" if replaced else "claim_used.html"
    return render(request, f"members/register_import/{template}", status=404)


def account_claim_view(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the invitation: choose a password, once. Limited per
    client address; the token and the passwords have a size limit."""
    if not _claim_allowed(request):
        return render(
            request,
            "members/register_import/claim_throttled.html",
            {"throttled": CLAIM_THROTTLED},
            status=429,
        )
    try:
        if len(token) > CLAIM_TOKEN_MAX:
            raise ClaimLinkRefused()
        invitation = invitation_from_token(token)
    except ClaimLinkRefused as refused:
        return _claim_refused(request, replaced=refused.replaced)
    form = ClaimPasswordForm(user=invitation.user, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = account_claim(invitation=invitation, password_form=form)
        except MembershipError:
            return _claim_refused(request, replaced=False)
        login(request, user, backend="members.authentication.AuthenticationBackend")
        messages.success(request, "Your account is ready: you are signed in.")
        return redirect("members:profile")
    return render(
        request,
        "members/register_import/claim.html",
        {"form": form, "member": invitation.user},
        status=400 if form.errors else 200,
    )
