"""allauth's screens in the portal's own voice: its layout, sentence case,
British English and field styles, at a desktop width and on a phone, with
axe on every screen."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible
from tests.factories import PASSWORD, care_board
from tests.members.test_mfa_secrets import current_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Another-long-pass-phrase-77"


def heading(page):
    return page.get_by_role("heading", level=1)


def check(page) -> None:
    """axe, the portal's layout, and nothing a strict CSP would block."""
    assert_accessible(page)
    expect(page.locator("footer.site-footer")).to_contain_text("Accessibility statement")
    assert page.locator("[style]").count() == 0, f"{page.url}: a style attribute"
    inline = page.locator(
        "script:not([src]):not([type='application/json']):not([type='application/ld+json'])"
    )
    assert inline.count() == 0, f"{page.url}: an inline script"
    # No horizontal scrolling, even at 320 px (WCAG 1.4.10).
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def test_sign_up_sign_in_email_password_and_two_factor(screen):
    page = screen
    care_board("NHS Devon ICB")

    page.goto("/accounts/signup/")
    expect(heading(page)).to_have_text("Sign up")
    check(page)
    page.get_by_label("Email").fill("jo.bloggs@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign up", exact=True).click()

    expect(heading(page)).to_have_text("Verify your email address")
    expect(page.get_by_text("finalise signing up")).to_be_visible()
    check(page)

    (message,) = mail.outbox
    assert message.alternatives[0][1] == "text/html"
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body).group(0)
    page.goto(link)
    expect(heading(page)).to_have_text("Confirm email address")
    check(page)
    page.get_by_role("button", name="Confirm").click()
    expect(heading(page)).to_have_text("Your practice-manager profile")

    page.get_by_role("button", name="Sign out").click()
    page.goto("/accounts/login/")
    expect(heading(page)).to_have_text("Sign in")
    check(page)
    page.get_by_label("Email").fill("jo.bloggs@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(heading(page)).to_have_text("Your practice-manager profile")

    page.goto("/accounts/email/")
    expect(heading(page)).to_have_text("Email address")
    current = page.get_by_label("Your email address")
    expect(current).to_have_value("jo.bloggs@example.org")
    new = page.get_by_label("New email address")
    # The portal's field style: a 2 px border and a 44 px target.
    expect(new).to_have_css("border-top-width", "2px")
    assert new.bounding_box()["height"] >= 44
    check(page)

    page.goto("/accounts/password/change/")
    expect(heading(page)).to_have_text("Change password")
    check(page)
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password (again)").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Password successfully changed.")).to_be_visible()

    page.goto("/accounts/2fa/")
    expect(heading(page)).to_have_text("Two-factor authentication")
    check(page)
    page.get_by_role("link", name="Activate").click()
    if heading(page).inner_text() == "Confirm access":
        check(page)
        page.get_by_label("Password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    expect(heading(page)).to_have_text("Activate authenticator app")
    qr = page.locator("img.qr-code")
    expect(qr).to_be_visible()
    secret = page.locator("#authenticator_secret")
    # The whole secret is shown, inside the screen, and is not the alt text.
    assert re.fullmatch(r"[A-Z2-7]{32}", secret.inner_text().strip())
    box = secret.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
    assert page.evaluate("(el) => el.scrollWidth <= el.clientWidth", secret.element_handle())
    assert secret.inner_text().strip() not in qr.get_attribute("alt")
    expect(qr).to_have_attribute("alt", re.compile("QR code"))
    check(page)

    page.get_by_label("Authenticator code").fill(current_code(secret.inner_text().strip()))
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_text("Authenticator app activated.")).to_be_visible()
    page.goto("/accounts/2fa/recovery-codes/")
    expect(heading(page)).to_have_text("Recovery codes")
    codes = page.get_by_label("Unused codes")
    expect(codes).to_have_attribute("readonly", "")
    expect(codes).to_have_css("border-top-width", "2px")
    check(page)
    (notice,) = [m for m in mail.outbox if "Authenticator app activated" in m.body]
    assert notice.alternatives[0][1] == "text/html"
