"""The accreditation certificate PDF: one page, readable text, a QR code that
scans to the verification page, and safe to render again."""

import datetime
import io
import secrets

import pypdf
import pypdfium2
import pytest
import zxingcpp

from accreditation.models import Application, Certificate
from accreditation.services import certificate_render, certificate_verify_url
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NUMBER = "IGPM-ACC-2026-00042"


@pytest.fixture
def certificate(pathway) -> Certificate:
    # `pathway` (tests/accreditation/conftest.py) is the seeded "ilm-level-7",
    # recreated if a transactional test has flushed the seed data.
    user = UserFactory(first_name="Siobhan", last_name="O'Connor-Whitfield")
    application = Application.objects.create(
        applicant=user, pathway=pathway, status=Application.Status.APPROVED
    )
    certificate = Certificate.objects.create(
        application=application,
        holder=user,
        pathway=pathway,
        number=NUMBER,
        verification_code=secrets.token_urlsafe(24),
        holder_name=user.get_full_name(),
        issued_on=datetime.date(2026, 3, 14),
        expires_on=datetime.date(2029, 3, 13),
    )
    yield certificate
    # The test storage is in memory and outlives the test's transaction.
    storage = certificate.pdf.storage
    for name in stored_pdfs(certificate):
        storage.delete(f"certificates/{name}")


def stored_pdfs(certificate: Certificate) -> list[str]:
    storage = certificate.pdf.storage
    if not storage.exists("certificates"):
        return []
    _, files = storage.listdir("certificates")
    return sorted(name for name in files if name.startswith(certificate.number))


def rendered(certificate: Certificate) -> bytes:
    certificate_render(certificate_id=certificate.pk)
    certificate.refresh_from_db()
    with certificate.pdf.open("rb") as pdf:
        return pdf.read()


def page_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def qr_codes(data: bytes) -> list[str]:
    # Scale 3 is about 216 dpi: each module of the 32mm code is ~6 pixels.
    document = pypdfium2.PdfDocument(data)
    try:
        image = document[0].render(scale=3).to_pil()
    finally:
        document.close()
    return [
        barcode.text
        for barcode in zxingcpp.read_barcodes(image)
        if barcode.format == zxingcpp.BarcodeFormat.QRCode
    ]


def test_pdf_is_one_page_with_the_holder_and_number(certificate):
    data = rendered(certificate)

    assert data.startswith(b"%PDF")
    assert certificate.pdf.name == f"certificates/{NUMBER}.pdf"
    text = page_text(data)
    assert "Siobhan O'Connor-Whitfield" in text
    assert NUMBER in text


def test_pdf_is_styled_by_its_stylesheet_as_landscape_a4(certificate):
    # The styles live in a static stylesheet parsed once per process: were
    # it not applied, the page would be WeasyPrint's default portrait A4.
    page = pypdf.PdfReader(io.BytesIO(rendered(certificate))).pages[0]

    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 595)


def test_pdf_states_the_award_pathway_and_dates(certificate):
    text = page_text(rendered(certificate))

    assert "Institute of General Practice Management" in text
    assert "NATIONAL ACCREDITATION" in text  # The award, set in capitals.
    assert f"accredited through the {certificate.pathway.name} pathway" in text
    assert certificate.pathway.awarding_body in text
    assert "NHS Management and Leadership Framework" in text
    assert "14 March 2026" in text
    assert "13 March 2029" in text
    # Printed as text too, for anyone who cannot scan the code.
    assert certificate_verify_url(certificate) in text


def test_qr_code_scans_to_the_verification_page(certificate):
    data = rendered(certificate)

    assert qr_codes(data) == [certificate_verify_url(certificate)]


def test_rendering_twice_replaces_the_file(certificate):
    first = rendered(certificate)
    second = rendered(certificate)

    assert certificate.pdf.name == f"certificates/{NUMBER}.pdf"
    assert stored_pdfs(certificate) == [f"{NUMBER}.pdf"]
    assert second.startswith(b"%PDF")
    assert len(pypdf.PdfReader(io.BytesIO(second)).pages) == 1
    assert qr_codes(second) == qr_codes(first) == [certificate_verify_url(certificate)]


def test_qr_code_is_drawn_with_sharp_modules(certificate):
    # A one-pixel-per-module image: smoothed when scaled, its edges would
    # blur in print and on screen.
    page = pypdf.PdfReader(io.BytesIO(rendered(certificate))).pages[0]
    images = [
        xobject.get_object()
        for xobject in page["/Resources"]["/XObject"].values()
        if xobject.get_object()["/Subtype"] == "/Image"
    ]

    # The QR code is the one square image (the logo is not square).
    qr = [image for image in images if image["/Width"] == image["/Height"]]
    assert len(images) == 2 and [image["/Interpolate"] for image in qr] == [False]
