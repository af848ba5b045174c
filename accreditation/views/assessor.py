from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accreditation.forms import DecisionForm, RevokeForm
from accreditation.models import Application, Certificate, Pathway
from accreditation.selectors import application_next_in_queue
from accreditation.services import (
    AccreditationError,
    application_approve,
    application_assign,
    application_reject,
    application_request_info,
    certificate_revoke,
)
from igpm.search import chosen_id
from members.access import staff_permission_required
from members.models import AuditEntry

QUEUE_STATUSES = [
    Application.Status.SUBMITTED,
    Application.Status.IN_REVIEW,
    Application.Status.MORE_INFO,
    Application.Status.APPROVED,
    Application.Status.REJECTED,
]


assessor_required = staff_permission_required(
    "accreditation.review_application", "Accreditation assessors only."
)


@assessor_required
def queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or "waiting"
    pathway_id = chosen_id(request.GET.get("pathway", ""))
    pathway = "" if pathway_id is None else str(pathway_id)  # As the drop-down shows it.
    applications = Application.objects.select_related("applicant", "pathway", "assessor").order_by(
        "submitted_at", "pk"
    )
    if status == "waiting":
        applications = applications.filter(status__in=Application.OPEN)
    elif status in QUEUE_STATUSES:
        applications = applications.filter(status=status)
    if pathway_id is not None:
        applications = applications.filter(pathway_id=pathway_id)
    if request.GET.get("mine"):
        applications = applications.filter(assessor=request.user)
    return render(
        request,
        "accreditation/staff/queue.html",
        {
            "applications": applications[:200],
            "statuses": [("waiting", "Waiting for a decision")]
            + [(s.value, s.label) for s in QUEUE_STATUSES],
            "status": status,
            "pathways": Pathway.objects.all(),
            "pathway": pathway,
            "mine": bool(request.GET.get("mine")),
        },
    )


def _review_page(request, application: Application, decision_form=None, revoke_form=None):
    certificate = Certificate.objects.filter(application=application).first()
    history = AuditEntry.objects.filter(
        target_type="application", target_id=application.pk
    ).select_related("actor")
    return render(
        request,
        "accreditation/staff/review.html",
        {
            "application": application,
            "evidence": application.evidence.all(),
            "certificate": certificate,
            "renews": application.renews,
            "decision_form": decision_form or DecisionForm(),
            "revoke_form": revoke_form or RevokeForm(),
            "history": history,
        },
        status=400
        if (decision_form and decision_form.errors) or (revoke_form and revoke_form.errors)
        else 200,
    )


def _application(application_id: int) -> Application:
    return get_object_or_404(
        Application.objects.select_related("applicant", "pathway", "assessor", "renews"),
        pk=application_id,
    )


@assessor_required
def review(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _application(application_id)
    if application.status == Application.Status.DRAFT:
        raise PermissionDenied("Drafts are private to the applicant.")
    return _review_page(request, application)


@require_POST
@assessor_required
def assign(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _application(application_id)
    try:
        application_assign(application=application, assessor=request.user)
    except AccreditationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "The application is assigned to you.")
    return redirect("accreditation:staff_review", application.pk)


@require_POST
@assessor_required
def decide(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _application(application_id)
    form = DecisionForm(request.POST)
    if form.is_valid():
        decision, reason = form.cleaned_data["decision"], form.cleaned_data["reason"]
        action = {
            "approve": application_approve,
            "more_info": application_request_info,
            "reject": application_reject,
        }[decision]
        try:
            action(application=application, by=request.user, reason=reason)
        except AccreditationError as exc:
            form.add_error(None, str(exc))
        else:
            return _after_decision(request, application)
    return _review_page(request, application, decision_form=form)


def _after_decision(request: HttpRequest, application: Application) -> HttpResponse:
    """On to the next application waiting, so a run of decisions needs no
    trip back to the queue; the queue itself once nothing is left."""
    following = application_next_in_queue(after=application, assessor=request.user)
    if following is None:
        messages.success(
            request,
            "Decision recorded; the applicant is being emailed. "
            "No other application is waiting for a decision.",
        )
        return redirect("accreditation:staff_queue")
    messages.success(
        request,
        "Decision recorded; the applicant is being emailed. "
        "This is the next application in the queue.",
    )
    return redirect("accreditation:staff_review", following.pk)


@require_POST
@assessor_required
def revoke(request: HttpRequest, certificate_id: int) -> HttpResponse:
    certificate = get_object_or_404(
        Certificate.objects.select_related("application"), pk=certificate_id
    )
    if not request.user.has_perm("accreditation.revoke_certificate"):
        raise PermissionDenied("You cannot revoke certificates.")
    form = RevokeForm(request.POST)
    if form.is_valid():
        certificate_revoke(
            certificate=certificate, by=request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(request, f"Certificate {certificate.number} revoked.")
        return redirect("accreditation:staff_review", certificate.application_id)
    return _review_page(request, _application(certificate.application_id), revoke_form=form)
