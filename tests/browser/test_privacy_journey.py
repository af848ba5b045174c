"""Your data and privacy in Debian's Chromium: a member downloads their
data from the emailed link and asks to be erased; an administrator
confirms. axe runs on every new page state."""

import datetime
import io
import json
import re
import zipfile

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from members.models import DataExport, ErasureRequest, User
from members.privacy.services import erasure_request
from tests.browser.conftest import assert_accessible
from tests.browser.test_account_pages import sign_in
from tests.factories import PASSWORD, ProfileFactory
from tests.members.privacy_world import administrator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = "07700 900123"


def heading(page):
    return page.get_by_role("heading", level=1)


def confirm_with_password(page) -> None:
    expect(heading(page)).to_have_text("Confirm access")
    assert_accessible(page)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()


@pytest.fixture
def staff_page(page, live_server):
    context = page.context.browser.new_context(
        base_url=live_server.url, viewport={"width": 1024, "height": 800}
    )
    other = context.new_page()
    other.set_default_timeout(15_000)
    yield other
    context.close()


def test_member_downloads_their_data_from_the_emailed_link(page, live_server):
    user = ProfileFactory(
        user__first_name="Ifeoma", user__last_name="Okonkwo-Hart", phone=PHONE
    ).user
    sign_in(page, user, live_server)

    page.goto("/dashboard/")
    page.get_by_role("link", name="Your data and privacy").click()
    expect(heading(page)).to_have_text("Your data and privacy")
    assert_accessible(page)

    page.get_by_role("button", name="Email me a copy of my data").click()
    # A signed-in session is not enough: the password is asked for first.
    confirm_with_password(page)
    expect(page.locator(".messages")).to_contain_text("We are preparing a copy of your data")
    # The task ran when the request committed: the copy is ready already.
    expect(page.locator("#export-status")).to_contain_text("is ready until")
    assert_accessible(page)

    (message,) = [m for m in mail.outbox if "ready to download" in m.subject]
    assert message.to == [user.email]
    link = re.search(r"https?://\S+/account/privacy/export/\S+/", message.body).group(0)
    path = link.split("testserver", 1)[1]
    with page.expect_download() as download:
        page.evaluate("url => { window.location.href = url }", path)
    assert download.value.suggested_filename.startswith("igpm-my-data-")
    with open(download.value.path(), "rb") as stored:
        archive = zipfile.ZipFile(io.BytesIO(stored.read()))
    (profile,) = json.loads(archive.read("profile.json"))
    assert profile["phone"] == PHONE
    (account,) = json.loads(archive.read("account.json"))
    assert account["last_name"] == "Okonkwo-Hart"
    assert "README.txt" in archive.namelist()

    # A week later the link no longer works.
    DataExport.objects.filter(user=user).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    response = page.goto(path)
    assert response.status == 410
    expect(heading(page)).to_have_text("This download is no longer available")
    assert_accessible(page)

    # Another member following the same link finds nothing.
    other = page.context.browser.new_context(base_url=live_server.url)
    try:
        stranger = other.new_page()
        sign_in(stranger, ProfileFactory().user, live_server)
        assert stranger.goto(path).status == 404
    finally:
        other.close()


def test_member_asks_to_be_erased_and_an_administrator_confirms(page, staff_page, live_server):
    user = ProfileFactory(user__first_name="Tobias", user__last_name="Wrenfield").user
    # Two older requests, so the list shows its warnings.
    for days in (25, 40):
        old = erasure_request(user=ProfileFactory().user)
        ErasureRequest.objects.filter(pk=old.pk).update(
            requested_at=timezone.now() - datetime.timedelta(days=days)
        )
    sign_in(page, user, live_server)

    page.goto("/account/privacy/")
    page.get_by_role("link", name="Ask to delete my account").click()
    expect(heading(page)).to_have_text("Delete your account")
    assert_accessible(page)

    # Asking without ticking the box: the error is next to it and summarised.
    page.get_by_role("button", name="Ask to delete my account").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Tick the box to confirm you want your account deleted.")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)

    page.get_by_label(re.compile("I understand that my account")).check()
    page.get_by_role("button", name="Ask to delete my account").click()
    confirm_with_password(page)
    expect(heading(page)).to_have_text("Your data and privacy")
    expect(page.locator(".messages")).to_contain_text("We have your request")
    expect(page.get_by_role("button", name="Cancel my request")).to_be_visible()
    assert_accessible(page)

    staff = administrator()
    sign_in(staff_page, staff, live_server)
    staff_page.goto("/staff/")
    expect(staff_page.get_by_text("3 requests to delete an account are waiting")).to_be_visible()
    assert_accessible(staff_page)
    staff_page.get_by_role("link", name="Erasure requests").click()
    expect(heading(staff_page)).to_have_text("Erasure requests")
    expect(staff_page.get_by_text("Overdue", exact=True)).to_be_visible()
    expect(staff_page.get_by_text("Due soon", exact=True)).to_be_visible()
    assert_accessible(staff_page)

    staff_page.get_by_role("link", name="Tobias Wrenfield").click()
    expect(heading(staff_page)).to_have_text(re.compile(r"^Erasure request \d+$"))
    assert_accessible(staff_page)

    # Refusing without a reason is sent back with the message by the field.
    staff_page.get_by_role("radio", name="Refuse the request").check()
    staff_page.get_by_role("button", name="Record decision").click()
    expect(staff_page.locator("[data-error-summary]")).to_contain_text(
        "Give the member the reason for refusing."
    )
    expect(staff_page.get_by_label("Reason for refusing")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(staff_page.get_by_role("radio", name="Refuse the request")).to_be_checked()
    assert_accessible(staff_page)

    staff_page.get_by_role("radio", name="Erase the account now").check()
    staff_page.get_by_role("button", name="Record decision").click()
    expect(heading(staff_page)).to_have_text("Erasure requests")
    expect(staff_page.locator(".messages")).to_contain_text("The account has been erased.")
    assert_accessible(staff_page)

    erased = User.objects.get(pk=user.pk)
    assert erased.erased_at is not None
    assert erased.email == f"erased-{user.pk}@erased.invalid"
    assert not erased.is_active
    # The member's browser is signed out.
    page.goto("/account/privacy/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
