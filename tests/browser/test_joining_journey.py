"""Joining as a guided flow, at 1280 px and on a 320 px phone, with axe on
every step: profile, grade, check your answers, payment, confirmation."""

import re

import pytest
from playwright.sync_api import expect

from members.models import Membership
from tests.browser.conftest import check_page
from tests.browser.test_account_pages import sign_in
from tests.factories import UserFactory, care_board, grade

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def heading(page):
    return page.get_by_role("heading", level=1)


def test_a_newcomer_joins_step_by_step_and_checks_their_answers(screen, live_server):
    page = screen
    grade("member")
    board = care_board()
    user = UserFactory(first_name="Priya", last_name="Shah")
    sign_in(page, user, live_server)

    page.goto("/membership/join/")
    expect(heading(page)).to_have_text("Your practice-manager profile")
    expect(page.locator(".step-indicator")).to_have_text("Step 1 of 4: Your profile")
    check_page(page)
    page.locator("#id_job_title").fill("Practice Manager")
    page.locator("#id_role").select_option("practice_manager")
    page.locator("#id_organisation_name").fill("Moorside Surgery")
    page.locator("#id_ods_code").fill("A81001")
    page.locator("#id_care_board").select_option(str(board.pk))
    page.locator("#id_years_in_role").fill("6")
    page.get_by_role("button", name="Save and continue").click()

    expect(heading(page)).to_have_text("Choose your membership grade")
    expect(page.locator(".step-indicator")).to_have_text("Step 2 of 4: Your membership grade")
    check_page(page)
    page.get_by_role("radio", name="Member, £95.00 a year").check()
    page.get_by_role("button", name="Continue").click()

    expect(heading(page)).to_have_text("Check your answers before you pay")
    expect(page.locator(".step-indicator")).to_have_text("Step 3 of 4: Check your answers")
    profile = page.get_by_role("region", name="Your profile")
    expect(profile).to_contain_text("Priya Shah")
    expect(profile).to_contain_text("Moorside Surgery (A81001)")
    membership = page.get_by_role("region", name="Your membership")
    expect(membership).to_contain_text("£95.00 for 12 months")
    expect(membership.locator("dt:has-text('When your year starts') + dd")).to_contain_text(
        "Your year starts on the day your payment arrives"
    )
    check_page(page)

    # A change link goes to the profile and comes back here.
    page.get_by_role("link", name="Change your profile").click()
    expect(page.locator(".step-indicator")).to_contain_text("Step 1 of 4")
    page.locator("#id_job_title").fill("Business Manager")
    page.get_by_role("button", name="Save and continue").click()
    expect(heading(page)).to_have_text("Check your answers before you pay")
    expect(profile).to_contain_text("Business Manager")

    page.get_by_role("link", name="Continue to payment").click()
    expect(heading(page)).to_have_text("Pay for your membership")
    expect(page.locator(".step-indicator")).to_have_text("Step 4 of 4: Payment")
    check_page(page)
    page.get_by_role("radio", name=re.compile(r"^Offline test provider")).check()
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_role("button", name="Complete test payment").click()

    number = Membership.objects.get(user=user).number
    confirmation = page.get_by_role("region", name="Welcome to the IGPM")
    expect(confirmation).to_contain_text("Your membership number")
    expect(confirmation.locator(".confirmation-panel__number")).to_have_text(number)
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    expect(
        page.get_by_role("link", name="Download your membership certificate (PDF)")
    ).to_be_visible()
    check_page(page)
