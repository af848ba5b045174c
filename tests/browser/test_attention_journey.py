"""The needs-attention queue and the member's pages about card money that
did not go through, in Debian's Chromium, with axe on every page."""

import re

import pytest
from playwright.sync_api import expect

from members.models import Payment
from tests.browser.conftest import assert_accessible
from tests.browser.test_account_pages import sign_in
from tests.factories import team_member
from tests.members.test_attention_queue import flagged

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_membership_team_resolves_a_payment_in_the_queue(page, live_server):
    payment = flagged(Payment.Attention.SUPERSEDED)
    sign_in(page, team_member("Membership team"), live_server)

    page.goto("/staff/")
    page.get_by_role("link", name="Payments needing attention").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payments needing attention (1)")
    row = page.get_by_role("article", name="Paid for a cancelled or superseded payment")
    expect(row).to_contain_text("will be refunded")
    assert_accessible(page)

    row.get_by_role("radio", name=re.compile("Mark resolved")).check()
    row.get_by_role("button", name="Do this").click()
    expect(page.get_by_text("Give a reason: it is kept in the audit trail.").first).to_be_visible()
    assert_accessible(page)

    row = page.get_by_role("article", name="Paid for a cancelled or superseded payment")
    row.get_by_role("radio", name=re.compile("Mark resolved")).check()
    row.get_by_label(re.compile("Reason")).fill("Refunded by bank transfer")
    row.get_by_role("button", name="Do this").click()
    expect(page.get_by_role("status")).to_have_text("Marked resolved.")
    expect(page.get_by_text("Nothing needs attention.")).to_be_visible()
    assert_accessible(page)
    payment.refresh_from_db()
    assert payment.attention_resolution == "Refunded by bank transfer"


@pytest.mark.parametrize("status", ["failed", "held"])
def test_the_member_reads_what_happened_to_their_payment(page, live_server, status):
    payment = flagged(Payment.Attention.WRONG_AMOUNT)
    if status == "failed":
        Payment.objects.filter(pk=payment.pk).update(
            status="failed", paid_at=None, attention_reason=""
        )
    sign_in(page, payment.membership.user, live_server)
    page.goto(f"/membership/payments/{payment.pk}/return/")
    expected = {
        "failed": "Your payment did not go through",
        "held": "We are checking your payment",
    }[status]
    expect(page.get_by_role("heading", level=1)).to_have_text(expected)
    assert_accessible(page)
