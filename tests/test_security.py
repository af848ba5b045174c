"""Headers on every response, and request bodies over the limit refused
before they are read."""

import io

import pytest
from django.core.files import uploadhandler
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from igpm.security import RequestSizeLimitMiddleware

LIMIT = 12 * 1024 * 1024


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/privacy/", "/verify/", "/accounts/login/"])
def test_every_response_carries_the_security_headers(client, url):
    response = client.get(url)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    directives = dict(
        [*part.split(" ", 1), ""][:2] for part in (p.strip() for p in policy.split(";"))
    )
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == (
        "'self' https://checkout.stripe.com https://billing.stripe.com"
    )
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    # Passkeys (WebAuthn) stay usable for two-factor sign-in.
    assert "publickey-credentials" not in response["Permissions-Policy"]
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"


class _ReadSpy(io.BytesIO):
    """A request body that records how much of it was read."""

    def read(self, size=-1):
        data = super().read(size)
        self.taken = getattr(self, "taken", 0) + len(data)
        return data

    readline = None  # nothing should need it


@pytest.fixture
def temp_files(monkeypatch):
    """Every temporary file an upload handler opens."""
    opened = []
    real = uploadhandler.TemporaryUploadedFile

    def spy(*args, **kwargs):
        opened.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(uploadhandler, "TemporaryUploadedFile", spy)
    return opened


def _multipart(size: int) -> tuple[bytes, str]:
    boundary = "----igpm-test"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="evidence"; filename="big.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + b"%PDF-"
        + b"0" * size
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.django_db
def test_a_100_mb_body_to_a_sign_in_page_is_refused_unread(temp_files):
    """The probe's attack: an anonymous client claims 100 MB for a page that
    needs signing in. The CSRF check reads every POST body, so without the
    limit the upload would be streamed to a temporary file first."""
    body, content_type = _multipart(1024)
    stream = _ReadSpy(body)
    client = Client(enforce_csrf_checks=True)
    response = client.generic(
        "POST",
        reverse("accreditation:cpd"),
        content_type=content_type,
        **{"CONTENT_LENGTH": str(100 * 1024 * 1024), "wsgi.input": stream},
    )
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert getattr(stream, "taken", 0) == 0
    assert temp_files == []


@pytest.mark.django_db
def test_a_real_body_just_over_the_limit_writes_no_temporary_file(temp_files):
    body, content_type = _multipart(LIMIT)
    assert len(body) > LIMIT
    response = Client(enforce_csrf_checks=True).generic(
        "POST", reverse("accreditation:cpd"), body, content_type=content_type
    )
    assert response.status_code == 413
    assert temp_files == []


@pytest.mark.django_db
def test_a_body_under_the_limit_goes_through(client):
    response = client.post(reverse("accreditation:cpd"), {"activity": "x" * 1000})
    assert response.status_code == 302  # to sign in: the limit let it pass


def test_the_limit_is_a_setting(settings, rf):
    settings.REQUEST_BODY_MAX_BYTES = 100
    middleware = RequestSizeLimitMiddleware(lambda request: pytest.fail("body was let in"))
    request = rf.post("/", data="x" * 101, content_type="text/plain")
    assert middleware(request).status_code == 413


def _chunked_request(body: bytes) -> WSGIRequest:
    environ = RequestFactory()._base_environ(
        REQUEST_METHOD="POST",
        PATH_INFO="/",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_TYPE="application/json",
        **{"wsgi.input": _ReadSpy(body)},
    )
    environ.pop("CONTENT_LENGTH", None)
    return WSGIRequest(environ)


def _reading_view(seen: dict):
    def view(request):
        try:
            seen["body"] = request.body
        except OSError:
            seen["refused"] = True
        return HttpResponse("read")

    return view


def test_a_chunked_body_is_cut_off_at_the_limit(settings):
    """No Content-Length (chunked transfer): the stream itself stops at the
    limit, and the answer is still 413."""
    settings.REQUEST_BODY_MAX_BYTES = 1000
    request = _chunked_request(b"{" * 5000)
    seen = {}
    response = RequestSizeLimitMiddleware(_reading_view(seen))(request)
    assert seen == {"refused": True}
    assert response.status_code == 413
    assert request.environ["wsgi.input"].taken <= 1001


def test_a_chunked_body_under_the_limit_is_read_whole(settings):
    settings.REQUEST_BODY_MAX_BYTES = 1000
    seen = {}
    response = RequestSizeLimitMiddleware(_reading_view(seen))(_chunked_request(b"{}"))
    assert seen == {"body": b"{}"}
    assert response.status_code == 200


def test_upload_memory_settings_agree_with_the_limit(settings):
    """Anything the limit lets in stays in memory: no upload is written to a
    web node's disk."""
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE >= settings.REQUEST_BODY_MAX_BYTES
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= settings.REQUEST_BODY_MAX_BYTES
