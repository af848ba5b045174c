"""The automatic-renewal pages this part of the portal owns, in Debian's
Chromium with axe: the offline provider's set-up page and the stop link
from an email (no sign-in)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from members.billing.services.auto_renewal import auto_renewal_start, stop_token
from members.models import AutoRenewal, Membership
from tests.browser.conftest import check_page
from tests.browser.test_account_pages import sign_in
from tests.factories import active_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def offline(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.PAYMENTS_OFFLINE_PROVIDER = True


def test_set_up_with_the_offline_provider_then_stop_from_the_email_link(screen, live_server):
    membership = Membership.objects.get(user=active_member())
    renewal = auto_renewal_start(
        membership=membership,
        method="bacs_debit",
        user=membership.user,
        success_url=live_server.url,
        cancel_url=live_server.url,
    )
    sign_in(screen, membership.user, live_server)
    screen.goto(renewal.checkout_url)
    expect(screen.get_by_role("heading", level=1)).to_have_text(
        "Set up automatic renewal (offline test)"
    )
    expect(screen.get_by_text("Direct Debit", exact=True)).to_be_visible()
    check_page(screen)
    screen.get_by_role("button", name="Complete test set-up").click()
    expect(screen).to_have_url(f"{live_server.url}{reverse('members:dashboard')}")
    expect(screen.get_by_text("Direct Debit set up.")).to_be_visible()
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.ACTIVE

    # The email's link, in a browser that is not signed in.
    screen.context.clear_cookies()
    screen.goto(reverse("members:auto_renewal_stop_link", args=[stop_token(renewal)]))
    expect(screen.get_by_role("heading", level=1)).to_have_text("Stop automatic renewal")
    check_page(screen)
    screen.get_by_role("button", name="Stop automatic renewal").click()
    expect(screen.get_by_role("status")).to_contain_text("nothing more will be collected")
    check_page(screen)
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.STOPPING

    screen.goto(reverse("members:auto_renewal_stop_link", args=["not-a-real-token"]))
    expect(screen.get_by_text("This link is not valid.")).to_be_visible()
    check_page(screen)
