"""PDF documents (receipts, invoices, certificates) rendered by WeasyPrint
from HTML templates. Fonts come from the system.

Every PDF is tagged for screen readers (PDF/UA-1): a structure tree built
from the HTML's headings, paragraphs and tables, the document's language
from ``<html lang>`` and its title from ``<title>``, shown as the window
title.

WeasyPrint fetches whatever a document points at: images, stylesheets, and
files to attach (``<link rel="attachment">``). A name or an address a member
typed could point it at the server's own files or at the network, so the
fetcher here serves the portal's static files and ``data:`` URIs only, read
from disk, and refuses everything else.
"""

import functools
import mimetypes
import threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string

from .brand import LOGO_PNG, LOGO_SVG, logo_path, organisation


class RefusedURL(ValueError):
    """A document asked for something outside the portal's static files."""


PDF_VARIANT = "pdf/ua-1"


def pdf_render(template: str, context: dict, *, stylesheet: str | None = None) -> bytes:
    """``template`` rendered with ``context`` as a PDF. ``stylesheet``, a
    static file's path, is applied as well, parsed once per process: a
    document rendered often (certificates) keeps its CSS there rather than
    in a <style> element WeasyPrint would parse again on every render, and
    reuses the fonts found for the last one."""
    # The logo is a static file on disk (static/brand/), which the fetcher
    # below serves; nothing is fetched over the network. The PNG (twice the
    # printed size's 100 dpi) is for a document drawn often in one font
    # face: the SVG's bold lettering is a face of its own to lay out and
    # embed, about a twentieth of an accreditation certificate's time.
    brand = {
        "org": organisation(),
        "logo_uri": logo_path(LOGO_SVG).as_uri(),
        "logo_png_uri": logo_path(LOGO_PNG).as_uri(),
    }
    html = render_to_string(template, {"site_url": settings.SITE_URL, **brand, **context})
    return pdf_from_html(html, stylesheet=stylesheet)


def pdf_from_html(html: str, *, stylesheet: str | None = None) -> bytes:
    # Imported here: WeasyPrint loads Pango, which only PDF work needs.
    from weasyprint import HTML

    # Relative addresses ({% static %} gives /static/...) resolve against
    # the site, where the fetcher recognises them as static files.
    document = HTML(string=html, base_url=_site_root(), url_fetcher=static_url_fetcher())
    if not stylesheet:
        return document.write_pdf(pdf_variant=PDF_VARIANT)
    # Fonts, once found, are kept for the next document of this thread:
    # looking the system fonts up again costs a render as much as parsing.
    return document.write_pdf(
        stylesheets=[parsed_stylesheet(stylesheet)], font_config=_fonts(), pdf_variant=PDF_VARIANT
    )


_per_thread = threading.local()


def _fonts():
    """This thread's WeasyPrint font configuration (not shared between
    threads: WeasyPrint does not say it is safe to)."""
    from weasyprint.text.fonts import FontConfiguration

    if not hasattr(_per_thread, "fonts"):
        _per_thread.fonts = FontConfiguration()
    return _per_thread.fonts


@functools.cache
def parsed_stylesheet(path: str):
    """The static file ``path`` parsed as a WeasyPrint stylesheet, once per
    process. Read through the same fetcher as documents, so it can only be
    one of the portal's static files, and whatever it imports or points at
    is held to that too."""
    from weasyprint import CSS

    # The plain name, not a hashed one: collectstatic keeps both, and the
    # finders know only the plain one.
    url = urljoin(urljoin(_site_root(), settings.STATIC_URL), path)
    return CSS(url=url, url_fetcher=static_url_fetcher())


def _site_root() -> str:
    return settings.SITE_URL.rstrip("/") + "/"


def static_url_fetcher():
    """A WeasyPrint URL fetcher for static files and data: URIs only."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.lower().startswith("data:"):
                return super().fetch(url, headers)
            path = static_file_for(url)
            if path is None:
                raise RefusedURL(f"Not fetched: only the portal's static files are ({url[:200]})")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                url, body=path.read_bytes(), headers={"Content-Type": content_type}
            )

    # Only data: URIs reach the base class's opener.
    return StaticOnlyFetcher(allowed_protocols={"data"})


def static_file_for(url: str) -> Path | None:
    """The static file ``url`` names (under STATIC_URL on the site, or a
    file: URL inside a static folder), or None."""
    parts = urlsplit(url)
    static_prefix = urljoin(_site_root(), settings.STATIC_URL)
    if parts.scheme in ("http", "https"):
        bare = f"{parts.scheme}://{parts.netloc}{parts.path}"
        if not bare.startswith(static_prefix):
            return None
        relative = unquote(bare[len(static_prefix) :])
        try:
            found = finders.find(relative)
        except SuspiciousFileOperation:
            return None
        if found is None and settings.STATIC_ROOT:
            found = str(Path(settings.STATIC_ROOT) / relative)
        return _inside_static(Path(found)) if found else None
    if parts.scheme == "file" and parts.netloc in ("", "localhost"):
        return _inside_static(Path(url2pathname(parts.path)))
    return None


def _static_roots() -> list[Path]:
    # An entry is a folder, or a (prefix, folder) pair.
    roots = [
        Path(entry if isinstance(entry, str | Path) else entry[1])
        for entry in settings.STATICFILES_DIRS
    ]
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    return [root.resolve() for root in roots]


def _inside_static(path: Path) -> Path | None:
    """``path`` with links and ``..`` resolved, if it is a file inside one
    of the portal's static folders."""
    resolved = path.resolve()
    if not resolved.is_file():
        return None
    if any(resolved.is_relative_to(root) for root in _static_roots()):
        return resolved
    return None
