"""Members' rights under UK GDPR: a copy of their data, and erasure.

What is exported and what erasure does, model by model, is in
``members.privacy.registry``; these functions are the requests around it.
"""

import datetime
import tempfile

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from igpm.emails import email_build
from members.audit import audit_record
from members.exceptions import IllegalTransition, PrivacyRequestRefused
from members.models import DataExport, ErasureRequest, User
from members.privacy.archive import archive_write
from members.privacy.erase import member_erase

ExportStatus = DataExport.Status
ErasureStatus = ErasureRequest.Status

EXPORT_LINK_DAYS = 7
# A member may ask for a fresh copy this long after the last one.
EXPORT_REQUEST_INTERVAL = datetime.timedelta(hours=1)
# An archive still not built after this long is given up (a task that ran
# out of retries) and the member may ask again.
EXPORT_GIVE_UP_AFTER = datetime.timedelta(hours=6)
# Archives are written to a temporary file; past this size, on disk.
SPOOL_BYTES = 20 * 1024 * 1024


def _local(moment: datetime.datetime) -> str:
    return f"{timezone.localtime(moment):%-d %B %Y at %H:%M}"


# --- Download my data --------------------------------------------------------


@transaction.atomic
def data_export_request(*, user: User) -> DataExport:
    """Record a request for a copy of the member's data and queue the task
    that builds it and emails the link."""
    from members.tasks import data_export_build_task

    # One request at a time per member: two clicks cannot both pass the checks.
    User.objects.select_for_update().get(pk=user.pk)
    now = timezone.now()
    DataExport.objects.filter(
        user=user, status=ExportStatus.PREPARING, requested_at__lt=now - EXPORT_GIVE_UP_AFTER
    ).update(status=ExportStatus.FAILED)
    latest = (
        DataExport.objects.filter(user=user)
        .exclude(status=ExportStatus.FAILED)
        .order_by("-requested_at", "-pk")
        .first()
    )
    if latest is not None and latest.status == ExportStatus.PREPARING:
        raise PrivacyRequestRefused(
            "Your copy is being prepared. We will email you a link as soon as it is ready."
        )
    if latest is not None and latest.requested_at > now - EXPORT_REQUEST_INTERVAL:
        raise PrivacyRequestRefused(
            f"You asked for a copy on {_local(latest.requested_at)} and we have emailed "
            f"you a link. You can ask for a new copy after "
            f"{timezone.localtime(latest.requested_at + EXPORT_REQUEST_INTERVAL):%H:%M}."
        )
    export = DataExport.objects.create(user=user, requested_at=now)
    audit_record(
        actor=user,
        subject=user,
        target=export,
        action="data_export_requested",
        to_state=ExportStatus.PREPARING,
    )
    data_export_build_task.delay_on_commit(export.pk)
    return export


def data_export_build(*, export_id: int) -> bool:
    """Build the archive (once), then email the link (once). Returns
    whether this call sent the email: a second run builds nothing and
    sends nothing."""
    stored = ""
    try:
        with transaction.atomic():
            export = (
                DataExport.objects.select_for_update()
                .select_related("user")
                .filter(pk=export_id)
                .first()
            )
            if export is None:
                return False  # the account was erased meanwhile
            if export.status == ExportStatus.PREPARING:
                with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as archive:
                    archive_write(user=export.user, out=archive)
                    archive.seek(0)
                    export.file.save("archive.zip", File(archive), save=False)
                stored = export.file.name
                now = timezone.now()
                export.status = ExportStatus.READY
                export.ready_at = now
                export.expires_at = now + datetime.timedelta(days=EXPORT_LINK_DAYS)
                export.save(update_fields=["file", "status", "ready_at", "expires_at"])
    except Exception:
        # Nothing half-saved: a stored archive whose row did not commit goes.
        if stored:
            export.file.storage.delete(stored)
        raise
    return data_export_email(export_id=export_id)


def data_export_email(*, export_id: int) -> bool:
    """Email the member the link to a ready archive, once."""
    with transaction.atomic():
        export = (
            DataExport.objects.select_for_update()
            .select_related("user")
            .filter(pk=export_id, status=ExportStatus.READY, emailed_at__isnull=True)
            .first()
        )
        if export is None:
            return False
        email_build(
            to=export.user.email,
            template="members/email/data_export_ready",
            context={
                "user": export.user,
                "export": export,
                "url": settings.SITE_URL
                + reverse("members:privacy_download", args=[export.token]),
            },
        ).send()
        export.emailed_at = timezone.now()
        export.save(update_fields=["emailed_at"])
    return True


def data_exports_expire(*, now: datetime.datetime | None = None) -> int:
    """Delete archives whose week is up, and give up on any never built;
    return how many archives were deleted."""
    now = now or timezone.now()
    DataExport.objects.filter(
        status=ExportStatus.PREPARING, requested_at__lt=now - EXPORT_GIVE_UP_AFTER
    ).update(status=ExportStatus.FAILED)
    deleted = 0
    expired = DataExport.objects.filter(status=ExportStatus.READY, expires_at__lt=now)
    for export_id in list(expired.values_list("pk", flat=True)):
        with transaction.atomic():
            export = expired.select_for_update().filter(pk=export_id).first()
            if export is None:
                continue
            storage, name = export.file.storage, export.file.name
            export.status = ExportStatus.EXPIRED
            export.file = ""
            export.save(update_fields=["status", "file"])
            if name:
                transaction.on_commit(lambda storage=storage, name=name: storage.delete(name))
            deleted += 1
    return deleted


def data_export_for_download(*, token: str, user: User) -> DataExport | None:
    """The member's own export with this token, or None: another member's
    token finds nothing."""
    return DataExport.objects.filter(token=token, user=user).first()


# --- Delete my account -------------------------------------------------------


@transaction.atomic
def erasure_request(*, user: User) -> ErasureRequest:
    User.objects.select_for_update().get(pk=user.pk)
    if ErasureRequest.objects.filter(user=user, status=ErasureStatus.REQUESTED).exists():
        raise PrivacyRequestRefused(
            "You have already asked us to delete your account. Staff will confirm it "
            "within one month of your request."
        )
    request = ErasureRequest.objects.create(user=user)
    audit_record(
        actor=user,
        subject=user,
        target=request,
        action="erasure_requested",
        to_state=ErasureStatus.REQUESTED,
    )
    return request


@transaction.atomic
def erasure_cancel(*, user: User) -> ErasureRequest | None:
    """Withdraw the member's open request; None if there was none (so
    cancelling twice is harmless)."""
    request = (
        ErasureRequest.objects.select_for_update()
        .filter(user=user, status=ErasureStatus.REQUESTED)
        .first()
    )
    if request is None:
        return None
    request.status = ErasureStatus.CANCELLED
    request.save(update_fields=["status"])
    audit_record(
        actor=user,
        subject=user,
        target=request,
        action="erasure_cancelled",
        from_state=ErasureStatus.REQUESTED,
        to_state=ErasureStatus.CANCELLED,
    )
    return request


def _lock_open(request: ErasureRequest, *, done: str) -> ErasureRequest | None:
    """The request locked, or None if it already reached ``done``."""
    request = ErasureRequest.objects.select_for_update().get(pk=request.pk)
    if request.status == done:
        return None
    if request.status != ErasureStatus.REQUESTED:
        raise IllegalTransition(
            f"This request is no longer open ({request.get_status_display().lower()})."
        )
    return request


@transaction.atomic
def erasure_refuse(*, request: ErasureRequest, by: User, reason: str) -> ErasureRequest:
    from members.tasks import erasure_refused_email_task

    if not reason.strip():
        raise PrivacyRequestRefused("Give the member the reason for refusing.")
    locked = _lock_open(request, done=ErasureStatus.REFUSED)
    if locked is None:
        return request
    locked.status = ErasureStatus.REFUSED
    locked.decided_by = by
    locked.decided_at = timezone.now()
    locked.reason = reason
    locked.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    audit_record(
        actor=by,
        subject=locked.user,
        target=locked,
        action="erasure_refused",
        from_state=ErasureStatus.REQUESTED,
        to_state=ErasureStatus.REFUSED,
        reason=reason,
    )
    erasure_refused_email_task.delay_on_commit(locked.pk)
    return locked


@transaction.atomic
def erasure_confirm(*, request: ErasureRequest, by: User) -> dict[str, int]:
    """Erase the member, as the registry says, in this one transaction.
    Returns the rows changed per model; confirming again changes nothing
    and returns an empty dict."""
    from members.tasks import erasure_completed_email_task

    locked = _lock_open(request, done=ErasureStatus.COMPLETED)
    if locked is None:
        return {}
    if locked.user_id == by.pk:
        raise PrivacyRequestRefused("Another member of staff must confirm your own request.")
    user = User.objects.select_for_update().get(pk=locked.user_id)
    address = user.email
    changed = member_erase(user=user, by=by)
    locked.status = ErasureStatus.COMPLETED
    locked.decided_by = by
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    # The record of the erasure itself: who and when, and how many rows of
    # each kind changed; nothing about the person.
    audit_record(
        actor=by,
        subject=user,
        target=locked,
        action="erased",
        from_state=ErasureStatus.REQUESTED,
        to_state=ErasureStatus.COMPLETED,
        data={"rows_changed": {label: count for label, count in changed.items() if count}},
    )
    # The address is gone from the database; the task gets it to say goodbye.
    erasure_completed_email_task.delay_on_commit(locked.pk, address)
    return changed


def erasure_notify(*, request_id: int, template: str, address: str | None = None) -> bool:
    """Tell the member what was decided, once."""
    with transaction.atomic():
        request = (
            ErasureRequest.objects.select_for_update()
            .select_related("user")
            .filter(pk=request_id, notified_at__isnull=True)
            .first()
        )
        if request is None:
            return False
        email_build(
            to=address or request.user.email,
            template=f"members/email/{template}",
            context={"request": request, "user": request.user},
        ).send()
        request.notified_at = timezone.now()
        request.save(update_fields=["notified_at"])
    return True
