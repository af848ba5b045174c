"""Celery entry points for the register import: thin, take ids."""

from smtplib import SMTPException

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.db import OperationalError

from .invitations import claim_invitations_send
from .services import register_import_apply, register_import_check, register_import_interrupted

# A lost connection or a deadlock with a payment: the dry run starts again,
# the import carries on from the first batch not yet written.
DATABASE_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 3,
}
RETRY = {"autoretry_for": (SMTPException, OSError), "retry_backoff": True, "max_retries": 5}


class RegisterImportTask(DjangoTask):
    """Once the retries are spent (or on an error no retry helps), the
    import is marked stopped with the reason, for staff to carry on."""

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        import_id = args[0] if args else kwargs["import_id"]
        register_import_interrupted(
            import_id=import_id, reason=f"{type(exc).__name__}: {exc}".strip()
        )


@shared_task(base=RegisterImportTask, **DATABASE_RETRY)
def register_import_check_task(import_id: int) -> dict:
    register_import = register_import_check(import_id=import_id)
    return {"status": register_import.status, **register_import.check_counts}


@shared_task(base=RegisterImportTask, **DATABASE_RETRY)
def register_import_apply_task(import_id: int) -> dict:
    register_import = register_import_apply(import_id=import_id)
    return {"status": register_import.status, **register_import.import_counts}


@shared_task(**RETRY)
def claim_invitations_send_task(invitation_ids: list[int]) -> int:
    return claim_invitations_send(invitation_ids=invitation_ids)
