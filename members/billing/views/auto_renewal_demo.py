"""The offline test provider's demo of automatic renewal: one button on
the dashboard collects the next year now (or fails to), end to end, as
Stripe would on the collection day. Never with Stripe configured."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.formats import date_format
from django.views.decorators.http import require_POST

from members.billing.selectors import auto_renewal_live, membership_get
from members.billing.services.auto_renewal import offline_collection_simulate
from members.billing.services.payments import offline_provider_enabled
from members.exceptions import MembershipError


@login_required
@require_POST
def auto_renewal_simulate(request: HttpRequest) -> HttpResponse:
    if not offline_provider_enabled():
        raise Http404("The offline test provider is not enabled.")
    outcome = request.POST.get("outcome", "paid")
    if outcome not in ("paid", "failed"):
        outcome = "paid"
    renewal = auto_renewal_live(membership_get(user=request.user))
    if renewal is None or not renewal.collects or renewal.stripe_subscription_id:
        messages.info(request, "There is no automatic collection to simulate.")
        return redirect("members:dashboard")
    try:
        renewal = offline_collection_simulate(auto_renewal_id=renewal.pk, outcome=outcome)
    except MembershipError as exc:
        messages.error(request, str(exc))
        return redirect("members:dashboard")
    if outcome == "paid":
        messages.success(
            request,
            "Simulated: the automatic collection went through and your next year is paid. "
            f"The next collection is on {date_format(renewal.next_collection_on, 'j F Y')}."
            if renewal.next_collection_on
            else "Simulated: the automatic collection went through.",
        )
    else:
        messages.warning(request, "Simulated: the automatic collection failed.")
    return redirect("members:dashboard")
