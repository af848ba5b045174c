"""Celery entry points: thin, take ids, safe to run twice."""

from smtplib import SMTPException

from celery import shared_task
from django.db import IntegrityError, transaction
from django.utils import timezone

from igpm.emails import email_build

from .ics import calendar_for
from .models import Registration, RegistrationEmail
from .reminders import event_emails_sweep
from .retention import visitor_registrations_anonymise
from .services import attendance_pdf, offers_expire, unconfirmed_registrations_purge
from .ticket import ticket_qr_png


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=5)
def registration_email_task(registration_id: int, kind: str, confirm_token: str = "") -> bool:
    """Send one kind of email about a registration, once.

    The record is written, under its unique constraint, in the same
    transaction that sends; a second run finds it and sends nothing.
    ``confirm_token`` is the raw single-use token for a visitor's
    confirmation link: only its hash is stored, so it comes with the task
    and cannot be sent again later.
    """
    if kind == "confirm_email" and not confirm_token:
        return False
    with transaction.atomic():
        try:
            record, _ = RegistrationEmail.objects.get_or_create(
                registration_id=registration_id, kind=kind
            )
        except IntegrityError:
            return False
        record = RegistrationEmail.objects.select_for_update().get(pk=record.pk)
        if record.sent_at is not None:
            return False
        registration = Registration.objects.select_related("event").get(pk=registration_id)
        if registration.anonymised_at is not None:
            return False  # nobody to write to any more
        confirmed = registration.status == Registration.Status.CONFIRMED
        attachments = []
        if kind == "confirmed" and confirmed:
            ics = calendar_for(
                [registration.event],
                joining_link=registration.event.joining_link,
                checkin_code=registration.checkin_code,
            )
            attachments.append(("event.ics", ics, "text/calendar"))
            # The ticket: the door's scanner reads the check-in code from it.
            attachments.append(("ticket-qr-code.png", ticket_qr_png(registration), "image/png"))
        if kind == "thank_you" and registration.checked_in_at:
            attachments.append(
                ("certificate-of-attendance.pdf", attendance_pdf(registration), "application/pdf")
            )
        email_build(
            to=registration.email,
            template=f"events/email/{kind}",
            context={
                "registration": registration,
                "event": registration.event,
                # The joining link goes only to someone holding a confirmed place.
                "joining_link": registration.event.joining_link if confirmed else "",
                "confirm_token": confirm_token,
            },
            attachments=attachments,
        ).send()
        record.sent_at = timezone.now()
        record.save(update_fields=["sent_at"])
    return True


@shared_task
def offers_expire_task() -> int:
    return offers_expire()


@shared_task
def event_emails_sweep_task() -> dict:
    return event_emails_sweep()


@shared_task
def visitor_registrations_anonymise_task() -> int:
    return visitor_registrations_anonymise()


@shared_task
def unconfirmed_registrations_purge_task() -> int:
    return unconfirmed_registrations_purge()
