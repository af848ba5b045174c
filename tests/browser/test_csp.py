"""The CSP watch of the browser tests (conftest.py) sees violations, so a
journey that passes really broke no policy."""

import pytest

from tests.browser import conftest

pytestmark = pytest.mark.browser

POLICY = "default-src 'self'; style-src 'self'; script-src 'self'"
BROKEN = (
    "<!DOCTYPE html><html lang='en'><head><title>t</title></head><body>"
    "<p style='color: red'>inline style</p>"
    "<script>document.title = 'ran'</script>"
    "</body></html>"
)


def test_the_watch_reports_inline_script_and_style(page, live_server):
    page.route(
        f"{live_server.url}/csp-watch-check/",
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            headers={"Content-Security-Policy": POLICY},
            body=BROKEN,
        ),
    )
    page.goto("/csp-watch-check/")
    page.wait_for_timeout(300)
    seen = list(conftest.csp_violations)
    # Not a failure of this test: it checks the watch itself.
    conftest.csp_violations.clear()
    assert page.title() == "t"  # the inline script was blocked
    assert any("script-src" in entry for entry in seen), seen
    assert any("style-src" in entry for entry in seen), seen


# --- allauth's and Django's own pages, which the journeys pass by ----------


@pytest.fixture
def staff_with_two_factor(db):
    """A superuser with TOTP and recovery codes, and the secret to sign in."""
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from tests.factories import StaffFactory

    user = StaffFactory(is_superuser=True)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return user, secret


def _totp_code(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def test_two_factor_and_admin_pages_break_no_policy(page, staff_with_two_factor):
    """The sign-in code step, the two-factor pages (whose scripts are
    allauth's: passkeys, recovery codes) and the admin, all under the
    policy. The autouse check in conftest.py fails the test on any
    violation."""
    from allauth.account.models import EmailAddress
    from playwright.sync_api import expect

    from tests.factories import PASSWORD

    user, secret = staff_with_two_factor
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url("/accounts/2fa/authenticate/")
    page.get_by_label("Code").fill(_totp_code(secret))
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1)).not_to_contain_text("Two-factor")
    for path, heading in [
        ("/accounts/2fa/", "Two-factor authentication"),
        ("/accounts/2fa/recovery-codes/", "Recovery codes"),
        ("/accounts/2fa/webauthn/add/", "Add security key"),
        ("/admin/", "Site administration"),
        ("/admin/members/user/", "Select user to change"),
        (f"/admin/members/user/{user.pk}/change/", "Change user"),
    ]:
        page.goto(path)
        if "Confirm access" in page.locator("h1").first.inner_text():
            # Two-factor pages ask again; that page is under the policy too.
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Confirm").click()
        expect(page.locator("h1").first).to_contain_text(heading)
    # A change of address waiting for confirmation shows its own form.
    EmailAddress.objects.create(user=user, email="new.address@example.org", verified=False)
    page.goto("/accounts/email/")
    expect(page.get_by_role("button", name="Send the email again")).to_be_visible()
