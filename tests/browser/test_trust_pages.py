"""The footer and the pages it links to, at a desktop width and a phone's."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_footer_leads_to_the_accessibility_statement_and_privacy_notice(screen):
    page = screen
    page.goto("/events/")
    footer = page.locator("footer.site-footer")
    expect(footer.get_by_role("link", name="membership@igpm.org.uk")).to_be_visible()
    expect(footer).to_contain_text("company number")
    expect(
        footer.get_by_role("link", name="Information Commissioner's Office (ICO)")
    ).to_have_attribute("href", "https://ico.org.uk/")
    expect(page.locator("header img.site-header__logo")).to_be_visible()
    assert_accessible(page)

    footer.get_by_role("link", name="Accessibility statement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accessibility statement")
    expect(page.get_by_role("heading", name="Reporting a problem")).to_be_visible()
    assert_accessible(page)

    page.locator("footer.site-footer").get_by_role("link", name="Privacy notice").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy notice")
    assert_accessible(page)
