"""The membership team imports an existing register: a file with errors,
the same file fixed, the import; then a member claims their account. In
Debian's Chromium, axe (target-size on) on every page."""

import contextlib
import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from members.models import Membership, RegisterImport
from tests.browser.conftest import assert_accessible, check_page
from tests.browser.test_account_pages import sign_in
from tests.factories import team_member
from tests.members.register_import.world import HEADER, csv_bytes, good_rows, register_imported

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def choose(page, content: bytes, name: str = "register.csv") -> None:
    page.get_by_label("Register file", exact=True).set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_role("button", name="Upload and check").click()


def test_staff_import_a_file_with_errors_fix_it_and_import_it(page, live_server):
    sign_in(page, team_member("Membership team"), live_server)
    page.goto(live_server.url + "/staff/")
    page.get_by_role("link", name="Import an existing register of members").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import an existing register")
    check_page(page)

    # The wrong columns: refused, naming what is missing.
    choose(page, csv_bytes([], header=[h for h in HEADER if h != "Grade"]))
    expect(page.get_by_text(re.compile("no column for: Grade")).first).to_be_visible()
    assert_accessible(page)

    # Rows with errors: the dry run shows each, with its row number.
    rows = good_rows()
    rows[1][3] = "Platinum"
    rows[2][5] = "31/02/2026"
    choose(page, csv_bytes(rows))
    expect(
        page.get_by_role("heading", name="Dry run: nothing has been written yet")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Rows with errors (2)")).to_be_visible()
    table = page.get_by_role("region", name="Rows with errors, by row number")
    expect(table).to_contain_text("is not a grade")
    expect(table).to_contain_text("is not a date")
    check_page(page)

    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text(re.compile("2 rows have errors")).first).to_be_visible()
    assert_accessible(page)
    assert not Membership.objects.exists()

    # One row with errors ticked to leave out: the other still stops the import.
    page.get_by_label("Leave out row 3").check()
    page.get_by_role("button", name="Save the ticks on this page").click()
    expect(page.get_by_text("Saved. 1 row ticked to leave out.")).to_be_visible()
    expect(page.get_by_label("Leave out row 3")).to_be_checked()
    check_page(page)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text(re.compile("1 rows have errors")).first).to_be_visible()
    assert not Membership.objects.exists()

    # The file fixed and uploaded again: clean, then imported.
    page.get_by_role("link", name="All register files").click()
    choose(page, csv_bytes(good_rows()))
    expect(page.get_by_role("heading", name="All rows (3)")).to_be_visible()
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Imported")).to_be_visible()
    expect(page.get_by_text(re.compile("3 created"))).to_be_visible()
    check_page(page)
    assert Membership.objects.filter(number="IGPM-005001", status="active").exists()

    # The member record shows where they came from.
    page.get_by_role("link", name="ann@example.org").click()
    expect(page.get_by_role("heading", name="From the earlier register")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Invoice their renewal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invoice a renewal")
    check_page(page)


def test_the_progress_page_follows_the_work_without_inline_script(page, live_server):
    staff = team_member("Membership team")
    register_import = RegisterImport.objects.create(
        uploaded_by=staff, file_name="big.csv", content=b"", total_rows=400, done_rows=100
    )
    sign_in(page, staff, live_server)
    page.goto(live_server.url + register_import.get_absolute_url())
    expect(page.get_by_role("heading", name="Dry run: checking every row")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("100 of 400 rows (25%).")
    expect(page.get_by_role("button", name="Refresh")).to_be_visible()
    check_page(page)
    RegisterImport.objects.filter(pk=register_import.pk).update(done_rows=300)
    expect(page.get_by_role("status")).to_have_text("300 of 400 rows (75%).", timeout=10_000)
    RegisterImport.objects.filter(pk=register_import.pk).update(
        status="checked", done_rows=400, check_counts={"create": 0, "error": 0}
    )
    expect(
        page.get_by_role("heading", name="Dry run: nothing has been written yet")
    ).to_be_visible(timeout=10_000)


def test_an_imported_member_claims_their_account_once(page, live_server):
    # Celery runs eagerly here: the work queued on commit runs at once.
    register_imported(team_member("Membership team"), lambda execute: contextlib.nullcontext())
    [invitation] = [m for m in mail.outbox if m.to == ["zed@example.org"]]
    link = re.search(r"http://testserver(/account/claim/\S+/)", invitation.body).group(1)
    page.goto(live_server.url + link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Claim your account")
    check_page(page)
    page.get_by_label("Password", exact=True).fill("a long and unusual passphrase 42")
    page.get_by_label("Password (again)").fill("a long and unusual passphrase 42")
    page.get_by_role("button", name="Set my password").click()
    expect(page.get_by_text("Your account is ready: you are signed in.")).to_be_visible()
    page.goto(live_server.url + link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
    check_page(page)


def test_a_link_to_an_address_since_corrected_says_it_was_replaced(page, live_server):
    from members.register_import.invitations import claim_invitation_resend

    staff = team_member("Membership team")
    _, member, first = register_imported(staff, lambda execute: contextlib.nullcontext())
    member.email = "zed.zephyr@example.org"
    member.save(update_fields=["email"])
    claim_invitation_resend(user=member, by=staff)
    page.goto(live_server.url + f"/account/claim/{first}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has been replaced")
    check_page(page)


def test_a_stopped_import_says_why_and_carries_on(page, live_server):
    staff = team_member("Membership team")
    register_import = RegisterImport.objects.create(
        uploaded_by=staff, file_name="big.csv", content=b"", total_rows=0, done_rows=0,
        status="interrupted", interrupted_step="importing", imported_by=staff,
        problem="OperationalError: deadlock detected",
    )  # fmt: skip
    sign_in(page, staff, live_server)
    page.goto(live_server.url + register_import.get_absolute_url())
    expect(
        page.get_by_role("heading", name="The import stopped before it finished")
    ).to_be_visible()
    expect(page.get_by_text("The reason: OperationalError: deadlock detected")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Carry on from where it stopped").click()
    expect(page.get_by_role("heading", name="Imported")).to_be_visible()
    check_page(page)


def test_the_claim_page_over_its_limit_says_so(page, live_server, settings):
    settings.REGISTER_CLAIM_RATE_LIMIT = "1/m/ip"
    page.goto(live_server.url + "/account/claim/not-a-token/")
    expect(page.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
    page.goto(live_server.url + "/account/claim/not-a-token/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many attempts")
    check_page(page)
