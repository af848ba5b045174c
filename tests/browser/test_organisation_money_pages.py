"""The organisation pages for money, in Debian's Chromium with axe: the
administrator's automatic renewal section, and the membership team's
refund page with an error and then a recorded refund."""

import re

import pytest
from playwright.sync_api import expect

from members.models import OrganisationMembership, Payment
from tests.browser.conftest import assert_accessible, check_page
from tests.browser.test_account_pages import sign_in
from tests.factories import team_member
from tests.members.organisations.world import paid_year

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_automatic_renewal_section_and_a_staff_refund(browser, page, live_server):
    year, admin = paid_year(seats=2)
    sign_in(page, admin, live_server)
    page.goto(f"/organisations/{year.account_id}/")
    expect(page.get_by_role("heading", name="Automatic renewal")).to_be_visible()
    expect(
        page.get_by_role("button", name="Renew the seats automatically by Direct Debit")
    ).to_be_visible()
    check_page(page)

    staff_context = browser.new_context(base_url=live_server.url)
    staff_page = staff_context.new_page()
    sign_in(staff_page, team_member("Membership team"), live_server)
    staff_page.goto(f"/staff/organisations/{year.account_id}/")
    staff_page.get_by_role("link", name=re.compile(r"Refund the £160.00 payment")).click()
    expect(staff_page.get_by_role("heading", level=1)).to_have_text(
        "Refund a payment of Riverside Surgery"
    )
    assert_accessible(staff_page)
    staff_page.get_by_label("Amount refunded (£)").fill("500")
    staff_page.get_by_role("radio", name=re.compile("End the year it bought")).check()
    staff_page.get_by_role("button", name="Record the refund").click()
    expect(staff_page.locator("[data-error-summary]")).to_be_focused()
    expect(staff_page.get_by_label("Amount refunded (£)")).to_have_value("500")
    assert_accessible(staff_page)
    staff_page.get_by_label("Amount refunded (£)").fill("160.00")
    staff_page.get_by_label("Reason").fill("The practice merged.")
    staff_page.get_by_role("button", name="Record the refund").click()
    expect(staff_page.get_by_text("the year is ended and its seats freed")).to_be_visible()
    assert_accessible(staff_page)
    staff_context.close()
    assert Payment.objects.get(organisation_membership=year).status == "refunded"
    year.refresh_from_db()
    assert year.status == OrganisationMembership.Status.CANCELLED
