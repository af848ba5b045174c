"""Celery entry point of the ODS import (``members.tasks`` imports this
module so the worker's autodiscovery registers it)."""

from celery import shared_task

from .ods_import import ods_import_stored


@shared_task(name="members.organisations.ods_tasks.ods_import_task")
def ods_import_task(import_id: int) -> bool:
    """Import one uploaded pair of ODS files; a second delivery of the same
    import does nothing (the row is already finished)."""
    return ods_import_stored(import_id=import_id)
