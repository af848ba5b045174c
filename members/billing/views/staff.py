from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from members.access import staff_permission_required
from members.billing.forms import DecisionForm, MarkPaidConfirmForm, RefundForm, StatusOverrideForm
from members.billing.selectors import (
    approvals_queue,
    invoice_mark_paid_preview,
    invoices_outstanding,
    membership_record,
)
from members.billing.services.invoices import invoice_mark_paid, invoice_resend
from members.billing.services.membership import (
    membership_decide,
    membership_next_period_start,
    membership_override_status,
)
from members.billing.services.refunds import refund_record
from members.exceptions import ConfirmationNeeded, InvoiceAlreadyPaid, MembershipError
from members.models import Membership, Payment

membership_team_required = staff_permission_required(
    "members.manage_memberships", "Membership team only."
)


@membership_team_required
def approvals(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "members/staff/approvals.html",
        {"applications": approvals_queue(), "invoices": invoices_outstanding()},
    )


def _record_page(request, membership_id: int, **forms) -> HttpResponse:
    membership = membership_record(membership_id=membership_id)
    context = {
        "membership": membership,
        "decision_form": forms.get("decision_form") or DecisionForm(),
        "override_form": forms.get("override_form")
        or StatusOverrideForm(initial={"status": membership.status}),
        "refund_forms": {
            payment.pk: (
                forms["refund_form"]
                if forms.get("refund_payment") == payment.pk
                else RefundForm(payment=payment, prefix=f"refund-{payment.pk}")
            )
            for payment in membership.payment_list
            if payment.refundable_pence and payment.status != Payment.Status.PENDING
        },
    }
    return render(
        request, "members/staff/membership.html", context, status=forms.get("status", 200)
    )


@membership_team_required
def membership_detail(request: HttpRequest, membership_id: int) -> HttpResponse:
    return _record_page(request, membership_id)


@require_POST
@membership_team_required
def membership_decision(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(Membership, pk=membership_id)
    form = DecisionForm(request.POST)
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            membership_decide(
                membership=membership,
                approve=approve,
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except MembershipError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Approved." if approve else "Declined.")
            return redirect("members:staff_approvals")
    return _record_page(request, membership_id, decision_form=form, status=400)


@require_POST
@membership_team_required
def membership_override(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(Membership, pk=membership_id)
    form = StatusOverrideForm(request.POST)
    if form.is_valid():
        try:
            membership_override_status(
                membership=membership,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except MembershipError as exc:
            form.add_error("status", str(exc))
        else:
            messages.success(request, "Status changed.")
            return redirect("members:staff_membership", membership_id)
    return _record_page(request, membership_id, override_form=form, status=400)


# A person's payments: an organisation's are handled from its staff page
# (members/organisations).
_PERSONAL = Payment.objects.filter(membership__isnull=False)


@require_POST
@membership_team_required
def payment_mark_paid(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = get_object_or_404(_PERSONAL, pk=payment_id)
    try:
        invoice_mark_paid(payment=payment, by=request.user)
    except ConfirmationNeeded:
        return redirect("members:staff_payment_mark_paid_confirm", payment.pk)
    except InvoiceAlreadyPaid as exc:
        messages.warning(request, str(exc))
    except MembershipError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Invoice {payment.invoice_number} marked paid.")
    return redirect("members:staff_membership", payment.membership_id)


@membership_team_required
def payment_mark_paid_confirm(request: HttpRequest, payment_id: int) -> HttpResponse:
    """Marking a cancelled invoice paid: what it will do, then a tick box."""
    payment = get_object_or_404(_PERSONAL, pk=payment_id, method=Payment.Method.INVOICE)
    form = MarkPaidConfirmForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            invoice_mark_paid(payment=payment, by=request.user, confirmed=True)
        except InvoiceAlreadyPaid as exc:
            messages.warning(request, str(exc))
            return redirect("members:staff_membership", payment.membership_id)
        except MembershipError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Invoice {payment.invoice_number} marked paid.")
            return redirect("members:staff_membership", payment.membership_id)
    preview = invoice_mark_paid_preview(payment=payment)
    preview["period_start"] = membership_next_period_start(
        membership=preview["membership"], paid_on=timezone.localdate()
    )
    return render(
        request,
        "members/staff/mark_paid_confirm.html",
        {"form": form, **preview},
        status=400 if form.is_bound else 200,
    )


@require_POST
@membership_team_required
def payment_invoice_resend(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = get_object_or_404(_PERSONAL, pk=payment_id)
    try:
        send = invoice_resend(payment=payment, by=request.user)
    except MembershipError as exc:
        messages.error(request, str(exc))
    else:
        recipients = " and ".join(send.recipients)
        messages.success(request, f"Invoice {payment.invoice_number} sent again to {recipients}.")
    return redirect("members:staff_membership", payment.membership_id)


@require_POST
@membership_team_required
def payment_refund(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = get_object_or_404(_PERSONAL, pk=payment_id)
    form = RefundForm(request.POST, payment=payment, prefix=f"refund-{payment.pk}")
    if form.is_valid():
        try:
            refund_record(
                payment=payment,
                amount_pence=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                effect=form.cleaned_data["effect"],
                by=request.user,
            )
        except MembershipError as exc:
            form.add_error("amount", str(exc))
        else:
            messages.success(request, "Refund recorded.")
            return redirect("members:staff_membership", payment.membership_id)
    return _record_page(
        request, payment.membership_id, refund_form=form, refund_payment=payment.pk, status=400
    )
