"""User journeys in Debian's Chromium, with axe on every page they pass."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from members.models import Profile, User
from tests.browser.conftest import assert_accessible
from tests.factories import PASSWORD, ProfileFactory, care_board

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_newcomer_joins_verifies_and_completes_profile(page):
    care_board("NHS Devon ICB")
    page.goto("/")
    assert_accessible(page)
    page.get_by_role("link", name="Join the IGPM").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign up")
    assert_accessible(page)
    page.get_by_label("Email").fill("jo.bloggs@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify your email address")

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your practice-manager profile")
    assert_accessible(page)

    # A mistake first: the summary takes focus and links to the field.
    page.get_by_label("First name").fill("Jo")
    page.get_by_label("Last name").fill("Bloggs")
    page.get_by_label("Job title", exact=True).fill("Practice Manager")
    page.get_by_label("Role", exact=True).select_option(label="Practice manager")
    page.get_by_label("Organisation", exact=True).fill("Moorside Surgery")
    page.get_by_label("Practice ODS code").fill("L8300")
    page.get_by_label("ICB or health board", exact=True).select_option(label="NHS Devon ICB")
    page.get_by_label("Years in this role").fill("3")
    page.get_by_role("button", name="Save profile").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("one letter then five digits")
    expect(page.get_by_label("Organisation", exact=True)).to_have_value("Moorside Surgery")
    assert_accessible(page)

    summary.get_by_role("link").first.click()
    expect(page.get_by_label("Practice ODS code")).to_be_focused()
    page.get_by_label("Practice ODS code").fill("l83001")
    page.get_by_role("button", name="Save profile").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Jo")
    expect(page.get_by_text("Your profile has been saved.")).to_be_visible()
    expect(page.get_by_text("Profile 80% complete")).to_be_visible()
    assert_accessible(page)
    profile = Profile.objects.get(user__email="jo.bloggs@example.org")
    assert profile.ods_code == "L83001"

    page.get_by_role("button", name="Sign out").click()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Sign in")).to_be_visible()


def test_member_signs_in(page):
    profile = ProfileFactory(user__first_name="Amara")
    page.goto("/accounts/login/")
    assert_accessible(page)
    page.get_by_label("Email").fill(profile.user.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(page.get_by_label("Email")).to_have_value(profile.user.email)
    assert_accessible(page)

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Amara")
    assert User.objects.get(pk=profile.user.pk).last_login is not None


def test_skip_link_is_the_first_stop_and_moves_to_the_content(page):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


@pytest.mark.parametrize("path", ["/", "/accounts/signup/", "/accounts/login/", "/profile/"])
def test_pages_fit_a_320px_phone(phone_page, path, client):
    if path == "/profile/":
        user = ProfileFactory().user
        phone_page.goto("/accounts/login/")
        phone_page.get_by_label("Email").fill(user.email)
        phone_page.get_by_label("Password").fill(PASSWORD)
        phone_page.get_by_role("button", name="Sign in").click()
        phone_page.wait_for_url("**/dashboard/")
    phone_page.goto(path)
    overflow = phone_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a 320px screen"
    assert_accessible(phone_page)
