"""Pages of organisation accounts: opening one, buying a year of seats,
inviting managers, freeing and swapping seats; and the invitation a
manager accepts. Only an account's administrators see its pages (others
get a 404, so an account's existence is not revealed)."""

import contextlib
import datetime

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_POST

from igpm.search import search_query, shown_as_typed
from members.access import staff_permission_required
from members.billing.models.membership import GRACE_DAYS, RENEWAL_OPENS_DAYS
from members.billing.services.attention import STRIPE_METHODS, payment_refund_card
from members.billing.services.auto_renewal import provider as auto_renewal_provider
from members.billing.services.card_payments import card_checkout_url
from members.billing.services.documents import invoice_pdf, receipt_pdf
from members.billing.services.invoices import InvoiceDetails, invoice_mark_paid, invoice_resend
from members.billing.services.refunds import refund_record
from members.exceptions import MembershipError, PaymentProviderError
from members.models import (
    AutoRenewal,
    OrganisationAccount,
    Payment,
    Refund,
    SeatHolding,
    SeatInvitation,
)
from members.selectors import profile_completeness

from .auto_renewal import organisation_auto_renewal, organisation_auto_renewal_start
from .forms import (
    AccountForm,
    AdministratorForm,
    InviteForm,
    OrderForm,
    OrganisationRefundForm,
    SwapForm,
)
from .seats import (
    current_year,
    invitation_for_token,
    organisation_account_create,
    organisation_administrator_add,
    organisation_card_start,
    organisation_invoice_request,
    organisation_order,
    seat_invitation_accept,
    seat_invitation_withdraw,
    seat_invitations_send,
    seat_release,
    seat_swap,
)
from .selectors import (
    account_for_administrator,
    account_overview,
    accounts_administered,
    staff_accounts,
)


def _account(request: HttpRequest, account_id: int) -> OrganisationAccount:
    account = account_for_administrator(account_id=account_id, user=request.user)
    if account is None:
        raise Http404("No such organisation.")
    return account


@login_required
def organisations(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "members/organisations/list.html",
        {"accounts": list(accounts_administered(user=request.user))},
    )


@login_required
def organisation_new(request: HttpRequest) -> HttpResponse:
    form = AccountForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            account = organisation_account_create(by=request.user, **form.cleaned_data)
        except MembershipError as exc:
            form.add_error("ods_code", str(exc))
        else:
            messages.success(request, f"{account.name} has an account. You are its administrator.")
            return redirect("members:organisation", account.pk)
    return render(
        request,
        "members/organisations/account_form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@login_required
def organisation(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(request, account_id)
    return render(
        request,
        "members/organisations/account.html",
        {
            "account": account,
            **account_overview(account=account),
            "invite_form": InviteForm(),
            "admin_form": AdministratorForm(),
            "auto_renewal": organisation_auto_renewal(account),
            "auto_renewal_offered": auto_renewal_provider() == "stripe",
        },
    )


@login_required
@require_POST
def organisation_auto_renewal_start_view(request: HttpRequest, account_id: int):
    """Renew the seats automatically: off to Stripe's Checkout for the card
    or the Direct Debit mandate."""
    account = _account(request, account_id)
    back = request.build_absolute_uri(reverse("members:organisation", args=[account.pk]))
    done = request.build_absolute_uri(
        reverse("members:organisation_auto_renewal_return", args=[account.pk])
    )
    try:
        renewal = organisation_auto_renewal_start(
            account=account,
            method=request.POST.get("method", "")[:20],
            by=request.user,
            success_url=done,
            cancel_url=back,
        )
    except MembershipError as exc:
        messages.error(request, str(exc))
        return redirect("members:organisation", account.pk)
    except PaymentProviderError:
        messages.error(request, "Stripe is not answering: nothing was set up. Try again shortly.")
        return redirect("members:organisation", account.pk)
    return redirect(renewal.checkout_url)


@login_required
def organisation_auto_renewal_return(request: HttpRequest, account_id: int):
    """Back from Checkout: finish the set-up now if Stripe's webhook has
    not yet."""
    from members.billing.services.auto_renewal_events import auto_renewal_checkout_settle

    account = _account(request, account_id)
    renewal = organisation_auto_renewal(account)
    if renewal is not None and renewal.status == AutoRenewal.Status.SETTING_UP:
        # Stripe not answering: the webhook finishes it.
        with contextlib.suppress(PaymentProviderError):
            auto_renewal_checkout_settle(auto_renewal_id=renewal.pk, actor_label="return page")
        renewal.refresh_from_db()
    if renewal is not None and renewal.collects:
        messages.success(
            request,
            "The seats renew automatically: the first collection is on "
            f"{date_format(renewal.next_collection_on, 'j F Y')}.",
        )
    else:
        messages.info(request, "Automatic renewal is not set up yet.")
    return redirect("members:organisation", account.pk)


@login_required
@require_POST
def organisation_auto_renewal_stop_view(request: HttpRequest, account_id: int):
    """One click: no more collections (a collection under 14 days old is
    refunded in full)."""
    from members.billing.services.auto_renewal import auto_renewal_stop

    account = _account(request, account_id)
    renewal = organisation_auto_renewal(account)
    if renewal is None:
        messages.info(request, "The seats do not renew automatically.")
        return redirect("members:organisation", account.pk)
    try:
        result = auto_renewal_stop(auto_renewal_id=renewal.pk, actor=request.user, actor_label="")
    except PaymentProviderError:
        messages.error(request, "Stripe is not answering: nothing changed. Try again shortly.")
        return redirect("members:organisation", account.pk)
    if result.refund is not None:
        messages.success(
            request,
            f"Automatic renewal is stopped and the last collection, {result.refund.amount_display}"
            ", is refunded in full. The year it paid for is cancelled and its seats freed.",
        )
    elif result.ends_on:
        messages.success(
            request,
            "Automatic renewal is stopped: nothing more will be collected. The seats run to "
            f"{date_format(result.ends_on, 'j F Y')}.",
        )
    else:
        messages.success(request, "Automatic renewal is stopped.")
    return redirect("members:organisation", account.pk)


@login_required
def organisation_buy(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(request, account_id)
    initial = {
        "method": Payment.Method.INVOICE,
        "invoice_organisation": account.name,
        "invoice_address": account.billing_address,
        "invoice_accounts_email": account.accounts_email,
    }
    year = current_year(account=account)
    if year is not None:
        initial.update(grade=year.grade_id, seats=year.seats)
        if year.ends_on + datetime.timedelta(days=GRACE_DAYS) < timezone.localdate():
            year = None  # lapsed: a new year, not a renewal
    form = OrderForm(
        request.POST if request.method == "POST" else None, account=account, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = organisation_order(
                account=account, grade=data["grade"], seats=data["seats"], by=request.user
            )
            if data["method"] == Payment.Method.STRIPE:
                payment = organisation_card_start(order=order, by=request.user)
                return redirect(
                    card_checkout_url(
                        payment=payment,
                        success_url=request.build_absolute_uri(
                            reverse(
                                "members:organisation_payment_return",
                                args=[account.pk, payment.pk],
                            )
                        ),
                        cancel_url=request.build_absolute_uri(
                            reverse("members:organisation_buy", args=[account.pk])
                        ),
                    )
                )
            payment = organisation_invoice_request(
                order=order,
                by=request.user,
                details=InvoiceDetails(
                    organisation=data["invoice_organisation"],
                    address=data["invoice_address"],
                    purchase_order=data["invoice_purchase_order"],
                    accounts_email=data["invoice_accounts_email"],
                ),
            )
        except PaymentProviderError:
            form.add_error(
                None,
                "Card payments are not answering: no money was taken. Try again in a few "
                "minutes, or choose one invoice to the organisation.",
            )
        except MembershipError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Invoice {payment.invoice_number} for {payment.amount_display} has been "
                "emailed to the organisation's administrators"
                + (
                    f" and {payment.invoice_accounts_email}"
                    if payment.invoice_accounts_email
                    else ""
                )
                + ". The seats are ready to fill as soon as it is paid.",
            )
            return redirect("members:organisation", account.pk)
    return render(
        request,
        "members/organisations/buy.html",
        {
            "account": account,
            "form": form,
            "renews": year,
            "opens_on": _renewal_opens_on(year),
        },
        status=400 if form.errors else 200,
    )


def _renewal_opens_on(year):
    """The day renewal opens, while it is still ahead."""
    if year is None:
        return None
    opens_on = year.ends_on - datetime.timedelta(days=RENEWAL_OPENS_DAYS)
    return opens_on if opens_on > timezone.localdate() else None


@login_required
def organisation_payment_return(request: HttpRequest, account_id: int, payment_id: int):
    account = _account(request, account_id)
    payment = get_object_or_404(Payment, pk=payment_id, organisation_membership__account=account)
    if payment.status == Payment.Status.PAID:
        messages.success(request, "Thank you: the payment has arrived and the seats are ready.")
    else:
        messages.info(
            request,
            "Thank you: Stripe is confirming the payment. The seats are ready as soon as "
            "it arrives.",
        )
    return redirect("members:organisation", account.pk)


@login_required
def organisation_document(request: HttpRequest, account_id: int, payment_id: int, kind: str):
    account = _account(request, account_id)
    payment = get_object_or_404(
        Payment.objects.select_related("organisation_membership__account", "grade", "user"),
        pk=payment_id,
        organisation_membership__account=account,
    )
    return _document(payment, kind)


def _document(payment: Payment, kind: str) -> HttpResponse:
    if kind == "invoice" and payment.invoice_number:
        pdf, name = invoice_pdf(payment=payment), payment.invoice_number
    elif kind == "receipt" and payment.receipt_number:
        pdf, name = receipt_pdf(payment=payment), payment.receipt_number
    else:
        raise Http404("No such document.")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


@login_required
@require_POST
def organisation_invite(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(request, account_id)
    form = InviteForm(request.POST)
    overview = account_overview(account=account)
    year = overview["current"]
    if form.is_valid():
        if not ratelimit.consume(request, action="organisation_invitations", key=str(account.pk)):
            form.add_error(
                "emails",
                "Your organisation has sent a lot of invitations in the last hour. "
                "Try again later.",
            )
        elif year is None:
            form.add_error(None, "Buy seats first: invitations are for a paid year.")
        else:
            try:
                sent = seat_invitations_send(
                    year=year, emails=form.cleaned_data["emails"], by=request.user
                )
            except MembershipError as exc:
                form.add_error("emails", str(exc))
            else:
                messages.success(
                    request,
                    f"Invitation{'s' if len(sent) > 1 else ''} sent to "
                    + ", ".join(i.email for i in sent)
                    + ".",
                )
                return redirect("members:organisation", account.pk)
    return render(
        request,
        "members/organisations/account.html",
        {
            "account": account,
            **overview,
            "invite_form": form,
            "admin_form": AdministratorForm(),
        },
        status=400,
    )


@login_required
@require_POST
def organisation_administrator_add_view(request: HttpRequest, account_id: int):
    account = _account(request, account_id)
    form = AdministratorForm(request.POST)
    if form.is_valid():
        organisation_administrator_add(
            account=account, email=form.cleaned_data["email"], by=request.user
        )
        # The same words whether or not the address has an account.
        messages.success(
            request,
            f"If {form.cleaned_data['email']} has a portal account, they are now an "
            "administrator and we have emailed them to say so. If they are not listed "
            "below, ask them to create an account with that address, then add them again.",
        )
        return redirect("members:organisation", account.pk)
    return render(
        request,
        "members/organisations/account.html",
        {
            "account": account,
            **account_overview(account=account),
            "invite_form": InviteForm(),
            "admin_form": form,
        },
        status=400,
    )


def _holding(account: OrganisationAccount, holding_id: int) -> SeatHolding:
    return get_object_or_404(
        SeatHolding.objects.select_related("user", "seat", "organisation_membership"),
        pk=holding_id,
        organisation_membership__account=account,
        released_on__isnull=True,
    )


@login_required
def organisation_seat_free(request: HttpRequest, account_id: int, holding_id: int):
    account = _account(request, account_id)
    holding = _holding(account, holding_id)
    if request.method == "POST":
        seat_release(holding=holding, by=request.user)
        messages.success(
            request,
            f"Seat {holding.seat.number} is free. "
            f"{holding.user.get_full_name() or holding.user.email} keeps their own record "
            "and can continue on a personal membership.",
        )
        return redirect("members:organisation", account.pk)
    return render(
        request, "members/organisations/seat_free.html", {"account": account, "holding": holding}
    )


@login_required
def organisation_seat_swap(request: HttpRequest, account_id: int, holding_id: int):
    account = _account(request, account_id)
    holding = _holding(account, holding_id)
    form = SwapForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if not ratelimit.consume(request, action="organisation_invitations", key=str(account.pk)):
            form.add_error("email", "Too many invitations in the last hour. Try again later.")
        else:
            try:
                invitation = seat_swap(
                    holding=holding, email=form.cleaned_data["email"], by=request.user
                )
            except MembershipError as exc:
                form.add_error("email", str(exc))
            else:
                messages.success(
                    request,
                    f"Seat {holding.seat.number} is free and {invitation.email} is invited to it.",
                )
                return redirect("members:organisation", account.pk)
    return render(
        request,
        "members/organisations/seat_swap.html",
        {"account": account, "holding": holding, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def organisation_invitation_withdraw(request: HttpRequest, account_id: int, invitation_id: int):
    account = _account(request, account_id)
    invitation = get_object_or_404(
        SeatInvitation, pk=invitation_id, organisation_membership__account=account
    )
    seat_invitation_withdraw(invitation=invitation, by=request.user)
    messages.success(request, f"The invitation to {invitation.email} is withdrawn.")
    return redirect("members:organisation", account.pk)


@login_required
def seat_leave(request: HttpRequest, holding_id: int) -> HttpResponse:
    """A seat holder gives up their own seat (they leave the practice)."""
    holding = get_object_or_404(
        SeatHolding.objects.select_related("organisation_membership__account", "seat"),
        pk=holding_id,
        user=request.user,
        released_on__isnull=True,
    )
    if request.method == "POST":
        seat_release(holding=holding, by=request.user)
        messages.success(
            request,
            "You no longer hold a seat of "
            f"{holding.organisation_membership.account.name}. Your record stays yours: "
            "renew personally by "
            f"{date_format(holding.organisation_membership.ends_on, 'j F Y')} and your "
            "year continues with no days lost.",
        )
        return redirect("members:dashboard")
    return render(request, "members/organisations/seat_leave.html", {"holding": holding})


def seat_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the invitation email: sign in, then accept the seat."""
    invitation = invitation_for_token(token)
    if invitation is None:
        raise Http404("This invitation link is not valid.")
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    error = ""
    if request.method == "POST":
        try:
            holding = seat_invitation_accept(token=token, user=request.user)
        except MembershipError as exc:
            error = str(exc)
        else:
            messages.success(
                request,
                f"You hold a seat of {invitation.organisation_membership.account.name}. "
                "Your membership is your own: your number, CPD and certificates stay with you.",
            )
            if getattr(holding, "personal_renewal_stopped", False):
                messages.info(
                    request,
                    "Your personal automatic renewal was stopped: your organisation now "
                    "pays for your membership, so nothing more will be collected from you.",
                )
            if not profile_completeness(user=request.user).is_complete:
                messages.info(request, "Complete your profile so the IGPM knows your role.")
                return redirect(
                    f"{reverse('members:profile')}?next={reverse('members:dashboard')}"
                )
            return redirect("members:dashboard")
    return render(
        request,
        "members/organisations/invitation.html",
        {
            "invitation": invitation,
            "account": invitation.organisation_membership.account,
            "error": error,
        },
        status=400 if error else 200,
    )


# --- Staff ---------------------------------------------------------------

_STAFF = staff_permission_required(
    "members.manage_memberships", "Only the membership team sees organisation accounts."
)


@_STAFF
def staff_organisations(request: HttpRequest) -> HttpResponse:
    query, error = search_query(request)
    return render(
        request,
        "members/organisations/staff_list.html",
        {
            "accounts": [] if error else list(staff_accounts(query=query)[:100]),
            "query": shown_as_typed(request) if error else query,
            "search_error": error,
        },
        status=400 if error else 200,
    )


@_STAFF
def staff_organisation(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(
        OrganisationAccount.objects.select_related("nhs_organisation"), pk=account_id
    )
    return render(
        request,
        "members/organisations/staff_account.html",
        {
            "account": account,
            **account_overview(account=account),
            "refundable_statuses": sorted(Payment.REFUNDABLE),
        },
    )


@_STAFF
@require_POST
def staff_organisation_invoice_paid(request: HttpRequest, account_id: int, payment_id: int):
    payment = get_object_or_404(
        Payment, pk=payment_id, organisation_membership__account_id=account_id
    )
    try:
        invoice_mark_paid(payment=payment, by=request.user)
    except MembershipError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Invoice {payment.invoice_number} is marked paid.")
    return redirect("members:staff_organisation", account_id)


@_STAFF
def staff_organisation_document(request: HttpRequest, account_id: int, payment_id: int, kind: str):
    payment = get_object_or_404(
        Payment, pk=payment_id, organisation_membership__account_id=account_id
    )
    return _document(payment, kind)


def _staff_payment(account_id: int, payment_id: int) -> Payment:
    return get_object_or_404(
        Payment.objects.select_related("organisation_membership__account"),
        pk=payment_id,
        organisation_membership__account_id=account_id,
    )


@_STAFF
@require_POST
def staff_organisation_invoice_resend(request: HttpRequest, account_id: int, payment_id: int):
    """Email an organisation's open invoice again, to its administrators
    and accounts address (recorded and audited)."""
    payment = _staff_payment(account_id, payment_id)
    try:
        send = invoice_resend(payment=payment, by=request.user)
    except MembershipError as exc:
        messages.error(request, str(exc))
    else:
        recipients = ", ".join(send.recipients)
        messages.success(request, f"Invoice {payment.invoice_number} sent again to {recipients}.")
    return redirect("members:staff_organisation", account_id)


@_STAFF
def staff_organisation_refund(request: HttpRequest, account_id: int, payment_id: int):
    """Refund an organisation's payment: through Stripe for card and
    Direct Debit money, recorded for an invoice paid outside the portal;
    staff choose whether the year it bought (and its seats) ends."""
    payment = _staff_payment(account_id, payment_id)
    by_stripe = payment.method in STRIPE_METHODS and bool(payment.stripe_payment_intent_id)
    form = OrganisationRefundForm(
        request.POST if request.method == "POST" else None,
        payment=payment,
        initial={"amount": payment.refundable_pence / 100},
    )
    if payment.status not in Payment.REFUNDABLE or payment.refundable_pence == 0:
        messages.error(request, "This payment has nothing left to refund.")
        return redirect("members:staff_organisation", account_id)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if by_stripe:
                payment_refund_card(
                    payment=payment,
                    amount_pence=data["amount"],
                    reason=data["reason"],
                    effect=data["effect"],
                    by=request.user,
                )
            else:
                refund_record(
                    payment=payment,
                    amount_pence=data["amount"],
                    reason=data["reason"],
                    effect=data["effect"],
                    by=request.user,
                )
        except PaymentProviderError:
            form.add_error(None, "Stripe is not answering: nothing was refunded. Try again.")
        except MembershipError as exc:
            form.add_error("amount", str(exc))
        else:
            ended = data["effect"] == Refund.Effect.END_NOW
            messages.success(
                request,
                ("Refunded through Stripe" if by_stripe else "Refund recorded")
                + (": the year is ended and its seats freed." if ended else "; the seats stay."),
            )
            return redirect("members:staff_organisation", account_id)
    return render(
        request,
        "members/organisations/staff_refund.html",
        {
            "account": payment.organisation_membership.account,
            "payment": payment,
            "form": form,
            "by_stripe": by_stripe,
        },
        status=400 if form.is_bound else 200,
    )
