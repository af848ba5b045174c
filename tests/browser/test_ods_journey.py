"""The NHS data in Debian's Chromium: a member picks their practice on the
profile by typing its postcode (the combobox, by keyboard), and without
JavaScript through the search page; an administrator uploads the ODS files
in the admin and follows the import's progress page to its report.

axe runs (target-size on) on every new page.
"""

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from members.models import OdsImport, Profile
from members.organisations.ods_import import ods_import, progress_key
from tests.browser.conftest import assert_accessible, check_page
from tests.browser.test_account_pages import sign_in
from tests.factories import ProfileFactory, team_member
from tests.members.ods_world import month_one, north_east_board

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def loaded():
    board = north_east_board()
    practices, pcns = month_one()
    ods_import(practices=practices, pcns=pcns)
    return board


def test_a_member_picks_their_practice_by_postcode_and_the_pcn_and_icb_fill_in(
    screen, live_server
):
    page = screen
    board = loaded()
    member = ProfileFactory(ods_code="", pcn_name="", care_board=None).user
    sign_in(page, member, live_server)

    page.goto("/profile/")
    picker = page.get_by_role("combobox", name="Find your practice")
    expect(picker).to_be_visible()
    expect(page.get_by_text("Find your practice by name, town or postcode")).to_be_hidden()
    check_page(page)

    picker.fill("ts18 1h")
    options = page.get_by_role("listbox", name="Practices found").get_by_role("option")
    expect(options.first).to_contain_text("The Densham Surgery")
    expect(picker).to_have_attribute("aria-expanded", "true")
    expect(page.locator("[data-picker-status]")).to_contain_text("practice")
    assert_accessible(page)  # the open list too

    picker.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(picker).to_have_attribute("aria-activedescendant", "practice-option-0")
    picker.press("Enter")  # chooses; does not submit the profile
    expect(picker).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_label("Practice ODS code")).to_have_value("A81001")
    expect(page.get_by_label("Primary care network (PCN)")).to_have_value("STOCKTON PCN")
    expect(page.get_by_label("ICB or health board", exact=True)).to_have_value(str(board.pk))
    expect(page.locator("[data-picker-status]")).to_contain_text("Filled in: ODS code A81001")

    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Your profile has been saved.")).to_be_visible()
    profile = Profile.objects.get(user=member)
    assert profile.practice.code == "A81001"
    assert profile.care_board == board


def test_without_javascript_the_member_searches_on_a_page_of_its_own(browser, live_server):
    # axe needs script in the page, so it checks the same pages below with
    # script on; here the journey itself, with none.
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    loaded()
    member = ProfileFactory(ods_code="", pcn_name="").user
    sign_in(page, member, live_server)

    page.goto("/profile/")
    expect(page.locator("#practice-search")).to_be_hidden()
    page.get_by_role("link", name="Find your practice by name, town or postcode").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find your practice")
    page.get_by_label("Practice name, town, postcode or ODS code").fill("TS26 8DB")
    page.get_by_role("button", name="Search").click()
    page.get_by_role(
        "link", name="Victoria Medical Practice, Hartlepool, TS26 8DB (A81003)"
    ).click()
    expect(page.get_by_role("status").first).to_contain_text("You chose Victoria Medical Practice")
    expect(page.get_by_label("Practice ODS code")).to_have_value("A81003")
    expect(page.get_by_label("Primary care network (PCN)")).to_have_value("HARTLEPOOL PCN")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Your profile has been saved.")).to_be_visible()
    assert Profile.objects.get(user=member).practice.code == "A81003"
    context.close()


def test_the_search_page_and_the_chosen_practice_are_accessible(screen, live_server):
    page = screen
    loaded()
    sign_in(page, ProfileFactory(ods_code="").user, live_server)
    page.goto("/profile/practice/?q=t")
    expect(page.locator(".field-error")).to_contain_text("at least 2")
    check_page(page)
    page.goto("/profile/practice/?q=hartlepool")
    expect(page.get_by_role("link", name="Victoria Medical Practice", exact=False)).to_be_visible()
    check_page(page)
    page.goto("/profile/?practice=A81003")
    expect(page.get_by_label("Practice ODS code")).to_have_value("A81003")
    check_page(page)


def test_an_administrator_imports_the_files_and_follows_the_progress(page, live_server, tmp_path):
    north_east_board()
    sign_in(page, team_member("Administrators"), live_server)
    practices, pcns = month_one()
    (tmp_path / "epraccur.csv").write_bytes(practices)
    (tmp_path / "epcncorepartnerdetails.csv").write_bytes(pcns)

    page.goto("/staff/")
    page.get_by_role("link", name="NHS organisations: import this month's ODS files").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Import NHS organisations")
    page.get_by_label("GP practices: epraccur.csv").set_input_files(tmp_path / "epraccur.csv")
    page.get_by_label("Practices in PCNs").set_input_files(tmp_path / "epcncorepartnerdetails.csv")
    page.get_by_role("button", name="Upload and import").click()

    # The tests' Celery runs the task as the upload commits: the page opens
    # on a finished import and its report.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"ODS import {OdsImport.objects.get().pk}"
    )
    expect(page.get_by_role("heading", name="What changed")).to_be_visible()
    report = page.get_by_role("table", name="Organisations added, changed, moved and closed")
    expect(report.get_by_role("row", name="GP practices")).to_contain_text("5")
    check_page(page)


def test_the_progress_page_follows_a_running_import_until_it_finishes(page, live_server):
    sign_in(page, team_member("Administrators"), live_server)
    record = OdsImport.objects.create(
        status=OdsImport.Status.RUNNING, practices_file_name="epraccur.csv"
    )
    cache.set(progress_key(record.pk), {"percent": 25, "doing": "Comparing"})

    page.goto(f"/staff/ods-imports/{record.pk}/")
    bar = page.locator("progress")
    expect(bar).to_have_attribute("value", "25")
    expect(page.get_by_role("button", name="Refresh")).to_be_visible()
    check_page(page)

    # The page's script asks again every two seconds and moves the bar.
    cache.set(progress_key(record.pk), {"percent": 55, "doing": "Practices"})
    expect(page.get_by_role("status")).to_have_text("Practices", timeout=10_000)
    expect(bar).to_have_attribute("value", "55")

    # When the import finishes the page reloads itself with the report.
    OdsImport.objects.filter(pk=record.pk).update(
        status=OdsImport.Status.DONE,
        report={
            "rows": 1,
            "skipped": 0,
            "errors": [],
            "error_count": 0,
            "profiles_linked": 0,
            "practices": {
                "added": 1,
                "changed": 0,
                "moved": 0,
                "closed": 0,
                "unchanged": 0,
                "added_codes": ["A81001"],
            },
        },
    )
    expect(page.get_by_role("heading", name="What changed")).to_be_visible(timeout=10_000)
    expect(page.get_by_role("button", name="Refresh")).to_have_count(0)
    assert_accessible(page)
