"""Consultations in Debian's Chromium: the Policy team creates and opens
one (with a background document), a member reads the document's link and
answers on a 320 px phone with the keyboard alone, and staff read the
results; axe on every page."""

import re

import pytest
from playwright.sync_api import expect

from members.consultations.forms import document_check
from members.consultations.models import Consultation
from tests.accreditation.conftest import PDF, upload
from tests.browser.conftest import assert_accessible
from tests.browser.test_account_pages import sign_in
from tests.factories import active_member
from tests.members.consultations.world import consultation, policy_officer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_policy_team_creates_and_opens_a_consultation(page, live_server, tmp_path):
    active_member()
    sign_in(page, policy_officer(), live_server)
    page.goto("/staff/")
    page.get_by_role("link", name="Consultations: ask members, read the results").click()
    assert_accessible(page)
    page.get_by_role("link", name="Create a consultation").click()
    page.get_by_label("Title").fill("Winter access survey")
    page.get_by_label("Background", exact=True).fill("## Why\n\n- pressures\n- staffing")
    briefing = tmp_path / "Winter briefing.pdf"
    briefing.write_bytes(PDF)
    page.get_by_label("Background document (optional)").set_input_files(briefing)
    page.get_by_label("Anonymous: answers are kept with no link to the member").check()
    page.get_by_label("Opens").fill("2026-01-01T09:00")
    page.get_by_label("Closes").fill("2030-01-31T17:00")
    assert_accessible(page)
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Winter access survey")
    expect(page.locator("#audience-count")).to_have_text("1")
    expect(
        page.get_by_role("link", name="Read the background document (PDF, 1 KB)")
    ).to_be_visible()
    assert Consultation.objects.get(title="Winter access survey").document_name == (
        "Winter briefing.pdf"
    )

    page.get_by_label("Question", exact=True).fill("Is winter access harder this year?")
    page.get_by_label("Single choice").check()
    page.get_by_label("Options").fill("Yes\nNo\nNot sure")
    page.get_by_role("button", name="Add question").click()
    page.get_by_label("Question", exact=True).fill("What would help?")
    page.get_by_label("Free text").check()
    page.get_by_role("button", name="Add question").click()
    page.get_by_role("button", name="Move up question 2").click()
    expect(page.locator("ol.questions > li").first).to_contain_text("What would help?")
    assert_accessible(page)
    page.get_by_role("button", name="Open the consultation").click()
    expect(page.get_by_text("The consultation is open.")).to_be_visible()
    assert Consultation.objects.get(title="Winter access survey").status == "open"
    assert_accessible(page)


def test_a_member_answers_on_a_phone_with_the_keyboard_alone(phone_page, live_server):
    made = consultation(
        title="Phone consultation",
        document=document_check(upload("Plan briefing.pdf", PDF)),
    )
    member = active_member()
    sign_in(phone_page, member, live_server)
    page = phone_page
    page.goto("/consultations/")
    assert_accessible(page)
    page.get_by_role("link", name="Phone consultation").click()
    expect(page.get_by_text("Your answers are attributed")).to_be_visible()
    link = page.get_by_role("link", name="Read the background document (PDF, 1 KB)")
    expect(link).to_be_visible()
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "Plan briefing.pdf"
    # Nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page)

    # Submitting with a required answer missing: errors, and the summary.
    page.get_by_role("button", name="Submit your answers").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    assert_accessible(page)

    page.get_by_role("radio", name="Funding").focus()
    page.keyboard.press("Space")
    page.get_by_role("radio", name="4", exact=True).focus()
    page.keyboard.press("Space")
    page.get_by_label(re.compile(r"Anything else\?")).focus()
    page.keyboard.type("Keep the walk-in slots.")
    page.get_by_role("button", name="Submit your answers").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your answers are recorded")
    expect(page.get_by_text("Keep the walk-in slots.")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page)
    assert made.responses.filter(user=member, submitted_at__isnull=False).exists()


def test_staff_read_the_results(page, live_server):
    from members.consultations.services import response_submit
    from tests.members.consultations.world import full_answers

    officer = policy_officer()
    made = consultation(by=officer, title="Results consultation")
    for n in range(3):
        response_submit(
            consultation=made, user=active_member(), answers=full_answers(made, single=n % 2)
        )
    sign_in(page, officer, live_server)
    page.goto(f"/staff/consultations/{made.pk}/results/")
    expect(page.get_by_role("img", name=re.compile("^Which matters most"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("^Funding"))).to_contain_text("66.7%")
    assert_accessible(page)
    page.get_by_label("Break down by").select_option("region")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("fewer than 5").first).to_be_visible()
    assert_accessible(page)
