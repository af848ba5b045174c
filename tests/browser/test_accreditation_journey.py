"""Accreditation in Debian's Chromium: apply, review, certificate, verify, revoke.

axe runs on every accreditation page, error states included.
"""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from accreditation.models import Application, Certificate, CpdEntry, Pathway
from accreditation.services import (
    application_start,
    application_submit,
    application_update,
    evidence_add,
)
from tests.accreditation.conftest import PDF
from tests.browser.conftest import assert_accessible
from tests.browser.test_account_pages import sign_in
from tests.factories import active_member, assessor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"


def heading(page):
    return page.get_by_role("heading", level=1)


def pdf_file(name: str, content: bytes = PDF) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": content}


@pytest.fixture
def new_page(page, live_server):
    """Pages in fresh browser contexts: another person, other cookies."""
    contexts = []

    def make():
        context = page.context.browser.new_context(
            base_url=live_server.url, viewport={"width": 1024, "height": 800}
        )
        contexts.append(context)
        other = context.new_page()
        other.set_default_timeout(15_000)
        return other

    yield make
    for context in contexts:
        context.close()


def member(first_name: str, last_name: str):
    user = active_member()
    user.first_name, user.last_name = first_name, last_name
    user.save(update_fields=["first_name", "last_name"])
    return user


def submitted_application(user, pathway: Pathway) -> Application:
    application = application_start(user=user, pathway=pathway)
    application_update(
        application=application,
        by=user,
        qualification_title="Level 7 Diploma in Leadership and Management",
        awarding_body="ILM",
        certificate_number="ILM-7-123456",
        date_achieved=datetime.date(2024, 7, 15),
    )
    evidence_add(
        application=application,
        upload=SimpleUploadedFile("diploma.pdf", PDF, content_type="application/pdf"),
        by=user,
    )
    return application_submit(application=application, by=user)


def test_member_is_accredited_verified_and_revoked(page, new_page, live_server, pathway):
    user = member("Grace", "Adeyemi")
    sign_in(page, user, live_server)

    page.goto("/accreditation/")
    expect(heading(page)).to_have_text("Your accreditation")
    expect(page.get_by_text("You have no applications in progress.")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Start an application").click()
    expect(heading(page)).to_have_text("Apply for accreditation")
    assert_accessible(page)

    # Starting without a choice: the summary takes focus and links to the radios.
    page.get_by_role("button", name="Start application").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Choose a pathway.")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)
    summary.get_by_role("link").click()
    expect(page.get_by_role("radio").first).to_be_focused()

    page.get_by_role("radio", name=pathway.name).check()
    page.get_by_role("button", name="Start application").click()
    expect(heading(page)).to_have_text(f"Accreditation: {pathway.name}")
    assert_accessible(page)

    title = page.get_by_label("Qualification title")
    title.fill("Level 7 Diploma in Leadership and Management")
    page.get_by_label("Awarding body").fill("Institute of Leadership & Management")
    page.get_by_label("Certificate or learner number").fill("ILM-7-123456")
    page.get_by_label("Date achieved").fill("2024-07-15")

    # Uploading also saves the details typed so far.
    upload = page.get_by_label("Upload a file of evidence")
    upload.set_input_files(pdf_file("diploma.pdf"))
    page.get_by_role("button", name="Upload file").click()
    expect(page.get_by_role("status")).to_contain_text("“diploma.pdf” uploaded.")
    expect(page.get_by_role("link", name="diploma.pdf")).to_be_visible()

    # An HTML page renamed .pdf: refused beside the field, the details kept.
    upload.set_input_files(pdf_file("page.pdf", HTML))
    page.get_by_role("button", name="Upload file").click()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(upload).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_evidence-file_error")).to_contain_text(
        "“page.pdf” is not a PDF, PNG or JPEG file."
    )
    expect(title).to_have_value("Level 7 Diploma in Leadership and Management")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)

    expect(page.get_by_label("Date achieved")).to_have_value("2024-07-15")
    page.get_by_role("button", name="Submit application").click()
    expect(page).to_have_url(re.compile(r"/accreditation/$"))
    expect(page.get_by_role("status")).to_contain_text("Your application has been submitted.")
    expect(page.get_by_role("link", name=re.compile(r"\(submitted\)$"))).to_be_visible()

    # The assessor, in a browser of their own.
    staff = new_page()
    staff_user = assessor()
    sign_in(staff, staff_user, live_server)
    staff.goto("/staff/accreditation/")
    expect(heading(staff)).to_have_text("Accreditation review queue")
    row = staff.get_by_role("row", name=re.compile("Grace Adeyemi"))
    expect(row).to_contain_text(pathway.name)
    expect(row).to_contain_text("Unassigned")
    assert_accessible(staff)

    row.get_by_role("link", name="Grace Adeyemi").click()
    expect(heading(staff)).to_have_text("Accreditation: Grace Adeyemi")
    expect(staff.get_by_role("link", name=re.compile(r"^diploma\.pdf"))).to_be_visible()
    assert_accessible(staff)
    staff.get_by_role("button", name="Assign to me").click()
    expect(staff.get_by_role("status")).to_contain_text("The application is assigned to you.")
    staff.get_by_role("radio", name="Approve and issue the certificate").check()
    staff.get_by_role("button", name="Record decision").click()
    expect(heading(staff)).to_have_text("Accreditation review queue")
    expect(staff.get_by_role("status")).to_contain_text("Decision recorded")

    certificate = Certificate.objects.get()
    assert certificate.holder == user
    assert certificate.pdf, "the certificate PDF was not rendered on commit"

    # The member downloads the certificate and lists themself on the register.
    page.goto("/accreditation/")
    panel = page.get_by_role("region", name=pathway.name)
    expect(panel.locator("dt:has-text('Certificate') + dd")).to_have_text(certificate.number)
    expect(panel.locator("dt:has-text('Status') + dd")).to_have_text("Valid")
    assert_accessible(page)
    with page.expect_download() as download:
        panel.get_by_role("link", name="Download certificate (PDF)").click()
    assert download.value.suggested_filename == f"{certificate.number}.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"

    panel.get_by_role("button", name="List me on the register").click()
    expect(page.get_by_role("status")).to_contain_text("You are listed on the public register.")
    page.get_by_role("link", name="public register").click()
    expect(heading(page)).to_have_text("Register of accredited practice managers")
    expect(page.get_by_role("row", name=re.compile("Grace Adeyemi"))).to_contain_text(
        certificate.number
    )
    assert_accessible(page)

    # A stranger checks the certificate by its QR code's address, then by number.
    stranger = new_page()
    stranger.goto(f"/verify/{certificate.verification_code}/")
    expect(stranger.locator("main").get_by_role("heading", level=2)).to_have_text(
        "This certificate is valid"
    )
    expect(stranger.locator("dt:has-text('Name') + dd")).to_have_text("Grace Adeyemi")
    assert_accessible(stranger)

    stranger.goto("/verify/")
    assert_accessible(stranger)
    stranger.get_by_label("Certificate number").fill(certificate.number.lower())
    stranger.get_by_label("The holder's surname").fill("adeyemi")
    stranger.get_by_role("button", name="Check certificate").click()
    expect(stranger.locator("main").get_by_role("heading", level=2)).to_have_text(
        "This certificate is valid"
    )
    expect(stranger.locator("dt:has-text('Certificate number') + dd")).to_have_text(
        certificate.number
    )
    assert_accessible(stranger)

    # The assessor revokes it; the stranger's page says so.
    staff.goto(f"/staff/accreditation/{certificate.application_id}/")
    staff.get_by_text("Revoke this certificate").click()
    staff.get_by_label("Reason for revoking").fill("The awarding body withdrew the diploma.")
    staff.get_by_role("button", name="Revoke certificate").click()
    expect(staff.get_by_role("status")).to_contain_text(
        f"Certificate {certificate.number} revoked."
    )
    expect(staff.get_by_text("Revoked: The awarding body withdrew the diploma.")).to_be_visible()

    stranger.goto(f"/verify/{certificate.verification_code}/")
    expect(stranger.locator("main").get_by_role("heading", level=2)).to_have_text(
        "This certificate has been revoked"
    )
    expect(stranger.locator("dt:has-text('Status') + dd")).to_have_text("Revoked")
    assert_accessible(stranger)


def test_pathways_cpd_log_and_experiential_application(page, live_server, pathway, experiential):
    page.goto("/accreditation/pathways/")
    expect(heading(page)).to_have_text("National accreditation: the pathways")
    # Pathways sit under their route's heading.
    expect(page.get_by_role("heading", level=2, name="Experience and portfolio")).to_be_visible()
    expect(page.get_by_role("heading", level=3, name=experiential.name)).to_be_visible()
    assert_accessible(page)

    user = member("Tom", "Reilly")
    sign_in(page, user, live_server)

    page.goto("/accreditation/cpd/")
    expect(heading(page)).to_have_text("Your CPD log")
    expect(page.get_by_text("Nothing logged yet.")).to_be_visible()
    # Half an hour too little, and no activity: errors by the fields, data kept.
    page.get_by_label("Date", exact=True).fill("2025-03-04")
    page.get_by_label("Hours", exact=True).fill("0")
    page.get_by_role("button", name="Add to my log").click()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(page.get_by_label("Activity", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_activity_error")).to_contain_text("Describe the activity.")
    expect(page.get_by_label("Date", exact=True)).to_have_value("2025-03-04")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)

    page.get_by_label("Activity", exact=True).fill("PCN leadership masterclass")
    page.get_by_label("Hours", exact=True).fill("3.5")
    page.get_by_label("Category").select_option(label="Course or training")
    page.get_by_label("What you learned (optional)").fill("Running a PCN board.")
    page.get_by_role("button", name="Add to my log").click()
    expect(page.get_by_role("status")).to_contain_text("CPD entry added.")
    expect(page.get_by_role("row", name=re.compile("PCN leadership masterclass"))).to_contain_text(
        "3.5"
    )
    expect(page.locator(".lead")).to_contain_text("3.5 hours")
    assert_accessible(page)
    assert CpdEntry.objects.get(user=user).hours == 3.5

    page.goto("/accreditation/apply/")
    page.get_by_role("radio", name=experiential.name).check()
    page.get_by_role("button", name="Start application").click()
    expect(heading(page)).to_have_text(f"Accreditation: {experiential.name}")
    expect(page.get_by_label("Qualification title")).to_have_count(0)
    page.get_by_label("Roles held").fill("Practice Manager, Riverside Surgery, 2018 to now")
    page.get_by_label("First referee's email").fill("not an address")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(page.locator("#id_referee_1_email_error")).to_contain_text(
        "Enter an email address like name@example.org."
    )
    assert_accessible(page)


def test_accreditation_pages_fit_a_320px_phone(phone_page, live_server, pathway):
    applicant = member("Grace", "Adeyemi")
    submitted_application(applicant, pathway)
    drafting = member("Tom", "Reilly")
    draft = application_start(user=drafting, pathway=pathway)

    for user, path in [
        (drafting, f"/accreditation/applications/{draft.pk}/"),
        (assessor(), "/staff/accreditation/"),
    ]:
        sign_in(phone_page, user, live_server)
        phone_page.goto(path)
        expect(heading(phone_page)).to_be_visible()
        overflow = phone_page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a 320px screen"
        assert_accessible(phone_page)
    expect(phone_page.get_by_role("link", name="Grace Adeyemi")).to_be_visible()


def test_a_saved_date_achieved_is_shown_again(page, live_server, pathway):
    user = member("Grace", "Adeyemi")
    application = application_start(user=user, pathway=pathway)
    sign_in(page, user, live_server)
    page.goto(f"/accreditation/applications/{application.pk}/")
    page.get_by_label("Date achieved").fill("2024-07-15")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("Your draft has been saved.")
    expect(page.get_by_label("Date achieved")).to_have_value("2024-07-15", timeout=1_000)


def test_typed_details_survive_an_evidence_upload(page, live_server, pathway):
    user = member("Grace", "Adeyemi")
    application = application_start(user=user, pathway=pathway)
    sign_in(page, user, live_server)
    page.goto(f"/accreditation/applications/{application.pk}/")
    page.get_by_label("Qualification title").fill("Level 7 Diploma")
    page.get_by_label("Upload a file of evidence").set_input_files(pdf_file("diploma.pdf"))
    page.get_by_role("button", name="Upload file").click()
    expect(page.get_by_role("status")).to_contain_text("uploaded")
    expect(page.get_by_label("Qualification title")).to_have_value(
        "Level 7 Diploma", timeout=1_000
    )
