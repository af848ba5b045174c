"""PDF documents (receipts, invoices, certificates) rendered by WeasyPrint
from HTML templates. Fonts come from the system; nothing is fetched."""

from django.conf import settings
from django.template.loader import render_to_string

from .brand import LOGO_SVG, logo_path, organisation


def pdf_render(template: str, context: dict) -> bytes:
    # Imported here: WeasyPrint loads Pango, which only PDF work needs.
    from weasyprint import HTML

    # The logo is read from disk (static/brand/), never over the network.
    brand = {"org": organisation(), "logo_uri": logo_path(LOGO_SVG).as_uri()}
    html = render_to_string(template, {"site_url": settings.SITE_URL, **brand, **context})
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
