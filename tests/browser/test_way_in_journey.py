"""Long pages get a way in, and the phone-width fixes hold, in Debian's
Chromium at 1280 px and at 320 px, with axe on every state.

- the pathways page: grouped by route, with a contents list;
- the reports page: each section on a page of its own;
- the scrollable tables on /membership/ and /accreditation/cpd/: focusable
  regions, reached with the keyboard;
- staff tables: the full width of a desktop screen;
- error summaries: one per page, naming each field.
"""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accreditation.models import Pathway
from accreditation.services import cpd_entry_create
from tests.browser.conftest import assert_accessible, assert_no_sideways_scroll
from tests.browser.test_account_pages import sign_in
from tests.browser.test_reports_journey import membership_team_member
from tests.factories import active_member, grade

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk_page(browser, live_server):
    """A 1280 px desktop screen."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def pathways_by_route():
    # Only these show: the seeded pathways (if the flush left them) step aside.
    Pathway.objects.update(is_active=False)
    made = {}
    for n, (name, route) in enumerate(
        [
            ("ILM Level 7 Diploma in Leadership and Management", "qualification"),
            ("CMI Level 5 Diploma in Management and Leadership", "qualification"),
            ("Level 6 Chartered Manager Degree Apprenticeship", "apprenticeship"),
            ("Experiential route", "experiential"),
        ]
    ):
        made[name], _ = Pathway.objects.update_or_create(
            name=name,
            defaults={
                "slug": f"way-in-{n}",
                "is_active": True,
                "awarding_body": "An awarding body",
                "route_type": route,
                "summary": "Who it suits.",
                "evidence_required": "A certificate.",
                "display_order": n,
            },
        )
    return made


def test_pathways_are_grouped_by_route_with_a_contents_list(screen):
    made = pathways_by_route()
    screen.goto("/accreditation/pathways/")
    contents = screen.get_by_role("navigation", name="Routes and pathways")
    expect(contents.get_by_role("link", name="Qualification", exact=True)).to_be_visible()
    expect(screen.locator("main").get_by_role("heading", level=2)).to_have_text(
        ["Routes and pathways", "Qualification", "Apprenticeship", "Experience and portfolio"]
    )
    qualification = screen.get_by_role("region", name="Qualification", exact=True)
    expect(qualification.get_by_role("heading", level=3)).to_have_text(
        [
            "ILM Level 7 Diploma in Leadership and Management",
            "CMI Level 5 Diploma in Management and Leadership",
        ]
    )
    assert_no_sideways_scroll(screen)
    assert_accessible(screen)

    contents.get_by_role("link", name="Experiential route").click()
    assert screen.url.endswith(f"#pathway-{made['Experiential route'].pk}")
    expect(screen.get_by_role("heading", name="Experiential route")).to_be_in_viewport()


def test_each_report_section_opens_on_its_own(screen, live_server):
    active_member()
    sign_in(screen, membership_team_member(), live_server)
    screen.goto("/staff/reports/")
    contents = screen.get_by_role("navigation", name="On this page")
    contents.get_by_role("link", name="Retention rate: own page").click()
    expect(screen.get_by_role("heading", level=1)).to_have_text("Retention rate")
    assert screen.url.endswith("/staff/reports/retention/")
    expect(screen.locator("section.report")).to_have_count(1)
    for summary in screen.locator("details > summary").all():
        summary.click()
    assert_no_sideways_scroll(screen)
    assert_accessible(screen)
    screen.get_by_role("navigation", name="Other reports").get_by_role(
        "link", name="Members by grade"
    ).click()
    expect(screen.get_by_role("heading", level=1)).to_have_text("Members by grade")
    assert_accessible(screen)


def test_the_reports_page_with_every_table_open_passes_axe_on_a_phone(phone_page, live_server):
    active_member()
    sign_in(phone_page, membership_team_member(), live_server)
    phone_page.goto("/staff/reports/")
    for summary in phone_page.locator("details > summary").all():
        summary.click()
    assert_no_sideways_scroll(phone_page)
    assert_accessible(phone_page)
    for link in phone_page.locator('.report a[href$=".csv"]').all():
        box = link.bounding_box()
        assert box["height"] >= 24, (link.inner_text(), box)


def test_the_grades_table_is_a_focusable_region_on_a_phone(phone_page):
    grade("member")
    grade("fellow")
    phone_page.goto("/membership/")
    region = phone_page.get_by_role("region", name="Membership grades and fees")
    expect(region).to_have_attribute("tabindex", "0")
    assert_no_sideways_scroll(phone_page)
    assert_accessible(phone_page)
    region.focus()
    expect(region).to_be_focused()


def test_the_cpd_log_is_a_focusable_region_on_a_phone(phone_page, live_server):
    user = active_member()
    for n in range(3):
        cpd_entry_create(
            user=user,
            date=datetime.date(2025, 9, n + 1),
            activity=f"Leading change in general practice, part {n + 1}",
            hours=Decimal("1"),
            category="course",
        )
    sign_in(phone_page, user, live_server)
    phone_page.goto("/accreditation/cpd/")
    expect(phone_page.locator(".lead")).to_contain_text("3 hours")
    region = phone_page.get_by_role("region", name="Table of logged activities")
    expect(region).to_contain_text("1 September 2025")
    assert_no_sideways_scroll(phone_page)
    assert_accessible(phone_page)
    region.focus()
    expect(region).to_be_focused()


def test_staff_tables_use_a_desktop_screen(desk_page, live_server):
    for _ in range(3):
        active_member()
    from tests.factories import team_member

    sign_in(desk_page, team_member("Administrators"), live_server)
    desk_page.goto("/staff/audit/")
    table = desk_page.get_by_role("region", name="Audit entries, newest first")
    width = table.bounding_box()["width"]
    # The page's text column is 60rem (960 px); the table goes past it.
    assert width > 1150, width
    expect(table).to_contain_text("Payment")
    assert_accessible(desk_page)


def test_one_error_summary_names_each_field(screen, live_server):
    from tests.factories import UserFactory

    sign_in(screen, UserFactory(), live_server)
    screen.goto("/profile/")
    screen.get_by_label("First name").fill("")
    screen.get_by_role("button", name="Save").first.click()
    summary = screen.locator("[data-error-summary]")
    expect(summary).to_have_count(1)
    expect(summary).to_contain_text("Enter your first name.")
    expect(summary).not_to_contain_text("This field is required.")
    assert_accessible(screen)
