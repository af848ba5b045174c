"""The staff back office in Debian's Chromium: the membership team finds a
member and reads their timeline; an administrator reads the audit trail.

axe runs on every page of the journey, the search's error state included.
"""

import pytest
from playwright.sync_api import expect

from members.billing.services.membership import membership_override_status
from members.models import Membership
from tests.browser.conftest import assert_accessible
from tests.browser.test_account_pages import sign_in
from tests.factories import active_member, team_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def a_member_with_history():
    member = active_member()
    member.first_name, member.last_name = "Priya", "Fairbrother"
    member.save(update_fields=["first_name", "last_name"])
    membership_override_status(
        membership=member.membership,
        status=Membership.Status.LAPSED,
        reason="Left the practice in March",
        by=team_member("Membership team"),
    )
    return member


def test_membership_team_finds_a_member_and_reads_the_timeline(page, live_server):
    member = a_member_with_history()
    sign_in(page, team_member("Membership team"), live_server)

    page.goto("/staff/")
    assert_accessible(page)
    page.get_by_role("link", name="Find a member").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a member")
    assert_accessible(page)

    # The box stops at 100 characters; a longer search can only come by URL.
    page.goto("/staff/members/?q=" + "x" * 101)
    expect(page.locator(".field-error")).to_contain_text("at most 100 characters")
    assert_accessible(page)

    search = page.get_by_label("Name, email, membership number or ODS code")
    search.fill("fairbro")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status")).to_have_text("1 member account")
    page.get_by_role("link", name="Priya Fairbrother").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Priya Fairbrother")
    number = Membership.objects.get(user=member).number
    expect(page.get_by_text(number, exact=True)).to_be_visible()
    page.get_by_role("link", name="Timeline").click()
    timeline = page.get_by_role("table", name="Changes about this member, newest first")
    first_row = timeline.get_by_role("row").nth(1)
    expect(first_row).to_contain_text("Status overridden")
    expect(first_row).to_contain_text("active → lapsed")
    expect(first_row).to_contain_text("Left the practice in March")
    expect(timeline).to_contain_text("pending → paid")
    assert_accessible(page)


def test_administrator_reads_and_filters_the_audit_trail(phone_page, live_server):
    page = phone_page
    member = a_member_with_history()
    sign_in(page, team_member("Administrators"), live_server)

    page.goto("/staff/")
    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    assert_accessible(page)

    page.get_by_label("Action").select_option("status_overridden")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("status")).to_have_text("1 entry")
    expect(page.get_by_role("table")).to_contain_text("Left the practice in March")
    assert_accessible(page)

    page.get_by_role("link", name=member.email).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Priya Fairbrother")
    assert_accessible(page)
