from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from igpm.pdf import pdf_render
from members.access import staff_gate
from members.billing import stripe_gateway
from members.billing.forms import GradeChoiceForm, PaymentMethodForm, RefundRequestForm
from members.billing.selectors import auto_renewal_live, membership_get, payment_visible_to
from members.billing.services.attention import can_request_refund, payment_refund_request
from members.billing.services.auto_renewal import auto_renewal_offer
from members.billing.services.card_payments import card_checkout_url, card_payment_start
from members.billing.services.documents import invoice_pdf, receipt_pdf
from members.billing.services.invoices import InvoiceDetails, InvoiceRequested, invoice_request
from members.billing.services.membership import membership_apply, membership_next_period_start
from members.billing.services.payments import (
    offline_provider_enabled,
    one_off_refusal,
    payment_create,
    payment_fulfil,
)
from members.exceptions import MembershipError, PaymentProviderError
from members.joining import join_step
from members.models import AutoRenewal, Grade, Membership, Payment
from members.selectors import profile_completeness


def grades_public(request: HttpRequest) -> HttpResponse:
    grades = Grade.objects.filter(is_active=True)
    return render(request, "members/grades.html", {"grades": grades})


@login_required
def membership_join(request: HttpRequest) -> HttpResponse:
    membership = membership_get(user=request.user)
    if membership and membership.in_good_standing:
        messages.info(request, "You are already a member.")
        return redirect("members:dashboard")
    if not profile_completeness(user=request.user).is_complete:
        messages.info(request, "Complete your profile first: it decides which grades fit you.")
        return redirect(f"{reverse('members:profile')}?next={reverse('members:join')}")
    initial = {"grade": membership.grade_id} if membership else {}
    form = GradeChoiceForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            membership = membership_apply(user=request.user, grade=form.cleaned_data["grade"])
        except MembershipError as exc:
            form.add_error("grade", str(exc))
        else:
            if membership.status == Membership.Status.PENDING_APPROVAL:
                messages.success(
                    request,
                    "Thank you. The membership team will review your application and "
                    "email you; you pay once it is approved.",
                )
                return redirect("members:dashboard")
            return redirect("members:join_check")
    return render(
        request,
        "members/join.html",
        {"form": form, "membership": membership, "join_step": join_step(2)},
    )


def _payment_methods() -> list[tuple[str, str]]:
    methods = []
    if stripe_gateway.is_configured():
        methods.append((Payment.Method.STRIPE, "Debit or credit card"))
    methods.append((Payment.Method.INVOICE, "Invoice to my practice or organisation"))
    if offline_provider_enabled():
        methods.append(
            (Payment.Method.OFFLINE, "Offline test provider (no money moves; for trying out)")
        )
    return methods


@login_required
def membership_pay(request: HttpRequest) -> HttpResponse:
    membership = membership_get(user=request.user)
    if membership is None:
        return redirect("members:join")
    if not membership.payable:
        messages.info(request, "There is nothing to pay at the moment.")
        return redirect("members:dashboard")
    form = PaymentMethodForm(
        request.POST if request.method == "POST" else None, methods=_payment_methods()
    )
    paying_by_invoice = form.is_bound and form.data.get("method") == Payment.Method.INVOICE
    refusal = one_off_refusal(membership) if form.is_bound else ""
    if refusal and form.is_valid():
        # Automatic renewal collects the next year itself: paying by hand
        # as well would buy a second one.
        form.add_error("method", refusal)
    elif paying_by_invoice and form.is_valid():
        response = _pay_by_invoice(request, membership, form)
        if response is not None:
            return response
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["method"] == Payment.Method.STRIPE:
            return _card_checkout(request, membership, form)
        try:
            payment = payment_create(
                membership=membership,
                method=data["method"],
                by=request.user,
            )
        except MembershipError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("members:payment_offline", payment.pk)
    return _pay_page(request, membership, form)


def _auto_renewal_choice(membership: Membership) -> dict:
    """The automatic renewal options the member may choose now, each with
    the plain statement of what will happen, and any live arrangement."""
    offers = [
        auto_renewal_offer(membership=membership, method=method)
        for method in AutoRenewal.Method.values
    ]
    return {
        "auto_offers": [offer for offer in offers if offer.available],
        "auto_renewal": auto_renewal_live(membership),
    }


def _pay_page(request: HttpRequest, membership: Membership, form) -> HttpResponse:
    return render(
        request,
        "members/pay.html",
        {
            **_auto_renewal_choice(membership),
            "form": form,
            "membership": membership,
            "renewing": membership.status != Membership.Status.AWAITING_PAYMENT,
            "join_step": join_step(4)
            if membership.status == Membership.Status.AWAITING_PAYMENT
            else None,
            "period_start": membership_next_period_start(
                membership=membership, paid_on=timezone.localdate()
            ),
        },
    )


def _pay_by_invoice(request, membership: Membership, form) -> HttpResponse | None:
    data = form.cleaned_data
    try:
        requested = invoice_request(
            membership=membership,
            by=request.user,
            details=InvoiceDetails(
                organisation=data["invoice_organisation"],
                address=data["invoice_address"],
                purchase_order=data["invoice_purchase_order"],
                accounts_email=data["invoice_accounts_email"],
            ),
        )
    except MembershipError as exc:
        form.add_error(None, str(exc))
        return None
    messages.success(request, _invoice_message(requested))
    return redirect("members:payment_detail", requested.payment.pk)


def _invoice_message(requested: InvoiceRequested) -> str:
    number = requested.payment.invoice_number
    sent_to = " and ".join(requested.recipients)
    if requested.outcome == "resent":
        return (
            f"Nothing on invoice {number} has changed, so it has been sent again to "
            f"{sent_to}. It is the same invoice: pay it only once."
        )
    if requested.outcome == "replaced":
        return (
            f"Your invoice is ready. The details changed, so invoice "
            f"{requested.replaced.invoice_number} is cancelled and replaced by {number}, "
            f"emailed to {sent_to}."
        )
    return (
        f"Your invoice is ready. Invoice {number} has been emailed to {sent_to}. "
        "Your membership year starts as the invoice explains, once the IGPM receives payment."
    )


def _card_checkout(request: HttpRequest, membership: Membership, form) -> HttpResponse:
    """Send the member to Stripe Checkout: the open session of their card
    payment, or a new one. When Stripe does not answer in time, a page
    that says so (and offers an invoice) instead of an error."""
    try:
        payment = card_payment_start(membership=membership, by=request.user)
        url = card_checkout_url(
            payment=payment,
            success_url=_absolute(request, "members:payment_return", payment.pk),
            cancel_url=_absolute(request, "members:pay"),
        )
    except PaymentProviderError:
        return render(request, "members/card_unavailable.html", status=503)
    except MembershipError as exc:
        form.add_error(None, str(exc))
        return _pay_page(request, membership, form)
    return redirect(url)


def _absolute(request: HttpRequest, name: str, *args) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


def _own_payment(request: HttpRequest, payment_id: int) -> Payment:
    payment = payment_visible_to(payment_id=payment_id, user=request.user)
    if payment is None:
        raise Http404("No such payment.")
    if payment.membership.user_id != request.user.pk:
        # Someone else's payment: only for the membership team, through the
        # same two-factor gate as every staff page.
        refusal = staff_gate(request)
        if refusal is not None:
            raise PermissionDenied("Staff pages need two-factor authentication.")
    return payment


@login_required
def payment_offline(request: HttpRequest, payment_id: int) -> HttpResponse:
    """The offline test provider: stands in for a card payment page."""
    if not offline_provider_enabled():
        raise Http404("The offline test provider is not available.")
    payment = get_object_or_404(
        Payment, pk=payment_id, membership__user=request.user, method=Payment.Method.OFFLINE
    )
    if request.method == "POST":
        payment_fulfil(payment_id=payment.pk, actor=request.user, actor_label="offline provider")
        messages.success(request, "Payment received. Welcome to the IGPM.")
        return redirect("members:payment_detail", payment.pk)
    return render(request, "members/payment_offline.html", {"payment": payment})


@login_required
def payment_return(request: HttpRequest, payment_id: int) -> HttpResponse:
    """Where Stripe sends the member back. It never fulfils anything: only
    the webhook does, so this page just reports what the portal knows."""
    payment = _own_payment(request, payment_id)
    return render(
        request,
        "members/payment_return.html",
        {"payment": payment, "outcome": _return_outcome(payment)},
    )


def _return_outcome(payment: Payment) -> dict:
    """What the return page tells the member about ``payment`` now."""
    status = Payment.Status
    if payment.status == status.HELD:
        key = "checking" if payment.attention_reason == Payment.Attention.WRONG_AMOUNT else "held"
    elif payment.status in (status.REFUNDED, status.PARTIALLY_REFUNDED):
        key = "refunded"
    elif payment.status in (status.PAID, status.FAILED, status.EXPIRED, status.CANCELLED):
        key = payment.status
    else:
        key = "waiting"
    titles = {
        "paid": "Thank you",
        "waiting": "Thank you",
        "failed": "Your payment did not go through",
        "expired": "Your payment was not completed",
        "cancelled": "This payment was replaced",
        "checking": "We are checking your payment",
        "held": "We received a payment you did not need to make",
        "refunded": "Payment refunded",
    }
    return {"key": key, "title": titles[key]}


@login_required
def payment_detail(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = _own_payment(request, payment_id)
    context = {
        "payment": payment,
        "refund_form": RefundRequestForm()
        if can_request_refund(payment, user=request.user)
        else None,
    }
    if payment.status == Payment.Status.PENDING:
        context["period_start"] = membership_next_period_start(
            membership=payment.membership, paid_on=timezone.localdate()
        )
    return render(request, "members/payment_detail.html", context)


@require_POST
@login_required
def payment_refund_request_view(request: HttpRequest, payment_id: int) -> HttpResponse:
    """The member asks for a card payment back (within 14 days)."""
    payment = get_object_or_404(Payment, pk=payment_id, membership__user=request.user)
    form = RefundRequestForm(request.POST)
    if form.is_valid():
        try:
            payment_refund_request(
                payment=payment, by=request.user, reason=form.cleaned_data["reason"]
            )
        except MembershipError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                "Your request has reached the membership team. They will email you "
                "within two working days.",
            )
    return redirect("members:payment_detail", payment.pk)


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def payment_receipt_pdf(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = _own_payment(request, payment_id)
    if not payment.receipt_number:
        raise Http404("This payment has no receipt yet.")
    return _pdf_response(receipt_pdf(payment=payment), f"{payment.receipt_number}.pdf")


@login_required
def payment_invoice_pdf(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = _own_payment(request, payment_id)
    if not payment.invoice_number:
        raise Http404("This payment has no invoice.")
    return _pdf_response(invoice_pdf(payment=payment), f"{payment.invoice_number}.pdf")


@login_required
def membership_certificate_pdf(request: HttpRequest) -> HttpResponse:
    membership = membership_get(user=request.user)
    if membership is None or not membership.in_good_standing:
        raise Http404("Only current members have a membership certificate.")
    first = membership.periods.order_by("starts_on").first()
    member_since = first.starts_on if first else None
    # A member from an imported register joined before their first year here.
    imported = getattr(request.user, "imported", None)
    if imported is not None and member_since:
        member_since = min(member_since, imported.first_joined_on)
    context = {"membership": membership, "member_since": member_since}
    pdf = pdf_render("members/pdf/membership_certificate.html", context)
    return _pdf_response(pdf, f"{membership.number}-certificate.pdf")
