"""Evidence uploads are refused unless they really are PDF, PNG or JPEG."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accreditation.models import Application, Evidence
from accreditation.uploads import MAX_BYTES, evidence_check
from tests.accreditation.conftest import JPEG, PDF, PNG, upload
from tests.factories import active_member

ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 200
WINDOWS_EXE = b"MZ\x90\x00\x03" + b"\x00" * 200
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>'
PDF_HEADER_ONLY = b"%PDF-1.7\n<script>not really a pdf</script>"

REFUSED = [
    ("empty.pdf", b"", "is empty"),
    ("huge.pdf", PDF + b"0" * MAX_BYTES, "10 MB or smaller"),
    ("program.pdf", ELF, "not a PDF, PNG or JPEG"),
    ("setup.pdf", WINDOWS_EXE, "not a PDF, PNG or JPEG"),
    ("page.pdf", HTML, "not a PDF, PNG or JPEG"),
    ("drawing.pdf", SVG, "not a PDF, PNG or JPEG"),
    ("truncated.pdf", PDF_HEADER_ONLY, "not a PDF, PNG or JPEG"),
]


@pytest.mark.parametrize(("name", "content", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_bad_files_are_refused_with_a_clear_message(name, content, message):
    with pytest.raises(ValidationError, match=message):
        evidence_check(upload(name, content))


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.pdf", PDF, "application/pdf"),
        ("b.png", PNG, "image/png"),
        ("c.jpg", JPEG, "image/jpeg"),
    ],
)
def test_real_files_are_recognised_by_content(name, content, expected):
    assert evidence_check(upload(name, content, content_type="text/plain")) == expected


def test_a_png_named_pdf_is_stored_as_what_it_is(db, client, pathway):
    user = active_member()
    client.force_login(user)
    client.post(reverse("accreditation:apply"), {"pathway": pathway.pk})
    application = Application.objects.get()
    client.post(
        reverse("accreditation:application", args=[application.pk]),
        {"evidence-file": upload("scan.pdf", PNG), "upload": "1"},
    )
    evidence = Evidence.objects.get()
    assert evidence.content_type == "image/png"
    assert evidence.original_name == "scan.pdf"
    # Stored under a generated name, outside anything served publicly.
    assert evidence.file.name.startswith("evidence/")
    assert "scan" not in evidence.file.name


@pytest.mark.parametrize(
    ("name", "content", "message"), REFUSED[:5], ids=[r[0] for r in REFUSED[:5]]
)
def test_refusal_through_the_page_keeps_the_rest_of_the_application(
    db, client, pathway, name, content, message
):
    user = active_member()
    client.force_login(user)
    client.post(reverse("accreditation:apply"), {"pathway": pathway.pk})
    application = Application.objects.get()
    # Details typed but never saved travel with the upload and come back.
    response = client.post(
        reverse("accreditation:application", args=[application.pk]),
        {
            "qualification_title": "CMI Level 5 Diploma",
            "evidence-file": upload(name, content),
            "upload": "1",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_evidence-file_error"' in html
    assert message in html
    assert 'value="CMI Level 5 Diploma"' in html
    assert not Evidence.objects.exists()
    application.refresh_from_db()
    assert application.qualification_title == ""  # nothing half-saved


def test_evidence_is_downloaded_as_an_attachment(db, client, pathway):
    user = active_member()
    client.force_login(user)
    client.post(reverse("accreditation:apply"), {"pathway": pathway.pk})
    application = Application.objects.get()
    client.post(
        reverse("accreditation:application", args=[application.pk]),
        {"evidence-file": upload("diploma.pdf", PDF), "upload": "1"},
    )
    evidence = Evidence.objects.get()
    response = client.get(reverse("accreditation:evidence_download", args=[evidence.pk]))
    assert response["Content-Disposition"].startswith('attachment; filename="diploma.pdf"')
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
