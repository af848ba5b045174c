"""A consultation's background document: checked as evidence is, kept
under a generated name, shown to members as a link, and served only to
those who may read the consultation."""

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from members.consultations import services
from members.consultations.forms import document_check
from members.consultations.models import Consultation
from members.models import AuditEntry
from tests.accreditation.conftest import PAGE_OBJECTS, PDF, PNG, pdf_bytes, upload
from tests.factories import ProfileFactory, StaffFactory, active_member, team_member

from .world import consultation, policy_officer

pytestmark = pytest.mark.django_db

_, PAGES, PAGE = PAGE_OBJECTS
JAVASCRIPT_PDF = pdf_bytes(
    b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
    PAGES,
    PAGE,
    b"<< /Type /Action /S /JavaScript /JS (app.alert\\('hi'\\)) >>",
)


def settings_data(made, **extra):
    """The staff settings form as the page would post it back."""
    return {
        "title": made.title,
        "background": made.background,
        "anonymity": made.anonymity,
        "opens_at": made.opens_at.strftime("%Y-%m-%dT%H:%M"),
        "closes_at": made.closes_at.strftime("%Y-%m-%dT%H:%M"),
        "audience": made.audience,
        **extra,
    }


def with_document(name="NHS plan briefing.pdf", content=PDF, **fields):
    return consultation(document=document_check(upload(name, content)), **fields)


def test_a_plain_pdf_is_attached_under_a_generated_name(client):
    made = consultation(opened=False)
    client.force_login(policy_officer())
    saved = client.post(
        made.get_staff_url(),
        settings_data(made, document=upload("../Plan: draft 2.pdf", PDF)),
    )
    assert saved.status_code == 302
    made.refresh_from_db()
    assert made.document_name == "Plan_ draft 2.pdf"
    assert made.document_size == len(PDF)
    assert made.document.name.startswith("consultations/")
    assert "Plan" not in made.document.name
    assert default_storage.open(made.document.name).read() == PDF


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("script.pdf", JAVASCRIPT_PDF, "“script.pdf” contains JavaScript, which is not accepted."),
        ("photo.pdf", PNG, "“photo.pdf” is not a PDF. Save it as a PDF and upload it again."),
        ("empty.pdf", b"", "The file chosen is empty. Choose the file again."),
    ],
)
def test_a_bad_pdf_is_refused_beside_the_field_and_nothing_is_stored(
    client, name, content, message
):
    made = consultation(opened=False)
    client.force_login(policy_officer())
    refused = client.post(
        made.get_staff_url(),
        settings_data(made, title="Typed title", document=upload(name, content)),
    )
    assert refused.status_code == 400
    page = refused.content.decode()
    assert message in page
    # The message belongs to the document field, and what was typed stays.
    assert message in refused.context["form"].errors["document"][0]
    assert 'value="Typed title"' in page
    made.refresh_from_db()
    assert not made.document and made.title != "Typed title"


def test_creating_with_a_document_keeps_it(client):
    client.force_login(policy_officer())
    client.post(
        reverse("members:staff_consultation_new"),
        {
            "title": "Estates survey",
            "anonymity": "attributed",
            "opens_at": "2026-01-01T09:00",
            "closes_at": "2030-01-31T17:00",
            "audience": "members",
            "document": upload("estates.pdf", PDF),
        },
    )
    made = Consultation.objects.get(title="Estates survey")
    assert made.document_name == "estates.pdf"


def test_a_draft_document_is_replaced_and_removed_and_the_old_file_goes(
    client, django_capture_on_commit_callbacks
):
    made = with_document(opened=False)
    first = made.document.name
    client.force_login(policy_officer())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(made.get_staff_url(), settings_data(made, document=upload("v2.pdf", PDF)))
    made.refresh_from_db()
    assert made.document_name == "v2.pdf"
    assert not default_storage.exists(first)
    second = made.document.name
    with django_capture_on_commit_callbacks(execute=True):
        client.post(made.get_staff_url(), settings_data(made, document_remove="on"))
    made.refresh_from_db()
    assert not made.document and made.document_name == "" and made.document_size == 0
    assert not default_storage.exists(second)


def test_changing_the_document_after_opening_is_audited(client):
    # Times to the minute, as the form posts them back unchanged.
    made = with_document(name="v1.pdf")
    closes = made.closes_at.replace(second=0, microsecond=0)
    Consultation.objects.filter(pk=made.pk).update(closes_at=closes)
    made.refresh_from_db()
    client.force_login(policy_officer())
    saved = client.post(made.get_staff_url(), settings_data(made, document=upload("v1.pdf", PDF)))
    assert saved.status_code == 302
    entry = AuditEntry.objects.filter(action="consultation_edited_after_opening").get()
    # Replaced under the same name: still recorded as a change.
    assert entry.data["changed"] == {"document": ["v1.pdf", "v1.pdf"]}
    assert entry.target_id == made.pk


def test_a_closed_consultation_document_cannot_change():
    made = with_document()
    services.consultation_close(consultation=made, by=None)
    with pytest.raises(services.ConsultationRefused):
        services.consultation_update(consultation=made, by=policy_officer(), document=None)
    made.refresh_from_db()
    assert made.document


def test_members_see_the_link_on_the_answer_and_summary_pages(client):
    member = active_member()
    made = with_document(content=PDF + b"%" + b"0" * 245_000)
    client.force_login(member)
    link = reverse("members:consultation_document", args=[made.pk])
    page = client.get(made.get_absolute_url()).content.decode()
    assert f'<a href="{link}">Read the background document (PDF, 240 KB)</a>' in page
    services.consultation_close(consultation=made, by=None)
    services.consultation_publish(consultation=made, by=policy_officer(), to="members")
    summary = client.get(reverse("members:consultation_summary", args=[made.pk]))
    assert "Read the background document (PDF, 240 KB)" in summary.content.decode()
    download = client.get(link)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment")
    assert 'filename="NHS plan briefing.pdf"' in download["Content-Disposition"]
    assert b"".join(download.streaming_content).startswith(PDF)


def test_no_link_once_closed_without_a_published_summary(client):
    member = active_member()
    made = with_document()
    services.consultation_close(consultation=made, by=None)
    client.force_login(member)
    page = client.get(made.get_absolute_url()).content.decode()
    assert "has closed" in page
    assert "background document" not in page


def test_no_link_without_a_document(client):
    member = active_member()
    made = consultation()
    client.force_login(member)
    page = client.get(made.get_absolute_url()).content.decode()
    assert "background document" not in page
    link = reverse("members:consultation_document", args=[made.pk])
    assert client.get(link).status_code == 404


def statuses(made, users):
    seen = {}
    link = reverse("members:consultation_document", args=[made.pk])
    for role, user in users.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        seen[role] = client.get(link).status_code
    return seen


@pytest.fixture
def people():
    return {
        "anon": None,
        "outsider": ProfileFactory().user,
        "member": active_member(),
        "membership": team_member("Membership team"),
        "policy": policy_officer(),
    }


def test_who_may_download_at_each_stage(people):
    made = with_document(opened=False)
    assert statuses(made, people) == {
        "anon": 302,
        "outsider": 404,
        "member": 404,
        "membership": 404,
        "policy": 200,
    }
    services.consultation_open(consultation=made, by=people["policy"])
    open_to_members = {"anon": 302, "outsider": 404, "member": 200, "membership": 404}
    assert statuses(made, people) == {**open_to_members, "policy": 200}
    services.consultation_close(consultation=made, by=None)
    closed = {"anon": 302, "outsider": 404, "member": 404, "membership": 404, "policy": 200}
    assert statuses(made, people) == closed
    services.consultation_publish(consultation=made, by=people["policy"], to="members")
    members_summary = {"anon": 302, "outsider": 200, "member": 200, "membership": 200}
    assert statuses(made, people) == {**members_summary, "policy": 200}
    services.consultation_publish(consultation=made, by=people["policy"], to="public")
    assert statuses(made, people) == dict.fromkeys(people, 200)


def test_an_audience_everyone_signed_in_may_download_while_open(people):
    made = with_document(audience=Consultation.Audience.SIGNED_IN)
    assert statuses(made, people)["outsider"] == 200


def test_the_document_size_reads_as_a_person_would_say_it():
    made = Consultation(document_size=245_760)
    assert made.document_size_text == "240 KB"
    made.document_size = 300
    assert made.document_size_text == "1 KB"
    made.document_size = 1_468_006
    assert made.document_size_text == "1.4 MB"


def test_the_admin_gives_no_direct_link_to_the_stored_file(client):
    made = with_document()
    client.force_login(StaffFactory(mfa=True, is_superuser=True))
    page = client.get(reverse("admin:members_consultation_change", args=[made.pk]))
    assert page.status_code == 200
    assert "NHS plan briefing.pdf" in page.content.decode()
    assert made.document.name not in page.content.decode()
