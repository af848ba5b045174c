"""Automatic renewal: set it up (Stripe Checkout or the offline provider),
come back, stop it (from the dashboard or an email's link), change the card
or bank account. Thin: each calls one service."""

from contextlib import suppress

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_POST

from members.billing.selectors import auto_renewal_live, membership_get
from members.billing.services.auto_renewal import (
    auto_renewal_portal_url,
    auto_renewal_start,
    auto_renewal_stop,
    offline_setup_complete,
    stop_token_read,
)
from members.billing.services.auto_renewal_events import auto_renewal_checkout_settle
from members.billing.services.payments import offline_provider_enabled
from members.exceptions import MembershipError, PaymentProviderError
from members.models import AutoRenewal


def _absolute(request: HttpRequest, name: str, query: str = "") -> str:
    return request.build_absolute_uri(reverse(name)) + query


def _back(membership) -> str:
    return "members:pay" if membership is not None and membership.payable else "members:dashboard"


@login_required
@require_POST
def auto_renewal_start_view(request: HttpRequest) -> HttpResponse:
    """Form field ``method`` (card or bacs_debit): off to the set-up page."""
    membership = membership_get(user=request.user)
    if membership is None:
        return redirect("members:join")
    method = request.POST.get("method", "")
    if method not in AutoRenewal.Method.values:
        messages.error(request, "Choose to renew automatically by card or by Direct Debit.")
        return redirect(_back(membership))
    try:
        renewal = auto_renewal_start(
            membership=membership,
            method=method,
            user=request.user,
            success_url=_absolute(request, "members:auto_renewal_return", "?outcome=success"),
            cancel_url=_absolute(request, "members:auto_renewal_return", "?outcome=cancel"),
        )
    except PaymentProviderError:
        return render(request, "members/card_unavailable.html", status=503)
    except MembershipError as exc:
        messages.error(request, str(exc))
        return redirect(_back(membership))
    return redirect(renewal.checkout_url)


@login_required
@require_GET
def auto_renewal_return(request: HttpRequest) -> HttpResponse:
    """Back from Stripe Checkout. Finishing it is the webhook's job; this
    asks Stripe too (the same idempotent path), so the dashboard is right
    straight away when the webhook is a little late."""
    membership = membership_get(user=request.user)
    renewal = auto_renewal_live(membership)
    if request.GET.get("outcome") != "success" or renewal is None:
        messages.info(request, "Automatic renewal was not set up. Nothing has been collected.")
        return redirect(_back(membership))
    if renewal.status == AutoRenewal.Status.SETTING_UP and renewal.stripe_checkout_session_id:
        # When Stripe does not answer, the webhook will finish it.
        with suppress(PaymentProviderError):
            auto_renewal_checkout_settle(auto_renewal_id=renewal.pk, actor_label="return page")
        renewal.refresh_from_db()
    if renewal.status == AutoRenewal.Status.SETTING_UP:
        messages.success(
            request,
            "Thank you. Stripe is confirming your automatic renewal; this page will show it "
            "in a minute or two.",
        )
    else:
        messages.success(request, _set_up_message(renewal))
    return redirect("members:dashboard")


def _set_up_message(renewal: AutoRenewal) -> str:
    day = date_format(renewal.next_collection_on, "j F Y") if renewal.next_collection_on else ""
    if renewal.method == AutoRenewal.Method.BACS_DEBIT:
        return (
            f"Direct Debit set up. The first collection is on {day}; your bank confirms the "
            "Direct Debit in about 4 working days."
        )
    return f"Your membership now renews automatically. The next collection is on {day}."


@login_required
@require_POST
def auto_renewal_stop_view(request: HttpRequest) -> HttpResponse:
    """One click from the dashboard."""
    renewal = auto_renewal_live(membership_get(user=request.user))
    if renewal is None:
        messages.info(request, "Your membership does not renew automatically.")
        return redirect("members:dashboard")
    try:
        result = auto_renewal_stop(auto_renewal_id=renewal.pk, actor=request.user, actor_label="")
    except PaymentProviderError as exc:
        messages.error(request, str(exc))
        return redirect("members:dashboard")
    messages.success(request, stopped_message(result))
    return redirect("members:dashboard")


def stopped_message(result) -> str:
    if result.refund is not None:
        return (
            f"Automatic renewal stopped. The last collection, {result.refund.amount_display}, "
            "is being refunded to you in full."
        )
    if result.refund_owed_pence:
        return (
            f"Automatic renewal stopped. The last collection, "
            f"£{result.refund_owed_pence / 100:,.2f}, is being refunded to you in full. "
            "Stripe has not confirmed the refund yet: it is asked again automatically, and "
            "the membership team makes it if that fails. You do not need to do anything."
        )
    if result.ends_on:
        return (
            "Automatic renewal stopped: nothing more will be collected. Your membership "
            f"runs to {date_format(result.ends_on, 'j F Y')}."
        )
    return "Automatic renewal stopped: nothing more will be collected."


def auto_renewal_stop_link(request: HttpRequest, token: str) -> HttpResponse:
    """The stop link in every collection email: the signed token is the
    key, so no sign-in and nothing to type. A GET shows one button (mail
    scanners follow links); the POST stops, and is limited per client
    address."""
    if not ratelimit.consume(request, action="auto_renewal_stop_link"):
        return render(request, "members/auto_renewal_stop.html", {"limited": True}, status=429)
    renewal = stop_token_read(token) if len(token) <= 200 else None
    if renewal is None:
        return render(request, "members/auto_renewal_stop.html", {}, status=404)
    result = None
    if request.method == "POST":
        try:
            result = auto_renewal_stop(
                auto_renewal_id=renewal.pk, actor=None, actor_label="member, from an email link"
            )
        except PaymentProviderError as exc:
            messages.error(request, str(exc))
        else:
            renewal = result.auto_renewal
    return render(
        request,
        "members/auto_renewal_stop.html",
        {
            "renewal": renewal,
            "membership": renewal.membership,
            "done": stopped_message(result) if result else "",
        },
    )


@login_required
@require_POST
def auto_renewal_payment_method(request: HttpRequest) -> HttpResponse:
    """Change the card or bank account: Stripe's customer portal."""
    renewal = auto_renewal_live(membership_get(user=request.user))
    if renewal is None:
        messages.info(request, "Your membership does not renew automatically.")
        return redirect("members:dashboard")
    return_url = _absolute(request, "members:dashboard")
    try:
        url = auto_renewal_portal_url(auto_renewal=renewal, return_url=return_url)
    except MembershipError as exc:
        messages.error(request, str(exc))
        return redirect("members:dashboard")
    if url == return_url:
        messages.info(
            request,
            "The offline test provider keeps no card or bank account, so there is nothing "
            "to change.",
        )
    return redirect(url)


@login_required
def auto_renewal_offline(request: HttpRequest, auto_renewal_id: int) -> HttpResponse:
    """The offline test provider's stand-in for Stripe Checkout."""
    if not offline_provider_enabled():
        raise Http404("The offline test provider is not available.")
    renewal = get_object_or_404(
        AutoRenewal.objects.select_related("grade", "membership"),
        pk=auto_renewal_id,
        membership__user=request.user,
        stripe_subscription_id__isnull=True,
    )
    if request.method == "POST" and renewal.status == AutoRenewal.Status.SETTING_UP:
        try:
            renewal = offline_setup_complete(auto_renewal_id=renewal.pk, actor=request.user)
        except MembershipError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _set_up_message(renewal))
            return redirect("members:dashboard")
    return render(request, "members/auto_renewal_offline.html", {"renewal": renewal})
