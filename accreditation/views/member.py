from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from accreditation.forms import ApplicationForm, CpdEntryForm, EvidenceForm, PathwayChoiceForm
from accreditation.models import Application, Certificate, CpdEntry, Evidence
from accreditation.services import (
    AccreditationError,
    ApplicationIncomplete,
    application_start,
    application_submit,
    application_update,
    application_withdraw,
    certificate_set_listing,
    cpd_entry_create,
    cpd_hours_between,
    evidence_add,
    evidence_remove,
    revalidation_apply,
)
from accreditation.uploads import download_name
from igpm.files import private_file_response
from members.access import staff_gate
from members.billing.selectors import membership_get


def _private_download(file, filename: str, content_type: str) -> FileResponse:
    """A stored file, always as a download, never kept by shared caches."""
    return private_file_response(file, filename=filename, content_type=content_type)


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    user = request.user
    certificates = list(
        Certificate.objects.filter(holder=user)
        .select_related("pathway")
        .prefetch_related(
            Prefetch(
                "revalidations",
                queryset=Application.objects.exclude(
                    status__in=[Application.Status.WITHDRAWN, Application.Status.REJECTED]
                ),
            )
        )
    )
    today = timezone.localdate()
    for certificate in certificates:
        certificate.state = certificate.state_on(today)
        certificate.cpd_logged = cpd_hours_between(
            user=user, start=certificate.issued_on, end=today
        )
    return render(
        request,
        "accreditation/overview.html",
        {
            "applications": Application.objects.filter(applicant=user)
            .select_related("pathway")
            .exclude(status=Application.Status.APPROVED),
            "certificates": certificates,
            "membership": membership_get(user=user),
        },
    )


@login_required
def apply(request: HttpRequest) -> HttpResponse:
    membership = membership_get(user=request.user)
    if membership is None or not membership.in_good_standing:
        # Said before a pathway is chosen, not after the form is filled in.
        return render(request, "accreditation/apply.html", {"membership": membership})
    form = PathwayChoiceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            application = application_start(
                user=request.user, pathway=form.cleaned_data["pathway"]
            )
        except AccreditationError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("accreditation:application", application.pk)
    return render(request, "accreditation/apply.html", {"form": form, "membership": membership})


def _own_application(request: HttpRequest, application_id: int) -> Application:
    return get_object_or_404(
        Application.objects.select_related("pathway"),
        pk=application_id,
        applicant=request.user,
    )


@login_required
def application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    """The application page: details, evidence and submission in one form,
    so nothing typed is lost whichever button is pressed."""
    application = _own_application(request, application_id)
    editable = application.is_editable and application.kind == Application.Kind.INITIAL
    posted = request.method == "POST" and editable
    form = ApplicationForm(request.POST if posted else None, instance=application)
    evidence_form = EvidenceForm(
        request.POST if posted else None, request.FILES if posted else None
    )
    if posted and form.is_valid() and evidence_form.is_valid():
        try:
            application_update(application=application, by=request.user, **form.cleaned_data)
            upload = evidence_form.cleaned_data["file"]
            if upload:
                evidence_add(application=application, upload=upload, by=request.user)
                messages.success(request, f"“{upload.download_name}” uploaded.")
            if "submit" in request.POST:
                application_submit(application=application, by=request.user)
                messages.success(
                    request, "Your application has been submitted. We will email you."
                )
                return redirect("accreditation:overview")
        except ApplicationIncomplete as exc:
            for field, message in exc.errors.items():
                if field == "evidence":
                    evidence_form.add_error("file", message)
                else:
                    form.add_error(field, message)
        except AccreditationError as exc:
            form.add_error(None, str(exc))
        else:
            if not upload:
                messages.success(request, "Your draft has been saved.")
            return redirect("accreditation:application", application.pk)
    return render(
        request,
        "accreditation/application.html",
        {
            "application": application,
            "form": form,
            "evidence_form": evidence_form,
            "editable": editable,
            "evidence": application.evidence.all(),
        },
        status=400 if form.errors or evidence_form.errors else 200,
    )


@require_POST
@login_required
def evidence_delete(request: HttpRequest, evidence_id: int) -> HttpResponse:
    evidence = get_object_or_404(Evidence, pk=evidence_id, application__applicant=request.user)
    try:
        evidence_remove(evidence=evidence, by=request.user)
    except AccreditationError as exc:
        messages.error(request, str(exc))
    return redirect("accreditation:application", evidence.application_id)


def _evidence_for(request: HttpRequest, evidence_id: int) -> Evidence | HttpResponse:
    """The evidence if ``request.user`` may see it (its applicant, or an
    assessor through the staff gate), else the refusal to send."""
    evidence = get_object_or_404(
        Evidence.objects.select_related("application", "cpd_entry"), pk=evidence_id
    )
    owner_id = (
        evidence.application.applicant_id
        if evidence.application_id
        else evidence.cpd_entry.user_id
    )
    if owner_id != request.user.pk:
        is_draft = (
            evidence.application_id and evidence.application.status == Application.Status.DRAFT
        )
        if is_draft or not request.user.has_perm("accreditation.review_application"):
            raise Http404("No such file.")
        refusal = staff_gate(request)
        if refusal is not None:
            return refusal
    return evidence


def _evidence_name(evidence: Evidence) -> str:
    # Named again from the detected type: files stored before names were
    # checked may still carry the uploader's extension.
    return download_name(evidence.original_name, evidence.content_type)


@login_required
def evidence_download(request: HttpRequest, evidence_id: int) -> HttpResponse:
    """Evidence goes to its applicant and to assessors, as a download."""
    evidence = _evidence_for(request, evidence_id)
    if isinstance(evidence, HttpResponse):
        return evidence
    return _private_download(evidence.file, _evidence_name(evidence), evidence.content_type)


@login_required
def evidence_inline(request: HttpRequest, evidence_id: int) -> HttpResponse:
    """The same file for a preview on the portal's own pages, to the same
    people as the download."""
    evidence = _evidence_for(request, evidence_id)
    if isinstance(evidence, HttpResponse):
        return evidence
    if not evidence.preview:
        name = _evidence_name(evidence)
        return _private_download(evidence.file, name, "application/octet-stream")
    return _framable_file(evidence)


@xframe_options_sameorigin
@csp_replace({"frame-ancestors": ["'self'"]})
def _framable_file(evidence: Evidence) -> FileResponse:
    # Every other response refuses to be framed at all; only this verified
    # file may be, and only by the portal's own pages (the review page's
    # preview). Refusals and downloads keep the site-wide policy.
    response = private_file_response(
        evidence.file,
        filename=_evidence_name(evidence),
        content_type=evidence.content_type,
        inline=True,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@login_required
def application_withdraw_view(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _own_application(request, application_id)
    try:
        application_withdraw(application=application, by=request.user)
    except AccreditationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Your application has been withdrawn.")
    return redirect("accreditation:overview")


@login_required
def certificate_pdf(request: HttpRequest, certificate_id: int) -> HttpResponse:
    certificate = get_object_or_404(Certificate, pk=certificate_id)
    if certificate.holder_id != request.user.pk:
        if not request.user.has_perm("accreditation.review_application"):
            raise Http404("No such certificate.")
        refusal = staff_gate(request)
        if refusal is not None:
            return refusal
    if not certificate.pdf:
        messages.info(request, "Your certificate is being prepared. Try again in a minute.")
        return redirect("accreditation:overview")
    return _private_download(certificate.pdf, f"{certificate.number}.pdf", "application/pdf")


@require_POST
@login_required
def certificate_listing(request: HttpRequest, certificate_id: int) -> HttpResponse:
    certificate = get_object_or_404(Certificate, pk=certificate_id, holder=request.user)
    listed = request.POST.get("listed") == "yes"
    certificate_set_listing(certificate=certificate, listed=listed)
    messages.success(
        request,
        "You are listed on the public register."
        if listed
        else "You are no longer listed on the public register.",
    )
    return redirect("accreditation:overview")


@require_POST
@login_required
def revalidate(request: HttpRequest, certificate_id: int) -> HttpResponse:
    certificate = get_object_or_404(Certificate, pk=certificate_id, holder=request.user)
    try:
        revalidation_apply(certificate=certificate, by=request.user)
    except AccreditationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Your revalidation has been sent to the assessors.")
    return redirect("accreditation:overview")


@login_required
def cpd(request: HttpRequest) -> HttpResponse:
    form = CpdEntryForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        cpd_entry_create(
            user=request.user,
            date=data["date"],
            activity=data["activity"],
            hours=data["hours"],
            category=data["category"],
            reflection=data["reflection"],
            evidence=data.get("evidence"),
        )
        messages.success(request, "CPD entry added.")
        return redirect("accreditation:cpd")
    entries = CpdEntry.objects.filter(user=request.user).select_related("evidence")
    total = sum((entry.hours for entry in entries), start=0)
    return render(
        request,
        "accreditation/cpd.html",
        {"form": form, "entries": entries, "total": total},
        status=400 if form.errors else 200,
    )
