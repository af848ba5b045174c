"""Every write the accreditation app makes."""

import datetime
import secrets
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from members.audit import audit_record
from members.billing.services.membership import add_years
from members.models import Membership, User

from .models import Application, Certificate, CpdEntry, Evidence, Pathway
from .uploads import CheckedUpload, evidence_check

Status = Application.Status
MAX_EVIDENCE_FILES = 10


class AccreditationError(Exception):
    """A request the accreditation rules refuse; the message is for the user."""


class IllegalTransition(AccreditationError):
    pass


class ApplicationIncomplete(AccreditationError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("The application is not complete.")
        self.errors = errors


def _require_good_standing(user: User) -> None:
    in_good_standing = Membership.objects.filter(
        user=user, status__in=Membership.IN_GOOD_STANDING
    ).exists()
    if not in_good_standing:
        raise AccreditationError("Accreditation is for IGPM members in good standing.")


def _locked(application: Application) -> Application:
    return Application.objects.select_for_update().get(pk=application.pk)


def _transition(
    application: Application, *, to: str, by: User | None, action: str, reason: str = "", **extra
) -> Application:
    old = application.status
    application.status = to
    fields = ["status", "updated_at", *extra]
    for name, value in extra.items():
        setattr(application, name, value)
    application.save(update_fields=fields)
    audit_record(
        actor=by,
        subject=application.applicant,
        target=application,
        action=action,
        from_state=old,
        to_state=to,
        reason=reason,
    )
    return application


# --- Member side -------------------------------------------------------------


@transaction.atomic
def application_start(*, user: User, pathway: Pathway) -> Application:
    _require_good_standing(user)
    if not pathway.is_active:
        raise AccreditationError("That pathway is no longer open.")
    application = Application.objects.create(applicant=user, pathway=pathway)
    audit_record(
        actor=user, subject=user, target=application, action="started", to_state=Status.DRAFT
    )
    return application


@transaction.atomic
def application_update(*, application: Application, by: User, **fields) -> Application:
    application = _locked(application)
    if not application.is_editable:
        raise IllegalTransition("This application can no longer be changed.")
    for name, value in fields.items():
        setattr(application, name, value)
    application.save(update_fields=[*fields, "updated_at"])
    return application


@transaction.atomic
def evidence_add(
    *, application: Application, upload: UploadedFile | CheckedUpload, by: User
) -> Evidence:
    checked = evidence_check(upload)
    application = _locked(application)
    if not application.is_editable:
        raise IllegalTransition("Evidence can no longer be added to this application.")
    if application.evidence.count() >= MAX_EVIDENCE_FILES:
        raise AccreditationError(f"An application can have at most {MAX_EVIDENCE_FILES} files.")
    return _evidence_store(checked, application=application)


def _evidence_store(checked: CheckedUpload, **owner) -> Evidence:
    """Save a checked upload under a generated name, for its one owner (an
    application or a CPD entry)."""
    evidence = Evidence(
        original_name=checked.download_name,
        content_type=checked.content_type,
        size=checked.size,
        **owner,
    )
    evidence.file.save("evidence", checked.as_file(), save=False)
    evidence.save()
    return evidence


@transaction.atomic
def evidence_remove(*, evidence: Evidence, by: User) -> None:
    application = _locked(evidence.application)
    if not application.is_editable:
        raise IllegalTransition("Evidence can no longer be removed from this application.")
    stored = evidence.file.name
    evidence.delete()
    storage = evidence.file.storage
    transaction.on_commit(lambda: storage.delete(stored))


def _missing(application: Application) -> dict[str, str]:
    """What stops ``application`` being submitted, field by field."""
    errors = {}
    if application.kind == Application.Kind.REVALIDATION:
        return errors
    if application.pathway.is_experiential:
        required = {
            "roles_held": "List the roles you have held, with their dates.",
            "referee_1_name": "Give your first referee's name.",
            "referee_1_email": "Give your first referee's email address.",
            "referee_2_name": "Give your second referee's name.",
            "referee_2_email": "Give your second referee's email address.",
        }
    else:
        required = {
            "qualification_title": "Enter the title of your qualification.",
            "awarding_body": "Enter the body that awarded it.",
            "certificate_number": "Enter your certificate or learner number.",
            "date_achieved": "Enter the date you achieved it.",
        }
    for name, message in required.items():
        if not getattr(application, name):
            errors[name] = message
    if not application.evidence.exists():
        errors["evidence"] = "Upload at least one file of evidence."
    return errors


@transaction.atomic
def application_submit(*, application: Application, by: User) -> Application:
    from .tasks import application_submitted_email_task

    application = _locked(application)
    if application.applicant_id != by.pk:
        raise IllegalTransition("Only the applicant can submit an application.")
    if not application.is_editable:
        raise IllegalTransition("This application has already been submitted.")
    if application.kind == Application.Kind.INITIAL:
        _require_good_standing(by)
    errors = _missing(application)
    if errors:
        raise ApplicationIncomplete(errors)
    # A resubmission goes straight back to the assessor who asked.
    to = Status.IN_REVIEW if application.assessor_id else Status.SUBMITTED
    action = "resubmitted" if application.status == Status.MORE_INFO else "submitted"
    application = _transition(
        application, to=to, by=by, action=action, submitted_at=timezone.now()
    )
    application_submitted_email_task.delay_on_commit(application.pk)
    return application


@transaction.atomic
def application_withdraw(*, application: Application, by: User) -> Application:
    application = _locked(application)
    if application.status not in {Status.DRAFT, *Application.OPEN}:
        raise IllegalTransition("This application can no longer be withdrawn.")
    return _transition(application, to=Status.WITHDRAWN, by=by, action="withdrawn")


# --- Assessor side -----------------------------------------------------------


@transaction.atomic
def application_assign(*, application: Application, assessor: User) -> Application:
    application = _locked(application)
    if application.status == Status.SUBMITTED:
        return _transition(
            application, to=Status.IN_REVIEW, by=assessor, action="assigned", assessor=assessor
        )
    if application.status in (Status.IN_REVIEW, Status.MORE_INFO):
        if application.assessor_id == assessor.pk:
            return application
        old = application.assessor
        application.assessor = assessor
        application.save(update_fields=["assessor", "updated_at"])
        audit_record(
            actor=assessor,
            subject=application.applicant,
            target=application,
            action="reassigned",
            data={"from": old.email if old else ""},
        )
        return application
    raise IllegalTransition("Only submitted applications can be assigned.")


def _decide(application: Application, *, by: User, to: str, action: str, reason: str):
    from .tasks import application_decision_email_task

    application = _locked(application)
    if application.status != Status.IN_REVIEW:
        raise IllegalTransition(
            "Only an application in review can be decided. Assign it to yourself first."
        )
    if application.assessor_id != by.pk:
        raise IllegalTransition("This application is assigned to another assessor.")
    if to != Status.APPROVED and not reason.strip():
        raise AccreditationError("Give the applicant your reasons.")
    extra = {"decision_reason": reason}
    if to in (Status.APPROVED, Status.REJECTED):
        extra["decided_at"] = timezone.now()
    application = _transition(application, to=to, by=by, action=action, reason=reason, **extra)
    application_decision_email_task.delay_on_commit(application.pk, to)
    return application


@transaction.atomic
def application_request_info(*, application: Application, by: User, reason: str):
    return _decide(application, by=by, to=Status.MORE_INFO, action="info_requested", reason=reason)


@transaction.atomic
def application_reject(*, application: Application, by: User, reason: str):
    return _decide(application, by=by, to=Status.REJECTED, action="rejected", reason=reason)


@transaction.atomic
def application_approve(*, application: Application, by: User, reason: str = "") -> Certificate:
    application = _decide(application, by=by, to=Status.APPROVED, action="approved", reason=reason)
    return certificate_issue(application=application, by=by)


# --- Certificates ------------------------------------------------------------


def certificate_issue(*, application: Application, by: User) -> Certificate:
    """Issue the certificate an approved application earns. Runs inside the
    approval's transaction."""
    from .tasks import certificate_render_task

    today = timezone.localdate()
    pathway = application.pathway
    starts = today
    if application.renews_id and application.renews.expires_on > today:
        # Revalidating early: the new certificate runs on from the old one.
        starts = application.renews.expires_on + datetime.timedelta(days=1)
    certificate = Certificate.objects.create(
        application=application,
        holder=application.applicant,
        pathway=pathway,
        number=f"pending-{secrets.token_hex(8)}",
        verification_code=secrets.token_urlsafe(24),
        holder_name=application.applicant.get_full_name() or application.applicant.email,
        issued_on=today,
        expires_on=add_years(starts, pathway.validity_years) - datetime.timedelta(days=1),
        on_public_register=bool(application.renews_id and application.renews.on_public_register),
    )
    certificate.number = f"IGPM-ACC-{today:%Y}-{certificate.pk:05d}"
    certificate.save(update_fields=["number"])
    audit_record(
        actor=by,
        subject=application.applicant,
        target=certificate,
        action="certificate_issued",
        to_state=Certificate.Status.VALID,
        data={"number": certificate.number, "expires_on": str(certificate.expires_on)},
    )
    certificate_render_task.delay_on_commit(certificate.pk)
    return certificate


CERTIFICATE_TEMPLATE = "accreditation/pdf/certificate.html"
# Parsed once per process (igpm.pdf.parsed_stylesheet), not on every render.
CERTIFICATE_STYLESHEET = "css/pdf/certificate.css"


def certificate_render(*, certificate_id: int) -> None:
    """Render (or render again) the certificate's PDF. Harmless twice: the
    same file name is replaced."""
    from igpm.pdf import pdf_render

    from .qr import qr_png_data_uri

    certificate = Certificate.objects.select_related("pathway").get(pk=certificate_id)
    verify_url = certificate_verify_url(certificate)
    pdf = pdf_render(
        CERTIFICATE_TEMPLATE,
        {"certificate": certificate, "verify_url": verify_url, "qr": qr_png_data_uri(verify_url)},
        stylesheet=CERTIFICATE_STYLESHEET,
    )
    name = f"certificates/{certificate.number}.pdf"
    storage = certificate.pdf.storage
    if storage.exists(name):
        storage.delete(name)
    certificate.pdf.save(name.removeprefix("certificates/"), ContentFile(pdf), save=False)
    Certificate.objects.filter(pk=certificate.pk).update(pdf=certificate.pdf.name)


def certificate_verify_url(certificate: Certificate) -> str:
    from django.conf import settings
    from django.urls import reverse

    return settings.SITE_URL + reverse(
        "accreditation:verify", args=[certificate.verification_code]
    )


@transaction.atomic
def certificate_revoke(*, certificate: Certificate, by: User, reason: str) -> Certificate:
    if not reason.strip():
        raise AccreditationError("Give a reason for revoking the certificate.")
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.status == Certificate.Status.REVOKED:
        return certificate
    certificate.status = Certificate.Status.REVOKED
    certificate.revoked_at = timezone.now()
    certificate.revoked_reason = reason
    certificate.save(update_fields=["status", "revoked_at", "revoked_reason"])
    audit_record(
        actor=by,
        subject=certificate.holder,
        target=certificate,
        action="certificate_revoked",
        from_state=Certificate.Status.VALID,
        to_state=Certificate.Status.REVOKED,
        reason=reason,
    )
    return certificate


@transaction.atomic
def certificate_set_listing(*, certificate: Certificate, listed: bool) -> None:
    Certificate.objects.filter(pk=certificate.pk).update(on_public_register=listed)


# --- CPD and revalidation ----------------------------------------------------


@transaction.atomic
def cpd_entry_create(
    *,
    user: User,
    date: datetime.date,
    activity: str,
    hours: Decimal,
    category: str,
    reflection: str = "",
    evidence: UploadedFile | CheckedUpload | None = None,
    source: str = CpdEntry.Source.MEMBER,
) -> CpdEntry:
    checked = evidence_check(evidence) if evidence else None
    entry = CpdEntry.objects.create(
        user=user,
        date=date,
        activity=activity,
        hours=hours,
        category=category,
        reflection=reflection,
        source=source,
    )
    if checked is not None:
        _evidence_store(checked, cpd_entry=entry)
    return entry


def cpd_hours_between(*, user: User, start: datetime.date, end: datetime.date) -> Decimal:
    total = CpdEntry.objects.filter(user=user, date__gte=start, date__lte=end).aggregate(
        total=Sum("hours")
    )["total"]
    return total or Decimal("0")


@transaction.atomic
def revalidation_apply(*, certificate: Certificate, by: User) -> Application:
    """Ask to revalidate: allowed once the pathway's CPD hours are logged
    since the certificate was issued."""
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.holder_id != by.pk:
        raise IllegalTransition("Only the holder can revalidate a certificate.")
    if certificate.status == Certificate.Status.REVOKED:
        raise IllegalTransition("A revoked certificate cannot be revalidated.")
    _require_good_standing(by)
    if certificate.revalidations.filter(
        status__in=[Status.DRAFT, *Application.OPEN, Status.APPROVED]
    ).exists():
        raise AccreditationError("You have already applied to revalidate this certificate.")
    needed = certificate.pathway.cpd_hours_required
    logged = cpd_hours_between(user=by, start=certificate.issued_on, end=timezone.localdate())
    if logged < needed:
        raise AccreditationError(
            f"Revalidation needs {needed} hours of CPD since {certificate.issued_on:%-d %B %Y}; "
            f"you have logged {logged}."
        )
    application = Application.objects.create(
        applicant=by,
        pathway=certificate.pathway,
        kind=Application.Kind.REVALIDATION,
        renews=certificate,
        status=Status.SUBMITTED,
        submitted_at=timezone.now(),
    )
    audit_record(
        actor=by,
        subject=by,
        target=application,
        action="revalidation_requested",
        to_state=Status.SUBMITTED,
        data={"certificate": certificate.number, "cpd_hours": str(logged)},
    )
    return application
