"""Celery entry points: thin, take ids, safe to run twice."""

from smtplib import SMTPException

from celery import shared_task

# Celery's autodiscovery imports each app's ``tasks`` module only: importing
# billing's here registers them too.
from .billing import tasks as billing_tasks  # noqa: F401
from .organisations import ods_tasks  # noqa: F401
from .organisations import tasks as organisation_tasks  # noqa: F401
from .privacy.services import data_export_build, data_exports_expire, erasure_notify
from .services.accounts import sessions_clear_expired

RETRY = {"autoretry_for": (SMTPException, OSError), "retry_backoff": True, "max_retries": 5}


@shared_task
def clear_expired_sessions_task() -> int:
    return sessions_clear_expired()


@shared_task(**RETRY)
def data_export_build_task(export_id: int) -> bool:
    return data_export_build(export_id=export_id)


@shared_task
def data_exports_expire_task() -> int:
    return data_exports_expire()


@shared_task(**RETRY)
def erasure_refused_email_task(request_id: int) -> bool:
    return erasure_notify(request_id=request_id, template="erasure_refused")


@shared_task(**RETRY)
def erasure_completed_email_task(request_id: int, address: str) -> bool:
    """The account no longer has an address; the erasure passes the one it
    had, for this last email only."""
    return erasure_notify(request_id=request_id, template="erasure_completed", address=address)
