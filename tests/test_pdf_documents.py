"""Receipts and invoices name their supplier; every PDF is tagged for
screen readers (a structure tree, a language and a title)."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from igpm.pdf import pdf_render
from tests.factories import active_member

pytestmark = pytest.mark.django_db

SUPPLIER = {
    "IGPM_NAME": "Institute of General Practice Management",
    "IGPM_REGISTERED_ADDRESS": "IGPM, 4 Park Row, Leeds, LS1 5HD",
    "IGPM_REGISTRATION": "Registered in England and Wales, company number 12345678",
}


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _assert_tagged(pdf: bytes, title_starts: str) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root, "no structure tree: not tagged"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert root["/Lang"] == "en-GB"
    assert reader.metadata.title.startswith(title_starts)
    # Readers show the title, not the file name.
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    kids = root["/StructTreeRoot"].get_object()["/K"]
    assert kids, "the structure tree is empty"


@pytest.fixture
def paid():
    payment = active_member().membership.payments.get()
    payment.refresh_from_db()
    return payment


def _download(client, payment, name: str) -> bytes:
    client.force_login(payment.membership.user)
    response = client.get(reverse(name, args=[payment.pk]))
    assert response.status_code == 200
    return response.content


def test_a_receipt_names_the_supplier_and_is_tagged(client, settings, paid):
    for name, value in SUPPLIER.items():
        setattr(settings, name, value)
    pdf = _download(client, paid, "members:payment_receipt")
    text = _text(pdf)
    assert "Institute of General Practice Management" in text
    assert "4 Park Row" in text and "LS1 5HD" in text
    assert "company number 12345678" in text
    _assert_tagged(pdf, "Receipt")


def test_an_invoice_names_the_supplier_and_is_tagged(client, settings, paid):
    for name, value in SUPPLIER.items():
        setattr(settings, name, value)
    paid.invoice_number = "INV-2026-0042"
    paid.save(update_fields=["invoice_number"])
    pdf = _download(client, paid, "members:payment_invoice")
    text = _text(pdf)
    assert "4 Park Row" in text
    assert "company number 12345678" in text
    _assert_tagged(pdf, "Invoice")


@pytest.mark.parametrize(
    ("template", "title"),
    [
        ("accreditation/pdf/certificate.html", "Accreditation certificate"),
        ("events/pdf/attendance.html", "Certificate of attendance"),
    ],
)
def test_certificates_are_tagged_too(template, title):
    """pdf_render tags every document, whatever the template."""
    pdf = pdf_render(template, {})
    _assert_tagged(pdf, title)
