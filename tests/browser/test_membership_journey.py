"""Joining, paying and staff approval in Debian's Chromium, with axe on every page."""

import io
import re

import pytest
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import expect
from pypdf import PdfReader

from members.billing.services.invoices import InvoiceDetails, invoice_request
from members.billing.services.payments import payment_create, payment_fulfil
from members.models import Membership, MembershipPeriod, Payment
from tests.browser.conftest import assert_accessible
from tests.browser.test_account_pages import sign_in
from tests.factories import MembershipFactory, ProfileFactory, StaffFactory, grade, team_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def heading(page):
    return page.get_by_role("heading", level=1)


def assert_pdf(page, href: str) -> None:
    """The link serves a real PDF to the signed-in browser."""
    response = page.request.get(href)
    assert response.ok, f"{href} answered {response.status}"
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")


def test_member_joins_and_pays_with_the_offline_provider(page, live_server):
    grade("member")
    grade("fellow")
    user = ProfileFactory(user__first_name="Priya").user

    page.goto("/membership/")
    expect(heading(page)).to_have_text("Membership grades and fees")
    expect(page.get_by_role("row", name=re.compile(r"^Member"))).to_contain_text("£95.00")
    assert_accessible(page)

    sign_in(page, user, live_server)
    page.goto("/dashboard/")
    expect(page.get_by_text("You are not a member yet.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Join the IGPM").click()
    expect(heading(page)).to_have_text("Choose your membership grade")
    assert_accessible(page)

    # Continuing without a choice: the summary takes focus and links to the radios.
    page.get_by_role("button", name="Continue").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Choose a membership grade.")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)
    summary.get_by_role("link").click()
    expect(page.get_by_role("radio").first).to_be_focused()

    page.get_by_role("radio", name="Member, £95.00 a year").check()
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text("Check your answers before you pay")
    page.get_by_role("link", name="Continue to payment").click()
    expect(heading(page)).to_have_text("Pay for your membership")
    expect(page.locator(".summary-list")).to_contain_text("£95.00 for 12 months")
    assert_accessible(page)

    # Invoice without the organisation: the error sits by the field, the PO stays.
    page.get_by_role("radio", name=re.compile(r"^Invoice")).check()
    page.get_by_label("Purchase order number (optional)").fill("PO-4471")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    organisation = page.get_by_label("Organisation paying the invoice")
    expect(organisation).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_invoice_organisation_error")).to_have_text(
        "Error: Enter the name of the organisation paying the invoice."
    )
    expect(page.get_by_label("Purchase order number (optional)")).to_have_value("PO-4471")
    expect(page.get_by_role("radio", name=re.compile(r"^Invoice"))).to_be_checked()
    assert_accessible(page)

    page.get_by_role("radio", name=re.compile(r"^Offline test provider")).check()
    page.get_by_role("button", name="Continue to payment").click()
    expect(heading(page)).to_have_text("Offline test payment")
    expect(page.get_by_text("No money moves")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Complete test payment").click()
    expect(heading(page)).to_have_text("Payment for Member membership")
    expect(page.get_by_role("status")).to_contain_text("Payment received. Welcome to the IGPM.")
    receipt = page.get_by_role("link", name=re.compile(r"^Download receipt RCT-\d{4}-\d{6}"))
    expect(receipt).to_be_visible()
    assert_accessible(page)
    assert_pdf(page, receipt.get_attribute("href"))

    page.get_by_role("link", name="Back to your dashboard").click()
    expect(heading(page)).to_have_text("Welcome, Priya")
    membership_panel = page.get_by_role("region", name="Your membership")
    expect(membership_panel.locator("dt:has-text('Status') + dd")).to_have_text("Active")
    expect(membership_panel.locator("dt:has-text('Membership number') + dd")).to_have_text(
        re.compile(r"^IGPM-\d{6}$")
    )
    payment_link = membership_panel.get_by_role("link", name=re.compile(r"£95\.00"))
    expect(payment_link).to_have_count(1)
    expect(payment_link).to_contain_text("offline test provider, paid")
    assert_accessible(page)

    membership = Membership.objects.get(user=user)
    assert membership.status == Membership.Status.ACTIVE
    assert re.fullmatch(r"IGPM-\d{6}", membership.number)

    # The receipt is also a real download from the payment the dashboard lists.
    payment_link.click()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^Download receipt")).click()
    assert re.fullmatch(r"RCT-\d{4}-\d{6}\.pdf", download.value.suggested_filename)
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"


def test_member_asks_for_an_invoice(page, live_server):
    membership = MembershipFactory(grade=grade("member"))
    sign_in(page, membership.user, live_server)

    page.goto("/membership/pay/")
    page.get_by_role("radio", name=re.compile(r"^Invoice")).check()
    page.get_by_label("Organisation paying the invoice").fill("Moorside Surgery")
    page.get_by_label("Purchase order number (optional)").fill("PO-9001")
    page.get_by_role("button", name="Continue to payment").click()

    expect(heading(page)).to_have_text("Payment for Member membership")
    expect(page.get_by_role("status")).to_contain_text("Your invoice is ready.")
    payment = Payment.objects.get(membership=membership)
    invoice = page.get_by_role("link", name=f"Download invoice {payment.invoice_number} (PDF)")
    expect(invoice).to_be_visible()
    expect(page.get_by_text("Moorside Surgery (PO PO-9001)")).to_be_visible()
    assert_accessible(page)
    assert_pdf(page, invoice.get_attribute("href"))
    assert payment.status == Payment.Status.PENDING
    assert Membership.objects.get(pk=membership.pk).status == Membership.Status.AWAITING_PAYMENT

    # Asking again with the same details sends the same invoice again.
    page.goto("/membership/pay/")
    expect(page.locator(".summary-list")).to_contain_text(
        "Your year starts on the day your payment arrives"
    )
    page.get_by_role("radio", name=re.compile(r"^Invoice")).check()
    page.get_by_label("Organisation paying the invoice").fill("Moorside Surgery")
    page.get_by_label("Purchase order number (optional)").fill("PO-9001")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Nothing on invoice {payment.invoice_number} has changed, so it has been sent again"
    )
    assert Payment.objects.filter(membership=membership).count() == 1
    assert_accessible(page)

    # A new purchase order number: the old invoice is cancelled and stamped VOID.
    page.goto("/membership/pay/")
    page.get_by_role("radio", name=re.compile(r"^Invoice")).check()
    page.get_by_label("Organisation paying the invoice").fill("Moorside Surgery")
    page.get_by_label("Billing address (optional)").fill("1 Moor Road\nBolton BL1 1AA")
    page.get_by_label("Purchase order number (optional)").fill("PO-9002")
    page.get_by_label("Accounts email (optional)").fill("accounts@moorside.example.org")
    page.get_by_role("button", name="Continue to payment").click()
    replacement = Payment.objects.filter(membership=membership, status="pending").get()
    expect(page.get_by_role("status")).to_contain_text(
        f"invoice {payment.invoice_number} is cancelled and replaced by "
        f"{replacement.invoice_number}"
    )
    expect(page.locator("dt:has-text('Invoice emailed to') + dd")).to_have_text(
        f"{membership.user.email} and accounts@moorside.example.org"
    )
    assert_accessible(page)
    page.goto(f"/membership/payments/{payment.pk}/")
    expect(page.get_by_text(f"Invoice {payment.invoice_number} is cancelled")).to_be_visible()
    assert_accessible(page)
    old_pdf = page.request.get(f"/membership/payments/{payment.pk}/invoice.pdf").body()
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(old_pdf)).pages)
    assert "VOID" in text


def test_membership_team_approves_a_fellow_and_marks_an_invoice_paid(page, live_server):
    applicant = MembershipFactory(
        grade=grade("fellow"),
        status=Membership.Status.PENDING_APPROVAL,
        user=ProfileFactory(user__first_name="Farah", user__last_name="Khan").user,
    )
    invoiced = MembershipFactory(
        grade=grade("member"),
        user=ProfileFactory(user__first_name="Ben", user__last_name="Okafor").user,
    )
    invoice = payment_create(
        membership=invoiced,
        method=Payment.Method.INVOICE,
        by=invoiced.user,
        invoice_organisation="Riverside Medical Centre",
    )
    team, _ = Group.objects.get_or_create(name="Membership team")
    team.permissions.add(Permission.objects.get(codename="manage_memberships"))
    staff = StaffFactory(mfa=True)
    staff.groups.add(team)
    sign_in(page, staff, live_server)

    page.goto("/staff/membership/approvals/")
    expect(heading(page)).to_have_text("Membership: approvals and invoices")
    applications = page.get_by_role("region", name=re.compile(r"^Waiting for a decision"))
    expect(applications.get_by_role("row", name=re.compile(r"Farah Khan"))).to_contain_text(
        "Fellow"
    )
    invoices = page.get_by_role("region", name=re.compile(r"^Invoices not yet paid"))
    expect(invoices.get_by_role("row", name=re.compile(invoice.invoice_number))).to_contain_text(
        "Ben Okafor"
    )
    assert_accessible(page)

    applications.get_by_role("link", name="Farah Khan").click()
    expect(heading(page)).to_have_text("Farah Khan")
    assert_accessible(page)
    decision = page.get_by_role("region", name="Decide this application")
    decision.get_by_role("radio", name="Approve").check()
    decision.get_by_role("button", name="Record decision").click()

    expect(heading(page)).to_have_text("Membership: approvals and invoices")
    expect(page.get_by_role("status")).to_have_text("Approved.")
    expect(page.get_by_text("No applications are waiting.")).to_be_visible()
    assert_accessible(page)
    applicant.refresh_from_db()
    assert applicant.status == Membership.Status.AWAITING_PAYMENT

    page.get_by_role("link", name=invoice.invoice_number).click()
    expect(heading(page)).to_have_text("Ben Okafor")
    assert_accessible(page)
    page.get_by_role("button", name=f"Mark invoice {invoice.invoice_number} paid").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Invoice {invoice.invoice_number} marked paid."
    )
    expect(page.locator("dt:has-text('Status') + dd")).to_have_text("Active")
    assert_accessible(page)

    invoiced.refresh_from_db()
    assert invoiced.status == Membership.Status.ACTIVE
    assert re.fullmatch(r"IGPM-\d{6}", invoiced.number)
    invoice.refresh_from_db()
    assert invoice.status == Payment.Status.PAID


def test_membership_team_marks_a_cancelled_invoice_paid_after_confirming(page, live_server):
    invoiced = MembershipFactory(
        grade=grade("member"),
        user=ProfileFactory(user__first_name="Ben", user__last_name="Okafor").user,
    )
    old = invoice_request(
        membership=invoiced,
        by=invoiced.user,
        details=InvoiceDetails(organisation="Riverside Medical Centre", purchase_order="PO-1"),
    ).payment
    new = invoice_request(
        membership=invoiced,
        by=invoiced.user,
        details=InvoiceDetails(organisation="Riverside Medical Centre", purchase_order="PO-2"),
    ).payment
    staff = team_member("Membership team")
    sign_in(page, staff, live_server)

    page.goto(f"/staff/membership/{invoiced.pk}/")
    expect(
        page.get_by_text(f"Cancelled and replaced by invoice {new.invoice_number}.")
    ).to_be_visible()
    assert_accessible(page)
    page.get_by_role(
        "link", name=f"The practice paid cancelled invoice {old.invoice_number}: mark it paid"
    ).click()
    expect(heading(page)).to_have_text(f"Mark invoice {old.invoice_number} paid")
    expect(page.get_by_text(f"Invoice {new.invoice_number} (issued")).to_contain_text(
        "will be cancelled"
    )
    assert_accessible(page)

    # Without the tick: the error sits by the box, nothing is paid.
    page.get_by_role("button", name=f"Mark invoice {old.invoice_number} paid").click()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(page.locator("#id_confirm_error")).to_contain_text(
        "Tick the box to confirm that this invoice was paid."
    )
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)

    page.get_by_label("The practice paid this invoice").check()
    page.get_by_role("button", name=f"Mark invoice {old.invoice_number} paid").click()
    expect(heading(page)).to_have_text("Ben Okafor")
    expect(page.get_by_role("status")).to_have_text(f"Invoice {old.invoice_number} marked paid.")
    expect(page.locator("dt:has-text('Status') + dd")).to_have_text("Active")
    expect(page.get_by_role("button", name=re.compile(r"^Mark invoice"))).to_have_count(0)
    assert_accessible(page)

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == (Payment.Status.PAID, Payment.Status.CANCELLED)
    assert MembershipPeriod.objects.filter(membership=invoiced).count() == 1


@pytest.mark.parametrize("path", ["/membership/pay/", "/dashboard/"])
def test_membership_pages_fit_a_320px_phone(phone_page, live_server, path):
    membership = MembershipFactory(grade=grade("member"))
    if path == "/dashboard/":
        # An active member: the longest dashboard, with a payment listed.
        payment = payment_create(
            membership=membership, method=Payment.Method.OFFLINE, by=membership.user
        )
        payment_fulfil(payment_id=payment.pk)
    sign_in(phone_page, membership.user, live_server)
    phone_page.goto(path)
    expect(heading(phone_page)).to_be_visible()
    overflow = phone_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a 320px screen"
    assert_accessible(phone_page)
