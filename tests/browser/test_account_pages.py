"""Every account and staff page a signed-in person can reach passes axe."""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible
from tests.factories import PASSWORD, ProfileFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, user, live_server) -> None:
    """Give the browser a signed-in session without going through the form."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/dashboard/", "Welcome"),
        ("/accounts/email/", "Email address"),
        ("/accounts/password/change/", "Change password"),
        ("/accounts/2fa/", "Two-factor authentication"),
        ("/accounts/2fa/totp/activate/", "Confirm access"),
        ("/accounts/logout/", "Sign out"),
    ],
)
def test_member_account_pages(page, live_server, path, heading):
    sign_in(page, ProfileFactory().user, live_server)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    assert_accessible(page)


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/accounts/password/reset/", "Password reset"),
        ("/accounts/confirm-email/", "Verify your email address"),
        ("/no-such-page/", "Page not found"),
        ("/privacy/", "Privacy notice"),
    ],
)
def test_public_account_pages(page, path, heading):
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    assert_accessible(page)


def test_staff_home(page, live_server):
    sign_in(page, StaffFactory(mfa=True), live_server)
    page.goto("/staff/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff area")
    assert_accessible(page)


def test_staff_without_two_factor_land_on_enrolment(page, live_server):
    sign_in(page, StaffFactory(mfa=False), live_server)
    page.goto("/staff/")
    expect(page.get_by_text("Staff pages need two-factor authentication")).to_be_visible()
    # Setting up an authenticator asks for the password again first.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Confirm access")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Activate authenticator app")
    assert_accessible(page)


def test_card_payment_return_page(page, live_server):
    from members.models import Payment
    from tests.factories import MembershipFactory

    membership = MembershipFactory()
    payment = Payment.objects.create(
        membership=membership,
        user=membership.user,
        grade=membership.grade,
        purpose=Payment.Purpose.JOIN,
        method=Payment.Method.STRIPE,
        amount_pence=membership.grade.annual_fee_pence,
        stripe_session_id="cs_test_return",
    )
    sign_in(page, membership.user, live_server)
    page.goto(f"/membership/payments/{payment.pk}/return/")
    expect(page.get_by_text("waiting for confirmation")).to_be_visible()
    assert_accessible(page)


def test_member_directory(page, live_server):
    from members.models import Profile
    from tests.factories import active_member

    listed = active_member()
    Profile.objects.filter(user=listed).update(show_in_directory=True, directory_show_email=True)
    sign_in(page, active_member(), live_server)
    page.goto("/directory/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Member directory")
    expect(page.get_by_role("link", name=listed.email)).to_be_visible()
    assert_accessible(page)


def test_member_signs_in_with_a_code_sent_by_email(page, live_server):
    """The way in for an owner whose password sign-in is being throttled."""
    import re

    from django.core import mail

    user = ProfileFactory(user__email="coded@example.org").user
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert_accessible(page)
    page.get_by_role("link", name="Send me a sign-in code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send me a sign-in code")
    assert_accessible(page)
    page.get_by_label("Email").fill(user.email)
    page.get_by_role("button", name="Request Code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter sign-in code")
    assert_accessible(page)
    (message,) = [m for m in mail.outbox if user.email in m.to]
    code = re.search(r"^\s*([A-Z]{4}-[A-Z]{4})\s*$", message.body, re.MULTILINE).group(1)
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
