"""PDF documents (receipts, invoices, certificates) rendered by WeasyPrint
from HTML templates. Fonts come from the system; nothing is fetched.

Every PDF is tagged for screen readers (PDF/UA-1): a structure tree built
from the HTML's headings, paragraphs and tables, the document's language
from ``<html lang>`` and its title from ``<title>``, shown as the window
title."""

from django.conf import settings
from django.template.loader import render_to_string

PDF_VARIANT = "pdf/ua-1"


def supplier() -> dict:
    """Who issues the document, from settings, as receipts and invoices
    print it."""
    return {
        "name": settings.IGPM_NAME,
        "address_lines": [
            part.strip() for part in settings.IGPM_REGISTERED_ADDRESS.split(",") if part.strip()
        ],
        "registration": settings.IGPM_REGISTRATION,
    }


def pdf_render(template: str, context: dict) -> bytes:
    # Imported here: WeasyPrint loads Pango, which only PDF work needs.
    from weasyprint import HTML

    html = render_to_string(
        template, {"site_url": settings.SITE_URL, "supplier": supplier(), **context}
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(pdf_variant=PDF_VARIANT)
