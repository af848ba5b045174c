"""Response headers and request limits that hold for every page.

django-csp writes the Content-Security-Policy; the middleware here adds the
headers it does not know, and refuses request bodies that are too large
before anything reads them.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string

# Features no page of the portal uses: a page, or anything injected into
# one, cannot ask the browser for them.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)


class SecurityHeadersMiddleware:
    """Permissions-Policy and Cross-Origin-Resource-Policy on every
    response; a view that sets its own keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


class BodyTooLarge(OSError):
    """Raised by the capped stream. An OSError, so Django's own readers
    (the CSRF check among them) treat it as an unreadable body."""


class _CappedStream:
    """A request body that refuses to give more than ``limit`` bytes: the
    guard for bodies whose length was not declared (chunked)."""

    def __init__(self, stream, limit: int, request: HttpRequest):
        self.stream, self.remaining, self.request = stream, limit, request

    def _take(self, data: bytes) -> bytes:
        self.remaining -= len(data)
        if self.remaining < 0:
            self.request.body_too_large = True
            raise BodyTooLarge("The request body is over the limit.")
        return data

    def read(self, size: int = -1) -> bytes:
        # One byte past the limit is enough to know it is over.
        wanted = self.remaining + 1 if size is None or size < 0 else min(size, self.remaining + 1)
        return self._take(self.stream.read(wanted))

    def readline(self, size: int = -1) -> bytes:
        wanted = self.remaining + 1 if size is None or size < 0 else min(size, self.remaining + 1)
        return self._take(self.stream.readline(wanted))

    def close(self) -> None:
        """The server owns the connection's stream; nothing to close."""


class NulPathMiddleware:
    """An address whose path holds a NUL byte (``/verify/%00/``) names no
    page: answer it as not found. PostgreSQL cannot hold NUL in text, so a
    code or token from the path would otherwise fail inside its query.

    After the sign-in middleware, so the not-found page knows who is
    looking."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info:
            raise Http404("No page has a NUL byte in its address.")
        return self.get_response(request)


class RequestSizeLimitMiddleware:
    """Answer 413 to a body over ``REQUEST_BODY_MAX_BYTES`` without reading
    it, so no upload of any size reaches memory or a temporary file.

    First in the middleware list: the CSRF check reads the body of every
    POST, before the view's sign-in check could turn it away."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.REQUEST_BODY_MAX_BYTES
        declared = request.META.get("CONTENT_LENGTH") or ""
        try:
            length = int(declared) if declared else None
        except ValueError:
            length = None
        if length is not None and length > limit:
            return self._refuse(request, limit)
        if length is None and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            # No declared length: read the stream itself, at most the limit.
            request._stream = _CappedStream(request.environ["wsgi.input"], limit, request)
        response = self.get_response(request)
        if getattr(request, "body_too_large", False):
            return self._refuse(request, limit)
        return response

    @staticmethod
    def _refuse(request: HttpRequest, limit: int) -> HttpResponse:
        html = render_to_string("413.html", {"limit_mb": limit // (1024 * 1024)})
        return HttpResponse(html, status=413)
