"""Accreditation, told first and reviewed in a run: at 1280 px and on a
320 px phone, with axe on every state.

- Someone not in good standing is told before choosing a pathway.
- The assessor previews PDF and image evidence in the page, and each
  decision leads to the next application waiting, then to the queue.
"""

import datetime
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from playwright.sync_api import expect

from accreditation.services import (
    application_start,
    application_submit,
    application_update,
    evidence_add,
)
from tests.accreditation.conftest import PDF
from tests.browser.conftest import assert_accessible, check_page
from tests.browser.test_account_pages import sign_in
from tests.factories import ProfileFactory, active_member, assessor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def heading(page):
    return page.get_by_role("heading", level=1)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 94, 184)).save(buffer, format="PNG")
    return buffer.getvalue()


def frame_shows(page, src: str) -> bool:
    """Whether a frame of ``page`` navigated to ``src`` (a frame that was
    refused shows Chromium's error page instead)."""
    for _ in range(50):
        if any(f.url.endswith(src) for f in page.frames if f != page.main_frame):
            return True
        page.wait_for_timeout(100)
    return False


def submitted(first_name: str, pathway, files):
    user = active_member()
    user.first_name, user.last_name = first_name, "Adeyemi"
    user.save(update_fields=["first_name", "last_name"])
    application = application_start(user=user, pathway=pathway)
    application_update(
        application=application,
        by=user,
        qualification_title="Level 7 Diploma in Leadership and Management",
        awarding_body="ILM",
        certificate_number="ILM-7-123456",
        date_achieved=datetime.date(2024, 7, 15),
    )
    for name, content, content_type in files:
        evidence_add(
            application=application,
            upload=SimpleUploadedFile(name, content, content_type=content_type),
            by=user,
        )
    return application_submit(application=application, by=user)


def test_someone_not_in_good_standing_is_told_before_choosing(screen, live_server, pathway):
    page = screen
    sign_in(page, ProfileFactory().user, live_server)
    for path, title in [
        ("/accreditation/", "Your accreditation"),
        ("/accreditation/apply/", "Apply for accreditation"),
    ]:
        page.goto(path)
        expect(heading(page)).to_have_text(title)
        notice = page.get_by_role(
            "region", name="Accreditation is for IGPM members in good standing"
        )
        expect(notice.get_by_role("link", name="Join the IGPM")).to_be_visible()
        expect(page.get_by_role("combobox")).to_have_count(0)
        expect(page.get_by_role("radio")).to_have_count(0)
        check_page(page)
    page.get_by_role("link", name="Join the IGPM").click()
    expect(heading(page)).to_have_text("Choose your membership grade")


def test_assessor_previews_evidence_and_goes_on_to_the_next(screen, live_server, pathway):
    page = screen
    first = submitted(
        "Grace",
        pathway,
        [("diploma.pdf", PDF, "application/pdf"), ("badge.png", png(), "image/png")],
    )
    second = submitted("Tomi", pathway, [("transcript.pdf", PDF, "application/pdf")])
    sign_in(page, assessor(), live_server)

    page.goto(f"/staff/accreditation/{first.pk}/")
    expect(heading(page)).to_have_text("Accreditation: Grace Adeyemi")
    page.get_by_text("Preview diploma.pdf").click()
    frame = page.get_by_title("Preview of diploma.pdf")
    expect(frame).to_be_visible()
    src = frame.get_attribute("src")
    served = page.request.get(src)
    assert served.ok
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"].startswith("inline;")
    assert served.headers["x-frame-options"] == "SAMEORIGIN"
    # The frame really navigated to the file: a refused frame shows
    # Chromium's error page instead.
    assert frame_shows(page, src), [f.url for f in page.frames]
    page.get_by_text("Preview badge.png").click()
    image = page.get_by_role("img", name=re.compile(r"^badge\.png"))
    expect(image).to_be_visible()
    # Decoded, so served as an image the page may show (it loads lazily).
    page.wait_for_function(
        "() => document.querySelector('.evidence-preview__image').naturalWidth === 40"
    )
    check_page(page)

    page.get_by_role("button", name="Assign to me").click()
    page.get_by_role("radio", name="Reject").check()
    page.get_by_label("Reasons").fill("The diploma is not on the pathway's list.")
    page.get_by_role("button", name="Record decision").click()
    expect(heading(page)).to_have_text("Accreditation: Tomi Adeyemi")
    expect(page.get_by_role("status")).to_contain_text(
        "This is the next application in the queue."
    )
    assert page.url.endswith(f"/staff/accreditation/{second.pk}/")
    check_page(page)

    page.get_by_role("button", name="Assign to me").click()
    page.get_by_role("radio", name="Approve and issue the certificate").check()
    page.get_by_role("button", name="Record decision").click()
    expect(heading(page)).to_have_text("Accreditation review queue")
    expect(page.get_by_role("status")).to_contain_text(
        "No other application is waiting for a decision."
    )
    assert_accessible(page)
