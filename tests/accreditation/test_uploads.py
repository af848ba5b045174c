"""Evidence uploads are refused unless they really are PDF, PNG or JPEG,
with nothing active inside."""

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from PIL import Image
from pypdf import PdfWriter

from accreditation.models import Application, Evidence
from accreditation.uploads import MAX_BYTES, download_name, evidence_check
from tests.accreditation.conftest import JPEG, PAGE_OBJECTS, PDF, PNG, pdf_bytes, upload
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
    ("truncated.pdf", PDF_HEADER_ONLY, "could not be opened as a PDF"),
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
    checked = evidence_check(upload(name, content, content_type="text/plain"))
    assert checked.content_type == expected


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
    # Downloaded with the extension of what it is, not of what it was called.
    assert evidence.original_name == "scan.png"
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


# --- Active content and disguises (issue: uploads accepted active content) --


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` by ``height`` pixels, with a few
    bytes of image data: the cheap form of a decompression bomb."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + _png_chunk(b"IEND", b"")
    )


def _encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


CATALOG, PAGES, PAGE = PAGE_OBJECTS
OPEN_ACTION_JS = pdf_bytes(
    b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
    PAGES,
    PAGE,
    b"<< /Type /Action /S /JavaScript /JS (app.alert\\('hi'\\)) >>",
)
NAMES_TREE_JS = pdf_bytes(
    b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 4 0 R >> >>",
    PAGES,
    PAGE,
    b"<< /Names [(a) << /S /JavaScript /JS (1) >>] >>",
)
PAGE_AA_JS = pdf_bytes(
    CATALOG,
    PAGES,
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /AA << /O 4 0 R >> >>",
    b"<< /S /JavaScript /JS 5 0 R >>",
    b"<< /Length 1 >>\nstream\n1\nendstream",
)
LAUNCH = pdf_bytes(
    b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /Launch /F (calc.exe) >> >>",
    PAGES,
    PAGE,
)
EMBEDDED_FILE = pdf_bytes(
    b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(x.exe) 4 0 R] >> >> >>",
    PAGES,
    PAGE,
    b"<< /Type /Filespec /F (x.exe) /EF << /F 5 0 R >> >>",
    b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream",
)
FILE_ATTACHMENT_ANNOT = pdf_bytes(
    CATALOG,
    PAGES,
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R] >>",
    b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 10 10] /FS (x.exe) >>",
)
HTML_DRESSED_AS_PDF = (
    b"%PDF-1.7\n<!DOCTYPE html><html><body><script>alert(document.cookie)</script>"
    b"</body></html>\n%%EOF\n"
)

ATTACKS = [
    ("cv.html", HTML_DRESSED_AS_PDF, "could not be opened as a PDF"),
    ("open-action.pdf", OPEN_ACTION_JS, "contains JavaScript"),
    ("names-tree.pdf", NAMES_TREE_JS, "contains JavaScript"),
    ("page-action.pdf", PAGE_AA_JS, "contains JavaScript"),
    ("launch.pdf", LAUNCH, "starts another program"),
    ("embedded.pdf", EMBEDDED_FILE, "other files attached inside it"),
    ("annotation.pdf", FILE_ATTACHMENT_ANNOT, "other files attached inside it"),
    ("locked.pdf", _encrypted_pdf(), "protected by a password"),
    ("huge.png", _png_claiming(30000, 30000), "too large an image"),
    ("wide.png", _png_claiming(10000, 6000), "too large an image .10,000 by 6,000 pixels."),
    ("broken.png", PNG[:40], "could not be opened as an image"),
    ("broken.jpg", JPEG[:30], "could not be opened as an image"),
]


@pytest.mark.parametrize(("name", "content", "message"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_active_or_disguised_content_is_refused(name, content, message):
    with pytest.raises(ValidationError, match=message):
        evidence_check(upload(name, content))


def test_an_image_of_many_pixels_is_refused_before_it_is_decoded(settings):
    """A real image, small on disk, over the configured limit: the limit is a
    setting, and the refusal names it."""
    settings.UPLOAD_IMAGE_MAX_PIXELS = 1_000_000
    out = io.BytesIO()
    Image.new("L", (1001, 1000)).save(out, format="PNG")
    assert len(out.getvalue()) < 20_000  # compressed zeros
    with pytest.raises(ValidationError, match="up to 1 megapixels"):
        evidence_check(upload("zeros.png", out.getvalue()))
    Image.new("L", (1000, 1000)).save(out := io.BytesIO(), format="PNG")
    assert evidence_check(upload("ok.png", out.getvalue())).content_type == "image/png"


def test_a_jpeg_with_html_after_it_is_stored_as_the_image_alone():
    trailing = b"<html><script>alert(1)</script></html>"
    checked = evidence_check(upload("photo.jpg", JPEG + trailing, "image/jpeg"))
    assert checked.content_type == "image/jpeg"
    assert trailing not in checked.content
    assert b"<html" not in checked.content
    assert Image.open(io.BytesIO(checked.content)).size == (8, 8)


def test_image_metadata_is_not_kept():
    image = Image.new("RGB", (8, 8))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0132] = "2026:04:21 09:00:00"  # DateTime
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    assert b"PhoneMaker" in out.getvalue()
    checked = evidence_check(upload("photo.jpg", out.getvalue(), "image/jpeg"))
    assert b"PhoneMaker" not in checked.content
    assert not Image.open(io.BytesIO(checked.content)).getexif()


@pytest.mark.parametrize(
    ("uploaded", "content_type", "expected"),
    [
        ("cv.html", "application/pdf", "cv.pdf"),
        ("scan.pdf", "image/png", "scan.png"),
        ("photo.jpeg", "image/jpeg", "photo.jpg"),
        ("diploma", "application/pdf", "diploma.pdf"),
        ("C:\\Users\\sam\\My diploma.pdf", "application/pdf", "My diploma.pdf"),
        ("../../etc/passwd", "application/pdf", "passwd.pdf"),
        ('a"b;c.pdf', "application/pdf", "a_b_c.pdf"),
        ("tab\there.pdf", "application/pdf", "tabhere.pdf"),
        (".pdf", "application/pdf", "evidence.pdf"),
        ("x" * 300 + ".pdf", "application/pdf", "x" * 196 + ".pdf"),
        ("y" * 300 + ".html", "image/jpeg", "y" * 196 + ".jpg"),
    ],
)
def test_download_name_is_the_base_name_with_the_detected_extension(
    uploaded, content_type, expected
):
    name = download_name(uploaded, content_type)
    assert name == expected
    assert len(name) <= 200


def test_html_named_cv_html_holding_a_pdf_is_refused_through_the_page(db, client, pathway):
    """The attack from the probe, over HTTP: refused beside the field."""
    user = active_member()
    client.force_login(user)
    client.post(reverse("accreditation:apply"), {"pathway": pathway.pk})
    application = Application.objects.get()
    response = client.post(
        reverse("accreditation:application", args=[application.pk]),
        {"evidence-file": upload("cv.html", HTML_DRESSED_AS_PDF, "text/html"), "upload": "1"},
    )
    assert response.status_code == 400
    assert "“cv.html” could not be opened as a PDF" in response.content.decode()
    assert not Evidence.objects.exists()


def test_a_real_pdf_named_html_downloads_as_pdf(db, client, pathway):
    user = active_member()
    client.force_login(user)
    client.post(reverse("accreditation:apply"), {"pathway": pathway.pk})
    application = Application.objects.get()
    client.post(
        reverse("accreditation:application", args=[application.pk]),
        {"evidence-file": upload("cv.html", PDF, "text/html"), "upload": "1"},
    )
    evidence = Evidence.objects.get()
    response = client.get(reverse("accreditation:evidence_download", args=[evidence.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="cv.pdf"'


def test_an_older_row_named_html_still_downloads_with_the_type_extension(db, client, pathway):
    """Rows stored before names were checked are named again on download."""
    user = active_member()
    client.force_login(user)
    client.post(reverse("accreditation:apply"), {"pathway": pathway.pk})
    application = Application.objects.get()
    client.post(
        reverse("accreditation:application", args=[application.pk]),
        {"evidence-file": upload("cv.pdf", PDF), "upload": "1"},
    )
    Evidence.objects.update(original_name="cv.html")
    evidence = Evidence.objects.get()
    response = client.get(reverse("accreditation:evidence_download", args=[evidence.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="cv.pdf"'


def test_cpd_evidence_is_checked_the_same_way(db, client):
    user = active_member()
    client.force_login(user)
    response = client.post(
        reverse("accreditation:cpd"),
        {
            "date": "2026-04-21",
            "activity": "National Practice Manager Day",
            "hours": "2",
            "category": "event",
            "evidence": upload("agenda.pdf", OPEN_ACTION_JS),
        },
    )
    assert response.status_code == 400
    assert "contains JavaScript" in response.content.decode()
    assert not Evidence.objects.exists()


def test_javascript_behind_a_reference_is_found():
    """/S given as a reference to a name object, not the name itself."""
    pdf = pdf_bytes(
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        PAGES,
        PAGE,
        b"<< /S 5 0 R /F (x) >>",
        b"/Launch",
    )
    with pytest.raises(ValidationError, match="starts another program"):
        evidence_check(upload("indirect.pdf", pdf))


def test_a_phone_photo_saved_as_mpo_is_accepted_as_jpeg():
    out = io.BytesIO()
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "blue")]
    frames[0].save(out, format="MPO", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    checked = evidence_check(upload("photo.jpg", out.getvalue(), "image/jpeg"))
    assert checked.content_type == "image/jpeg"
    assert Image.open(io.BytesIO(checked.content)).format == "JPEG"
