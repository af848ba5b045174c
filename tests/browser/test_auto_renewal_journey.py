"""Joining with automatic card renewal, at 1280 px and on a 320 px phone,
with the offline test provider (no Stripe): the pay page says what will
happen, the dashboard says "Renews automatically on D", one click stops it
and the dashboard says when the membership ends. axe (target-size on) on
every page."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from members.billing.services.membership import period_end
from members.models import AutoRenewal, Membership
from tests.browser.conftest import check_page
from tests.browser.test_account_pages import sign_in
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def long_date(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


def test_join_with_automatic_card_renewal_then_stop(screen, live_server, settings):
    settings.STRIPE_SECRET_KEY = ""  # the offline test provider collects
    page = screen
    membership = MembershipFactory()  # chose a grade, awaiting payment
    sign_in(page, membership.user, live_server)
    today = timezone.localdate()
    renews_on = period_end(today) + datetime.timedelta(days=1)

    page.goto("/membership/join/check/")
    expect(page.get_by_text("renew automatically", exact=False).first).to_be_visible()
    check_page(page)
    page.get_by_role("link", name="Continue to payment").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Pay for your membership")
    offer = page.get_by_role("region", name="By card")
    expect(offer).to_contain_text("£95.00 a year")
    expect(offer).to_contain_text(f"Today, then every year on {renews_on.day} {renews_on:%B}")
    expect(offer).to_contain_text("An email at least")
    expect(offer).to_contain_text("One click on your dashboard")
    expect(page.get_by_role("region", name="By Direct Debit")).to_contain_text(
        "about 4 working days"
    )
    check_page(page)
    offer.get_by_role("button", name="Renew automatically by card").click()

    # The offline provider's stand-in for Stripe Checkout.
    expect(page.get_by_role("heading", level=1)).to_contain_text("automatic renewal")
    check_page(page)
    page.get_by_role("button", name="Complete test set-up").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    panel = page.locator("#auto-renewal")
    expect(panel).to_contain_text(f"Renews automatically on {long_date(renews_on)}")
    expect(panel).to_contain_text("card ending 4242")
    expect(page.get_by_role("link", name="Renew your membership")).to_have_count(0)
    check_page(page)
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE
    renewal = AutoRenewal.objects.get(membership=membership)
    assert renewal.status == AutoRenewal.Status.ACTIVE

    panel.get_by_role("button", name="Stop automatic renewal").click()
    expect(page.locator("#auto-renewal")).to_contain_text(
        f"Your membership ends on {long_date(membership.expires_on)}"
    )
    expect(page.get_by_role("button", name="Stop automatic renewal")).to_have_count(0)
    check_page(page)
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.STOPPING
