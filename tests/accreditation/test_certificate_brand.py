"""PDFs carry the organisation's logo from static/brand/, so an operator
who replaces the file changes every certificate, receipt and invoice."""

import io

import pypdf
import pytest
from django.contrib.staticfiles import finders

from tests.accreditation.test_certificate_pdf import certificate, rendered  # noqa: F401

pytestmark = pytest.mark.django_db

LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 48" width="120" height="48">'
    '<text x="4" y="30" font-family="sans-serif" font-size="12">REPLACEDLOGO</text></svg>'
)


@pytest.fixture
def replaced_logo(tmp_path, settings):
    (tmp_path / "brand").mkdir()
    (tmp_path / "brand" / "logo.svg").write_text(LOGO)
    settings.STATICFILES_DIRS = [tmp_path, *settings.STATICFILES_DIRS]
    finders.get_finder.cache_clear()
    yield
    finders.get_finder.cache_clear()


def text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_the_certificate_shows_the_logo_the_operator_put_in_static_brand(
    certificate,  # noqa: F811
    replaced_logo,
):
    assert "REPLACEDLOGO" in text(rendered(certificate))


def test_without_a_replacement_the_certificate_has_the_portal_logo(certificate):  # noqa: F811
    assert "REPLACEDLOGO" not in text(rendered(certificate))
