"""Celery entry points for organisation memberships: thin, take ids, safe
to run twice. Imported by ``members.tasks`` so the worker finds them."""

from smtplib import SMTPException

from celery import shared_task

from .notices import organisation_notices_send, organisation_notices_sweep
from .seats import administrator_added_email_send, seat_invitation_email_send

RETRY = {"autoretry_for": (SMTPException, OSError), "retry_backoff": True, "max_retries": 5}


@shared_task(**RETRY)
def seat_invitation_email_task(invitation_id: int) -> bool:
    return seat_invitation_email_send(invitation_id=invitation_id)


@shared_task
def organisation_notices_sweep_task() -> dict:
    return organisation_notices_sweep()


@shared_task(**RETRY)
def organisation_notices_send_task(notice_ids: list[int]) -> int:
    return organisation_notices_send(notice_ids=notice_ids)


@shared_task(**RETRY)
def administrator_added_email_task(administrator_id: int, by_id: int) -> bool:
    return administrator_added_email_send(administrator_id=administrator_id, by_id=by_id)
