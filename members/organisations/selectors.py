"""Reads for organisation accounts: a fixed number of queries a page,
however many seats, invitations and payments there are."""

from django.db.models import Prefetch
from django.utils import timezone

from members.models import (
    OrganisationAccount,
    OrganisationMembership,
    Payment,
    SeatHolding,
    SeatInvitation,
)


def accounts_administered(*, user):
    return OrganisationAccount.objects.filter(administrators__user=user).order_by("name")


def account_for_administrator(*, account_id: int, user) -> OrganisationAccount | None:
    """The account, if ``user`` administers it; None otherwise (a 404, so
    the account's existence is not revealed)."""
    if not user.is_authenticated:
        return None
    return (
        OrganisationAccount.objects.filter(pk=account_id, administrators__user=user)
        .select_related("nhs_organisation")
        .first()
    )


def account_overview(*, account: OrganisationAccount) -> dict:
    """The account page: its current year and the one after, who holds each
    seat, open invitations, the open order and its payments."""
    today = timezone.localdate()
    years = list(
        OrganisationMembership.objects.filter(account=account)
        .exclude(status=OrganisationMembership.Status.CANCELLED)
        .select_related("grade")
        .order_by("-ends_on", "-pk")[:3]
    )
    active = [y for y in years if y.status == OrganisationMembership.Status.ACTIVE]
    current = next((y for y in active if y.starts_on <= today <= y.ends_on), None)
    if current is None and active:
        current = active[0]
    order = next(
        (y for y in years if y.status == OrganisationMembership.Status.AWAITING_PAYMENT), None
    )
    holdings = []
    invitations = []
    if current is not None:
        holdings = list(
            SeatHolding.objects.filter(organisation_membership=current, released_on__isnull=True)
            .select_related("seat", "user__membership")
            .order_by("seat__number")
        )
        invitations = list(
            SeatInvitation.objects.filter(
                organisation_membership=current,
                accepted_at__isnull=True,
                withdrawn_at__isnull=True,
                expires_at__gte=timezone.now(),
            ).order_by("email")
        )
    payments = list(
        Payment.objects.filter(organisation_membership__account=account)
        .select_related("organisation_membership")
        .order_by("-created_at", "-pk")[:10]
    )
    return {
        "current": current,
        "order": order,
        "holdings": holdings,
        "free_seats": (current.seats - len(holdings)) if current else 0,
        "invitations": invitations,
        "payments": payments,
        "administrators": list(
            account.administrators.select_related("user").order_by("user__email")
        ),
    }


def seat_holdings_for_member(*, user):
    return (
        SeatHolding.objects.filter(user=user)
        .select_related("organisation_membership__account", "seat")
        .order_by("-organisation_membership__ends_on", "-pk")
    )


def staff_accounts(*, query: str = ""):
    accounts = OrganisationAccount.objects.select_related("nhs_organisation__icb")
    if query:
        from django.db.models import Q

        accounts = accounts.filter(Q(name__icontains=query) | Q(ods_code__iexact=query))
    return accounts.prefetch_related(
        Prefetch(
            "memberships",
            queryset=OrganisationMembership.objects.filter(
                status=OrganisationMembership.Status.ACTIVE
            ).order_by("-ends_on"),
            to_attr="paid_years",
        )
    ).order_by("name")
