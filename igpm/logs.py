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


# A task carries the id of the request that queued it, so the lines a
# worker logs for it can be found beside that request's own.
TASK_HEADER = "igpm_request_id"


def task_publishing(headers: dict | None = None, **kwargs) -> None:
    """Celery's before_task_publish: stamp the current id on the message."""
    current = _request_id.get()
    if headers is not None and current != "-":
        headers.setdefault(TASK_HEADER, current)


def task_starting(task_id: str | None = None, task=None, **kwargs) -> None:
    """Celery's task_prerun: log under the queuing request's id; a task run
    inline keeps the id already current; one queued by beat gets its own
    task id."""
    current = _request_id.get()
    given = getattr(task.request, TASK_HEADER, None) if task is not None else None
    token = _request_id.set(given or (current if current != "-" else None) or task_id or "-")
    if task is not None:
        task.request.igpm_log_token = token


def task_finished(task=None, **kwargs) -> None:
    """Celery's task_postrun: back to the id from before the task."""
    token = getattr(task.request, "igpm_log_token", None) if task is not None else None
    if token is not None:
        _request_id.reset(token)


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
