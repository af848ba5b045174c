"""The membership team and an organisation's money, from its staff page:
refunds (through Stripe for card and Direct Debit money, recorded for an
invoice), with what happens to the seats, and sending an invoice again."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from members.models import (
    AuditEntry,
    InvoiceEmail,
    OrganisationMembership,
    Payment,
    Refund,
    SeatHolding,
)
from members.organisations.seats import organisation_order
from tests.factories import team_member
from tests.members.organisations.test_auto_renewal import collect, ending_soon, send, set_up
from tests.members.organisations.world import invoice, paid_year, seat_grade, seat_holder

pytestmark = pytest.mark.django_db


def refund_url(payment):
    return reverse(
        "members:staff_organisation_refund",
        args=[payment.organisation_membership.account_id, payment.pk],
    )


def test_an_invoice_refund_is_recorded_and_ending_the_year_frees_its_seats(client):
    year, admin = paid_year(seats=3)
    holder, _ = seat_holder(year, admin)
    payment = Payment.objects.get(organisation_membership=year)
    staff = team_member("Membership team")
    client.force_login(staff)
    page = client.get(refund_url(payment))
    assert page.status_code == 200
    assert b"Outside the portal" in page.content
    response = client.post(
        refund_url(payment),
        {"amount": "240.00", "effect": "end_now", "reason": "The practice closed."},
        follow=True,
    )
    assert b"the year is ended and its seats freed" in response.content
    refund = Refund.objects.get(payment=payment)
    assert (refund.amount_pence, refund.effect, refund.recorded_by) == (24000, "end_now", staff)
    assert refund.stripe_refund_id is None
    year.refresh_from_db()
    assert year.status == OrganisationMembership.Status.CANCELLED
    assert not SeatHolding.objects.filter(
        organisation_membership=year, released_on__isnull=True
    ).exists()
    holder.membership.refresh_from_db()
    assert holder.membership.number  # the holder keeps their record
    assert AuditEntry.objects.filter(action="refunded", actor=staff).exists()
    assert AuditEntry.objects.filter(
        action="organisation_year_ended", actor=staff, reason="The practice closed."
    ).exists()


def test_a_partial_refund_keeping_the_year_leaves_the_seats(client):
    year, admin = paid_year(seats=2)
    seat_holder(year, admin)
    payment = Payment.objects.get(organisation_membership=year)
    client.force_login(team_member("Membership team"))
    client.post(
        refund_url(payment), {"amount": "80.00", "effect": "none", "reason": "One seat unused."}
    )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PARTIALLY_REFUNDED
    year.refresh_from_db()
    assert year.status == OrganisationMembership.Status.ACTIVE
    assert SeatHolding.objects.filter(organisation_membership=year).count() == 1


def test_bad_input_is_refused_by_the_field_and_kept(client):
    year, _admin = paid_year(seats=2)
    payment = Payment.objects.get(organisation_membership=year)
    client.force_login(team_member("Membership team"))
    response = client.post(
        refund_url(payment), {"amount": "999.00", "effect": "none", "reason": "Too much."}
    )
    assert response.status_code == 400
    assert "Enter no more than £160.00" in response.content.decode()
    assert "Too much." in response.content.decode()
    response = client.post(refund_url(payment), {"amount": "10", "effect": "shorten"})
    assert response.status_code == 400
    assert b"Give a reason for the refund." in response.content
    assert not Refund.objects.exists()


def test_a_card_collection_is_refunded_through_stripe_once(stripe_fake):
    year, admin = ending_soon(seats=2)
    _renewal, sub = set_up(stripe_fake, year, admin)
    collected, obj = collect(stripe_fake, sub)
    send(Client(), "invoice.paid", obj)
    payment = Payment.objects.get(stripe_invoice_id=collected["id"])
    staff = Client()
    staff.force_login(team_member("Membership team"))
    assert b"Through Stripe" in staff.get(refund_url(payment)).content
    form = {"amount": "160.00", "effect": "none", "reason": "Asked for by the practice."}
    staff.post(refund_url(payment), form)
    again = staff.post(refund_url(payment), form, follow=True)
    assert b"nothing left to refund" in again.content
    assert [r["amount"] for r in stripe_fake.refunds.values()] == [16000]
    refund = Refund.objects.get(payment=payment)
    assert refund.stripe_refund_id == next(iter(stripe_fake.refunds))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    # Kept: the year it bought stays, with its seats.
    assert payment.organisation_membership.status == OrganisationMembership.Status.ACTIVE


def test_staff_send_an_open_invoice_again_to_the_administrators(client):
    acct_year, admin = ending_soon(seats=1)
    order = organisation_order(account=acct_year.account, grade=seat_grade(), seats=2, by=admin)
    open_invoice = invoice(order, admin, po="PO-77")
    mail.outbox.clear()
    staff = team_member("Membership team")
    client.force_login(staff)
    html = client.get(
        reverse("members:staff_organisation", args=[acct_year.account_id])
    ).content.decode()
    assert f"Send invoice {open_invoice.invoice_number} again" in html
    response = client.post(
        reverse(
            "members:staff_organisation_invoice_resend",
            args=[acct_year.account_id, open_invoice.pk],
        ),
        follow=True,
    )
    assert f"sent again to {admin.email}" in response.content.decode()
    assert InvoiceEmail.objects.filter(
        payment=open_invoice, reason=InvoiceEmail.Reason.RESENT, requested_by=staff
    ).exists()
    assert AuditEntry.objects.filter(action="invoice_resent", actor=staff).exists()
    # A paid invoice is not sent again.
    paid = Payment.objects.get(organisation_membership=acct_year)
    response = client.post(
        reverse("members:staff_organisation_invoice_resend", args=[acct_year.account_id, paid.pk]),
        follow=True,
    )
    assert b"Only an open invoice is sent again." in response.content
