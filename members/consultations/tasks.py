"""Celery entry points for consultations: thin, take ids, safe to run twice."""

from smtplib import SMTPException

from celery import shared_task

from .notices import consultation_notices_send, consultation_notices_sweep
from .services import consultations_close_due

RETRY = {"autoretry_for": (SMTPException, OSError), "retry_backoff": True, "max_retries": 5}


@shared_task
def consultation_notices_sweep_task() -> dict:
    """Close consultations past their time, then send what is due."""
    closed = consultations_close_due()
    return {"closed": closed, **consultation_notices_sweep()}


@shared_task
def consultation_invitations_task(consultation_id: int) -> dict:
    """Straight after a consultation opens: the same sweep, so invitations
    do not wait for the next scheduled run."""
    return consultation_notices_sweep()


@shared_task(**RETRY)
def consultation_notices_send_task(notice_ids: list[int]) -> int:
    return consultation_notices_send(notice_ids=notice_ids)
