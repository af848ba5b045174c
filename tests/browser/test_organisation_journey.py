"""An organisation administrator buys 3 seats by invoice and invites two
managers who accept, in Debian's Chromium, with axe on every page."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from members.models import Membership, MembershipPeriod, SeatHolding
from tests.browser.conftest import assert_accessible, check_page
from tests.browser.test_account_pages import sign_in
from tests.factories import ProfileFactory, UserFactory, team_member
from tests.members.organisations.world import seat_grade

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def heading(page):
    return page.get_by_role("heading", level=1)


def invitation_link(email: str) -> str:
    sent = [m for m in mail.outbox if m.to == [email] and "invited you" in m.subject]
    assert len(sent) == 1, f"one invitation to {email}"
    # The email's link is on SITE_URL; the path is what the browser opens.
    return re.search(r"/seats/invitation/\S+/", sent[0].body).group(0)


def test_an_administrator_buys_three_seats_by_invoice_and_two_managers_accept(
    browser, page, live_server
):
    seat_grade(8000)
    admin = UserFactory(first_name="Asha", email="asha@riverside.example")
    sign_in(page, admin, live_server)

    page.goto("/organisations/")
    expect(heading(page)).to_have_text("Your organisations")
    check_page(page)
    page.get_by_role("link", name="Open an organisation account").click()
    expect(heading(page)).to_have_text("Open an organisation account")
    assert_accessible(page)
    page.get_by_label("ODS code (optional)").fill("A81001")
    page.get_by_role("button", name="Open the account").click()
    # Nothing chosen: the summary takes focus; the code typed stays.
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(page.get_by_label("ODS code (optional)")).to_have_value("A81001")
    assert_accessible(page)
    page.get_by_label("Organisation name").fill("Riverside Surgery")
    page.get_by_role("radio", name="GP practice").check()
    page.get_by_role("button", name="Open the account").click()
    expect(heading(page)).to_have_text("Riverside Surgery")
    check_page(page)

    page.get_by_role("link", name="Buy seats").click()
    expect(heading(page)).to_have_text("Buy seats for Riverside Surgery")
    assert_accessible(page)
    page.get_by_role("radio", name="Practice seats, £80.00 a seat a year").check()
    page.get_by_label("Number of seats").fill("3")
    page.get_by_role("radio", name="One invoice to the organisation").check()
    page.get_by_role("button", name="Continue to payment").click()
    # No purchase order number: refused by the field, the seats kept.
    expect(page.locator("#id_invoice_purchase_order_error")).to_contain_text(
        "Enter the purchase order number"
    )
    expect(page.get_by_label("Number of seats")).to_have_value("3")
    assert_accessible(page)
    page.get_by_label("Purchase order number").fill("PO-2026-118")
    page.get_by_role("button", name="Continue to payment").click()
    expect(
        page.get_by_text(re.compile(r"Invoice INV-\d{4}-\d+ for £240.00 has been emailed"))
    ).to_be_visible()
    expect(page.locator(".summary-list")).to_contain_text("3 seats, £240.00")
    check_page(page)
    invoice_email = [m for m in mail.outbox if "invoice" in m.subject.lower()][-1]
    assert invoice_email.to == ["asha@riverside.example"]
    assert "PO-2026-118" in invoice_email.body

    # The membership team records the practice's payment.
    staff_context = browser.new_context(base_url=live_server.url)
    staff_page = staff_context.new_page()
    sign_in(staff_page, team_member("Membership team"), live_server)
    staff_page.goto("/staff/organisations/")
    expect(heading(staff_page)).to_have_text("Organisation accounts")
    assert_accessible(staff_page)
    staff_page.get_by_role("link", name=re.compile("Riverside Surgery")).click()
    assert_accessible(staff_page)
    staff_page.get_by_role("button", name=re.compile(r"Mark invoice INV-.* paid")).click()
    expect(staff_page.get_by_text(re.compile(r"is marked paid"))).to_be_visible()
    assert_accessible(staff_page)
    staff_context.close()

    page.reload()
    expect(page.locator(".summary-list")).to_contain_text("3 of 3")
    expect(page.get_by_text("Nobody holds a seat yet.")).to_be_visible()
    page.get_by_label("Email addresses").fill("ben@riverside.example\nnot an address")
    page.get_by_role("button", name="Send invitations").click()
    expect(page.locator("#id_emails_error")).to_contain_text("not an address")
    expect(page.get_by_label("Email addresses")).to_have_value(
        "ben@riverside.example\nnot an address"
    )
    assert_accessible(page)
    page.get_by_label("Email addresses").fill("ben@riverside.example\ncara@riverside.example")
    page.get_by_role("button", name="Send invitations").click()
    expect(page.get_by_text("Invitations sent to")).to_be_visible()
    expect(page.get_by_role("region", name="Invitations waiting")).to_contain_text(
        "cara@riverside.example"
    )
    check_page(page)

    for first_name, email in [
        ("Ben", "ben@riverside.example"),
        ("Cara", "cara@riverside.example"),
    ]:
        manager = ProfileFactory(user__first_name=first_name, user__email=email).user
        context = browser.new_context(base_url=live_server.url)
        manager_page = context.new_page()
        sign_in(manager_page, manager, live_server)
        manager_page.goto(invitation_link(email))
        expect(heading(manager_page)).to_have_text("A seat from Riverside Surgery")
        assert_accessible(manager_page)
        manager_page.get_by_role("button", name="Accept the seat").click()
        expect(manager_page.get_by_text("You hold a seat of Riverside Surgery")).to_be_visible()
        expect(
            manager_page.get_by_text("Riverside Surgery pays for your membership")
        ).to_be_visible()
        assert_accessible(manager_page)
        context.close()
        membership = Membership.objects.get(user=manager)
        assert membership.status == Membership.Status.ACTIVE
        assert MembershipPeriod.objects.get(membership=membership).seat_holding is not None

    page.reload()
    seats = page.get_by_role("region", name="Who holds the seats")
    expect(seats).to_contain_text("ben@riverside.example")
    expect(seats).to_contain_text("cara@riverside.example")
    expect(page.locator(".summary-list")).to_contain_text("1 of 3")
    check_page(page)
    assert SeatHolding.objects.filter(released_on__isnull=True).count() == 2

    # Swapping and freeing a seat have their own pages.
    page.get_by_role("link", name="Give seat 1 to someone else").click()
    expect(heading(page)).to_have_text("Give seat 1 to someone else")
    assert_accessible(page)
    page.go_back()
    page.get_by_role("link", name="Free seat 2").click()
    expect(heading(page)).to_have_text("Free seat 2")
    assert_accessible(page)
    page.get_by_role("button", name="Free the seat").click()
    expect(page.get_by_text("Seat 2 is free.")).to_be_visible()
    expect(page.locator(".summary-list")).to_contain_text("2 of 3")
    page.get_by_role("link", name="Renew the membership").click()
    expect(page.get_by_text(re.compile(r"renewal opens on"))).to_be_visible()
    assert_accessible(page)

    # Ben leaves the practice himself: his record stays his.
    context = browser.new_context(base_url=live_server.url)
    ben_page = context.new_page()
    sign_in(
        ben_page, Membership.objects.get(user__email="ben@riverside.example").user, live_server
    )
    ben_page.goto("/dashboard/")
    ben_page.get_by_role("link", name="Leaving Riverside Surgery?").click()
    expect(heading(ben_page)).to_have_text("Leave your seat of Riverside Surgery")
    assert_accessible(ben_page)
    ben_page.get_by_role("button", name="Leave the seat").click()
    expect(ben_page.get_by_text("no days lost").first).to_be_visible()
    assert_accessible(ben_page)
    context.close()

    # The reports page's organisations section.
    staff_context = browser.new_context(base_url=live_server.url)
    staff_page = staff_context.new_page()
    sign_in(staff_page, team_member("Membership team"), live_server)
    staff_page.goto("/staff/reports/organisations/")
    expect(heading(staff_page)).to_have_text("Organisation memberships by ICB")
    assert_accessible(staff_page)
    staff_context.close()
