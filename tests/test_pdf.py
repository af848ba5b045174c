"""PDFs are rendered with a URL fetcher that serves the portal's static
files and data: URIs, and nothing else."""

import io
import socket
import threading

import pypdf
import pytest
from django.conf import settings

from igpm.pdf import parsed_stylesheet, pdf_from_html, static_file_for

FAVICON = (settings.BASE_DIR / "static" / "img" / "favicon.svg").read_bytes()


def attachments(pdf: bytes) -> dict[str, list[bytes]]:
    return dict(pypdf.PdfReader(io.BytesIO(pdf)).attachments)


@pytest.fixture
def listener():
    """A server on 127.0.0.1 that counts the connections made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    accepted = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            accepted.append(connection)
            connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nfetched")
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join(timeout=2)
    server.close()


def test_a_network_address_in_a_document_is_not_fetched(listener):
    port, accepted = listener
    pdf = pdf_from_html(
        f'<img src="http://127.0.0.1:{port}/x">'
        f'<link rel="stylesheet" href="http://127.0.0.1:{port}/style.css">'
        f'<link rel="attachment" href="http://127.0.0.1:{port}/secret.txt">'
        "<p>Receipt</p>"
    )
    assert pdf.startswith(b"%PDF")
    assert accepted == []
    assert attachments(pdf) == {}


def test_a_file_outside_static_is_not_read():
    pdf = pdf_from_html(
        '<link rel="attachment" href="file:///etc/passwd">'
        '<img src="file:///etc/passwd">'
        f'<link rel="attachment" href="file://{settings.BASE_DIR}/igpm/settings/base.py">'
        '<link rel="attachment" href="/static/../igpm/settings/base.py">'
        "<p>Receipt</p>"
    )
    assert attachments(pdf) == {}
    assert b"root:" not in pdf


def test_static_files_and_data_uris_are_served():
    pdf = pdf_from_html(
        '<link rel="attachment" href="/static/img/favicon.svg">'
        '<link rel="attachment" href="data:text/plain,hello" title="note.txt">'
        "<p>Receipt</p>"
    )
    found = attachments(pdf)
    assert found["favicon.svg"] == [FAVICON]
    assert [b"hello"] in found.values()


@pytest.mark.parametrize(
    ("url", "served"),
    [
        ("http://testserver/static/img/favicon.svg", True),
        ("http://testserver/static/img/favicon.svg?v=1#top", True),
        (f"file://{settings.BASE_DIR}/static/img/favicon.svg", True),
        (f"file://{settings.BASE_DIR}/static/../manage.py", False),
        ("http://testserver/static/../manage.py", False),
        ("http://testserver/static/%2e%2e/manage.py", False),
        ("http://elsewhere.example/static/img/favicon.svg", False),
        ("https://testserver/static/img/favicon.svg", False),
        ("http://testserver/privacy/", False),
        ("file:///etc/passwd", False),
        ("file://otherhost/static/img/favicon.svg", False),
        # allauth's files are found by the finders, but are not the portal's.
        ("http://testserver/static/mfa/js/webauthn.js", False),
        ("ftp://testserver/static/img/favicon.svg", False),
    ],
)
def test_static_file_for(url, served):
    assert (static_file_for(url) is not None) is served


def page_size(pdf: bytes) -> tuple[int, int]:
    box = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return round(float(box.width)), round(float(box.height))


def test_a_static_stylesheet_is_applied_and_parsed_once():
    styled = pdf_from_html("<p>Certificate</p>", stylesheet="css/pdf/certificate.css")

    assert page_size(styled) == (842, 595)  # Its @page: A4 landscape.
    assert page_size(pdf_from_html("<p>Certificate</p>")) == (595, 842)
    assert parsed_stylesheet("css/pdf/certificate.css") is parsed_stylesheet(
        "css/pdf/certificate.css"
    )


@pytest.mark.parametrize("path", ["../manage.py", "%2e%2e/manage.py", "mfa/js/webauthn.js"])
def test_a_stylesheet_outside_the_portals_static_files_is_refused(path):
    from weasyprint.urls import URLFetchingError

    with pytest.raises(URLFetchingError, match="RefusedURL"):
        parsed_stylesheet(path)


def test_documents_with_a_stylesheet_reuse_this_threads_fonts_only():
    from igpm import pdf

    pdf_from_html("<p>One</p>", stylesheet="css/pdf/certificate.css")
    mine = pdf._fonts()
    pdf_from_html("<p>Two</p>", stylesheet="css/pdf/certificate.css")
    other = []
    thread = threading.Thread(target=lambda: other.append(pdf._fonts()))
    thread.start()
    thread.join()

    assert pdf._fonts() is mine
    assert other[0] is not mine
