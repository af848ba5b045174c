"""The needs-attention queue: card money that did not fit, for the
membership team."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from members.access import staff_permission_required
from members.billing.forms import AttentionActionForm
from members.billing.selectors import payments_needing_attention
from members.billing.services.attention import (
    can_accept,
    can_refund,
    payment_accept,
    payment_attention_resolve,
    payment_refund_card,
)
from members.exceptions import MembershipError
from members.models import Payment, Refund

membership_team_required = staff_permission_required(
    "members.manage_memberships", "Membership team only."
)


def _page(request: HttpRequest, *, failed: tuple[int, AttentionActionForm] | None = None):
    rows = []
    for payment in payments_needing_attention():
        form = (
            failed[1]
            if failed and failed[0] == payment.pk
            else AttentionActionForm(payment=payment, prefix=f"p{payment.pk}")
        )
        rows.append(
            {
                "payment": payment,
                "form": form,
                "can_accept": can_accept(payment),
                "can_refund": can_refund(payment),
                "notices": list(payment.notices.all()),
            }
        )
    return render(
        request,
        "members/staff/attention.html",
        {"rows": rows},
        status=400 if failed else 200,
    )


@membership_team_required
def attention_queue(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@membership_team_required
def attention_action(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = get_object_or_404(Payment, pk=payment_id)
    form = AttentionActionForm(request.POST, payment=payment, prefix=f"p{payment.pk}")
    if not form.is_valid():
        return _page(request, failed=(payment.pk, form))
    action = form.cleaned_data["action"]
    reason = form.cleaned_data["reason"]
    try:
        if action == "refund":
            if not can_refund(payment):
                raise MembershipError("This payment cannot be refunded through Stripe.")
            payment_refund_card(
                payment=payment,
                amount_pence=payment.refundable_pence,
                reason=reason,
                # Takes off the year the payment bought, if it bought one
                # (held money bought none: the service leaves it alone).
                effect=Refund.Effect.SHORTEN,
                by=request.user,
            )
            done = f"Refunded {payment.refundable_display} through Stripe."
        elif action == "accept":
            changed = payment_accept(payment=payment, by=request.user, reason=reason)
            done = "Accepted: the member's year is extended." if changed else "Already accepted."
        else:
            changed = payment_attention_resolve(payment=payment, by=request.user, reason=reason)
            done = "Marked resolved." if changed else "Already resolved."
    except MembershipError as exc:
        form.add_error("action", str(exc))
        return _page(request, failed=(payment.pk, form))
    messages.success(request, done)
    return redirect("members:staff_attention")
