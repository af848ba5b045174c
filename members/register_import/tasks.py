"""Celery entry points for the register import: thin, take ids."""

from smtplib import SMTPException

from celery import shared_task

from .invitations import claim_invitations_send
from .services import register_import_apply, register_import_check

RETRY = {"autoretry_for": (SMTPException, OSError), "retry_backoff": True, "max_retries": 5}


@shared_task
def register_import_check_task(import_id: int) -> dict:
    register_import = register_import_check(import_id=import_id)
    return {"status": register_import.status, **register_import.check_counts}


@shared_task
def register_import_apply_task(import_id: int) -> dict:
    register_import = register_import_apply(import_id=import_id)
    return {"status": register_import.status, **register_import.import_counts}


@shared_task(**RETRY)
def claim_invitations_send_task(invitation_ids: list[int]) -> int:
    return claim_invitations_send(invitation_ids=invitation_ids)
