"""PDFs carry the organisation's logo from static/brand/, so an operator
who replaces the files changes every certificate, receipt and invoice: the
accreditation certificate draws logo.png (one font face fewer than the
SVG's lettering), the others logo.svg."""

import io

import pypdf
import pytest
from django.contrib.staticfiles import finders
from PIL import Image

from tests.accreditation.test_certificate_pdf import certificate, rendered  # noqa: F401

pytestmark = pytest.mark.django_db

LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 48" width="120" height="48">'
    '<text x="4" y="30" font-family="sans-serif" font-size="12">REPLACEDLOGO</text></svg>'
)


# A size the portal's own logo.png (240 x 96) is not.
REPLACED_PNG_SIZE = (200, 80)


@pytest.fixture
def replaced_logo(tmp_path, settings):
    (tmp_path / "brand").mkdir()
    (tmp_path / "brand" / "logo.svg").write_text(LOGO)
    Image.new("RGB", REPLACED_PNG_SIZE, "#7a0019").save(tmp_path / "brand" / "logo.png")
    settings.STATICFILES_DIRS = [tmp_path, *settings.STATICFILES_DIRS]
    finders.get_finder.cache_clear()
    yield
    finders.get_finder.cache_clear()


def image_sizes(pdf: bytes) -> set[tuple[int, int]]:
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    return {
        (image["/Width"], image["/Height"])
        for image in (xobject.get_object() for xobject in page["/Resources"]["/XObject"].values())
        if image["/Subtype"] == "/Image"
    }


def test_the_certificate_shows_the_logo_the_operator_put_in_static_brand(
    certificate,  # noqa: F811
    replaced_logo,
):
    assert REPLACED_PNG_SIZE in image_sizes(rendered(certificate))
    assert (240, 96) not in image_sizes(rendered(certificate))


def test_without_a_replacement_the_certificate_has_the_portal_logo(certificate):  # noqa: F811
    sizes = image_sizes(rendered(certificate))
    assert (240, 96) in sizes and REPLACED_PNG_SIZE not in sizes
