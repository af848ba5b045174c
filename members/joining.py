"""Joining as a guided flow: profile, grade, check your answers, payment.

The steps themselves are the profile page, the grade page and the pay
page, each of which shows where the member is through ``join_step``; this
module adds the check-your-answers page between choosing and paying.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from members.billing.selectors import membership_get
from members.billing.services.auto_renewal import auto_renewal_offer
from members.billing.services.membership import membership_next_period_start
from members.models import AutoRenewal, Membership
from members.selectors import profile_completeness, profile_get

JOIN_STEPS = ("Your profile", "Your membership grade", "Check your answers", "Payment")


def join_step(number: int) -> dict:
    """What the step indicator shows on step ``number`` (from 1)."""
    return {"number": number, "total": len(JOIN_STEPS), "title": JOIN_STEPS[number - 1]}


def joining_urls() -> set[str]:
    """The pages a profile saved in the flow may go back to."""
    return {reverse("members:join"), reverse("members:join_check")}


@login_required
def join_check(request: HttpRequest) -> HttpResponse:
    """Everything the member chose, and when their year starts, before any
    money is asked for. Each change link comes back here."""
    membership = membership_get(user=request.user)
    if membership is None or membership.status != Membership.Status.AWAITING_PAYMENT:
        # Nothing to check: not chosen yet, waiting for approval, or paid.
        return redirect("members:join")
    completeness = profile_completeness(user=request.user)
    if not completeness.is_complete:
        messages.info(request, "Complete your profile first: it decides which grades fit you.")
        return redirect(f"{reverse('members:profile')}?next={reverse('members:join_check')}")
    here = reverse("members:join_check")
    offer = auto_renewal_offer(membership=membership, method=AutoRenewal.Method.CARD)
    return render(
        request,
        "members/joining/check.html",
        {
            "membership": membership,
            "profile": profile_get(user=request.user),
            "period_start": membership_next_period_start(
                membership=membership, paid_on=timezone.localdate()
            ),
            "change_profile": f"{reverse('members:profile')}?next={here}",
            "change_grade": reverse("members:join"),
            "join_step": join_step(3),
            "auto_offer": offer if offer.available else None,
        },
    )
