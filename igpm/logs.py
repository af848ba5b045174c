"""Logs a machine can read: one JSON object a line, each carrying the id of
the request it belongs to, so the lines of one request can be found across
many web nodes (and matched to its Sentry event)."""

import datetime
import json
import logging
import re
import uuid
from contextvars import ContextVar

import sentry_sdk

# "-" outside a request: a worker, a command, start-up.
_request_id: ContextVar[str] = ContextVar("request_id", default="-")

# An id from the proxy is kept only when it is short and plain: a client
# can send anything in a header, and it is copied into every log line.
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    """Take the proxy's X-Request-ID (or make one), keep it for the log lines
    and the Sentry event of this request, and send it back in the
    response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        current = given if _ACCEPTED.fullmatch(given) else uuid.uuid4().hex
        request.id = current
        token = _request_id.set(current)
        sentry_sdk.set_tag("request_id", current)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = current
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record, for either formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", _request_id.get()),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
