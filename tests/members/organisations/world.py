"""Organisation accounts for tests: an account with an administrator, a
grade priced per seat, and a paid year of seats."""

import datetime

from members.billing.services.invoices import InvoiceDetails, invoice_mark_paid
from members.models import OrganisationGrade
from members.organisations.seats import (
    organisation_account_create,
    organisation_invoice_request,
    organisation_order,
    seat_invitation_accept,
    seat_invitations_send,
)
from tests.factories import ProfileFactory, UserFactory, grade, team_member


def seat_grade(fee_pence: int = 8000) -> OrganisationGrade:
    obj, _ = OrganisationGrade.objects.get_or_create(
        slug="practice-seats",
        defaults={
            "name": "Practice seats",
            "member_grade": grade("member"),
            "pricing": OrganisationGrade.Pricing.PER_SEAT,
            "seat_fee_pence": fee_pence,
        },
    )
    return obj


def account(admin=None, **fields):
    admin = admin or UserFactory(email="manager@riverside.example")
    fields.setdefault("name", "Riverside Surgery")
    fields.setdefault("kind", "practice")
    fields.setdefault("ods_code", "A81001")
    return organisation_account_create(by=admin, **fields), admin


def invoice(order, admin, po="PO-1234"):
    return organisation_invoice_request(
        order=order,
        by=admin,
        details=InvoiceDetails(organisation=order.account.name, purchase_order=po),
    )


def paid_year(seats: int = 3, acct=None, admin=None):
    """An account with a paid year of ``seats`` (invoice marked paid)."""
    if acct is None:
        acct, admin = account()
    order = organisation_order(account=acct, grade=seat_grade(), seats=seats, by=admin)
    payment = invoice(order, admin)
    invoice_mark_paid(payment=payment, by=team_member("Membership team"))
    order.refresh_from_db()
    return order, admin


def seat_holder(year, admin, email=None):
    person = ProfileFactory(user__email=email or UserFactory.build().email).user
    invitation = seat_invitations_send(year=year, emails=[person.email], by=admin)[0]
    holding = seat_invitation_accept(token=invitation.token, user=person)
    return person, holding


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)
