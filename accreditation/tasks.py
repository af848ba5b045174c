"""Celery entry points: thin, take ids, safe to run twice."""

from smtplib import SMTPException

from celery import shared_task

from igpm.emails import email_build

from .models import Application
from .notices import certificate_notices_send, certificate_notices_sweep
from .services import certificate_render

RETRY = {"autoretry_for": (SMTPException, OSError), "retry_backoff": True, "max_retries": 5}


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def certificate_render_task(certificate_id: int) -> None:
    certificate_render(certificate_id=certificate_id)


@shared_task(**RETRY)
def application_decision_email_task(application_id: int, decision: str) -> None:
    """``decision`` is the status the assessor set: by the time this runs the
    applicant may already have moved the application on."""
    application = Application.objects.select_related("applicant", "pathway").get(pk=application_id)
    email_build(
        to=application.applicant.email,
        template=f"accreditation/email/{decision}",
        context={"application": application},
    ).send()


@shared_task(**RETRY)
def application_submitted_email_task(application_id: int) -> None:
    """The applicant's receipt for a submitted (or resubmitted) application."""
    application = Application.objects.select_related("applicant", "pathway").get(pk=application_id)
    email_build(
        to=application.applicant.email,
        template="accreditation/email/submitted",
        context={"application": application},
    ).send()


@shared_task
def certificate_notices_sweep_task() -> dict:
    return certificate_notices_sweep()


@shared_task(**RETRY)
def certificate_notices_send_task(notice_ids: list[int]) -> int:
    return certificate_notices_send(notice_ids=notice_ids)
