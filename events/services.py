"""Registrations: places, the waiting list and offers.

Every change that can take or free a place locks the event's row first
(``SELECT ... FOR UPDATE``), then counts: two sign-ups for the last place
cannot both see it free.
"""

import datetime
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from members.audit import audit_record
from members.models import AuditEntry, Membership, User

from .models import Event, Registration, new_checkin_code, token_hash

Status = Registration.Status
OFFER_HOURS_DEFAULT = 48
CONFIRM_HOURS_DEFAULT = 48


class RegistrationRefused(Exception):
    """A registration the rules refuse; the message is for the person."""


def _lock_event(event_id: int) -> Event:
    return Event.objects.select_for_update().get(pk=event_id)


def places_taken(event: Event) -> int:
    return Registration.objects.filter(event=event, status__in=Registration.HOLDS_PLACE).count()


def _offer_hours() -> int:
    return getattr(settings, "EVENTS_OFFER_HOURS", OFFER_HOURS_DEFAULT)


def confirm_hours() -> int:
    return getattr(settings, "EVENTS_CONFIRM_HOURS", CONFIRM_HOURS_DEFAULT)


def _unused_checkin_code() -> str:
    """A fresh check-in code. Collisions are rare (31^8 codes) but the
    column is unique, so draw again rather than fail the registration."""
    while True:
        code = new_checkin_code()
        if not Registration.objects.filter(checkin_code=code).exists():
            return code


def _visitor_audit_relabel(registration_ids: list[int]) -> None:
    """A visitor's own steps name them by address in the audit trail; once
    their row is deleted nothing would ever remove that, so the label
    becomes "visitor" (entries are otherwise never changed)."""
    AuditEntry.objects.filter(
        target_type=Registration._meta.model_name,
        target_id__in=registration_ids,
        actor__isnull=True,
    ).exclude(actor_label="system").update(actor_label="visitor")


def _unconfirmed_supersede(*, event: Event, email: str, by: User | None, reason: str) -> None:
    """Remove the request for ``email`` still waiting for its address to
    be confirmed: it holds no place, so a member with the address, or a
    fresh request, replaces it. The caller holds the event's lock."""
    for stale in Registration.objects.select_for_update().filter(
        event=event, email=email, status=Status.UNCONFIRMED
    ):
        _visitor_audit_relabel([stale.pk])
        audit_record(
            actor=by,
            actor_label=by.email if by else "visitor",
            target=stale,
            action="registration_superseded",
            from_state=Status.UNCONFIRMED,
            to_state="deleted",
            reason=reason,
        )
        stale.delete()


def _allocate(event: Event, registration: Registration) -> None:
    """Give ``registration`` a place if one is free, else a place in the
    queue. The caller holds the event's lock."""
    registration.status = (
        Status.CONFIRMED if places_taken(event) < event.capacity else Status.WAITING
    )


def _audit_status(
    registration: Registration,
    *,
    old: str,
    action: str,
    by: User | None = None,
    system: bool = False,
) -> None:
    """Record a registration's change of status, made by ``by``, by the
    scheduler (``system``) or else by the registrant (a visitor is named by
    their email address)."""
    audit_record(
        actor=by,
        actor_label="system" if system else by.email if by else registration.email,
        subject=registration.user,
        target=registration,
        action=action,
        from_state=old,
        to_state=registration.status,
    )


def _check_open(event: Event, *, user: User | None, now: datetime.datetime) -> None:
    if event.status != Event.Status.PUBLISHED:
        raise RegistrationRefused("This event is not open for registration.")
    if now < event.registration_opens_at:
        opens = timezone.localtime(event.registration_opens_at)
        raise RegistrationRefused(f"Registration opens on {opens:%-d %B %Y at %H:%M}.")
    if now > event.registration_closes_at:
        raise RegistrationRefused("Registration for this event has closed.")
    if event.members_only:
        is_member = (
            user is not None
            and Membership.objects.filter(
                user=user, status__in=Membership.IN_GOOD_STANDING
            ).exists()
        )
        if not is_member:
            raise RegistrationRefused(
                "This event is for IGPM members. Sign in with your membership, or join first."
            )


@transaction.atomic
def registration_create(
    *,
    event: Event,
    name: str,
    email: str,
    organisation: str,
    role: str,
    access_requirements: str = "",
    dietary_requirements: str = "",
    user: User | None = None,
) -> Registration:
    """Register someone. A signed-in member gets a place (or the waiting
    list) at once; anyone else is emailed a single-use link to confirm the
    address first, and holds nothing until they follow it."""
    from .tasks import registration_email_task

    now = timezone.now()
    event = _lock_event(event.pk)
    _check_open(event, user=user, now=now)
    email = email.strip().lower()
    if Registration.objects.filter(
        event=event, email=email, status__in=Registration.LIVE
    ).exists():
        raise RegistrationRefused("This email address is already registered for this event.")
    _unconfirmed_supersede(
        event=event,
        email=email,
        by=user,
        reason="member registered" if user else "registered again",
    )
    registration = Registration(
        event=event,
        user=user,
        name=name.strip(),
        email=email,
        organisation=organisation.strip(),
        role=role.strip(),
        access_requirements=access_requirements.strip(),
        dietary_requirements=dietary_requirements.strip(),
        checkin_code=_unused_checkin_code(),
    )
    confirm_token = ""
    if user is None:
        registration.status = Status.UNCONFIRMED
        # The token travels only to the email; the row keeps its hash.
        confirm_token = secrets.token_urlsafe(32)
        registration.confirm_token_hash = token_hash(confirm_token)
        registration.confirm_expires_at = now + datetime.timedelta(hours=confirm_hours())
    else:
        _allocate(event, registration)
    registration.save()
    _audit_status(registration, old="", action="registered", by=user)
    if user is None:
        registration_email_task.delay_on_commit(
            registration.pk, "confirm_email", confirm_token=confirm_token
        )
    else:
        registration_email_task.delay_on_commit(registration.pk, registration.status)
    return registration


def registration_for_confirm_token(*, token: str) -> Registration | None:
    """The unconfirmed registration a confirmation link is for, or None
    when the link is unknown, used already or out of date."""
    registration = (
        Registration.objects.select_related("event")
        .filter(confirm_token_hash=token_hash(token), status=Status.UNCONFIRMED)
        .first()
    )
    if registration is None or registration.confirm_expires_at <= timezone.now():
        return None
    return registration


@transaction.atomic
def registration_confirm_email(*, token: str) -> Registration:
    """The person followed the link emailed to them: now they get a place
    (or join the waiting list). The token works once, before it expires."""
    from .tasks import registration_email_task

    found = registration_for_confirm_token(token=token)
    if found is None:
        raise RegistrationRefused(
            "This confirmation link has expired or has been used. Register again "
            "and a new link will be emailed to you."
        )
    event = _lock_event(found.event_id)
    registration = Registration.objects.select_for_update().filter(pk=found.pk).first()
    if (
        registration is None  # deleted meanwhile: lapsed or replaced
        or registration.status != Status.UNCONFIRMED
        or registration.confirm_token_hash != token_hash(token)
    ):
        raise RegistrationRefused("This confirmation link has been used.")
    if event.status != Event.Status.PUBLISHED:
        raise RegistrationRefused("This event is no longer open.")
    # Another confirmed request or a member may have taken the address
    # while this one waited: the partial unique constraint forbids two.
    if Registration.objects.filter(
        event=event, email=registration.email, status__in=Registration.LIVE
    ).exists():
        raise RegistrationRefused("This email address is already registered for this event.")
    _allocate(event, registration)
    registration.confirm_token_hash = None
    registration.confirm_expires_at = None
    registration.save(
        update_fields=["status", "confirm_token_hash", "confirm_expires_at", "updated_at"]
    )
    _audit_status(registration, old=Status.UNCONFIRMED, action="email_confirmed")
    registration_email_task.delay_on_commit(registration.pk, registration.status)
    return registration


def unconfirmed_registrations_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete visitors' requests whose confirmation link has lapsed; return
    how many. Safe to run twice: a second run finds nothing.

    The audit entries of those requests named the visitor by address: that
    label becomes "visitor", as it does when visitors are anonymised.
    """

    now = now or timezone.now()
    with transaction.atomic():
        lapsed = Registration.objects.select_for_update(skip_locked=True).filter(
            status=Status.UNCONFIRMED, confirm_expires_at__lte=now
        )
        ids = list(lapsed.values_list("pk", flat=True))
        if not ids:
            return 0
        _visitor_audit_relabel(ids)
        Registration.objects.filter(pk__in=ids).delete()
        AuditEntry.objects.create(
            actor_label="system",
            target_type=Registration._meta.model_name,
            target_id=0,
            action="unconfirmed_registrations_deleted",
            data={"count": len(ids), "lapsed_before": now.isoformat()},
        )
    return len(ids)


@transaction.atomic
def registration_cancel(
    *, registration: Registration, by: User | None = None, notify: bool = True
) -> Registration:
    """Cancel a registration; a place it held goes to the first in line.
    ``notify=False`` sends the person no email (their account is being
    erased)."""
    from .tasks import registration_email_task

    event = _lock_event(registration.event_id)
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.status == Status.CANCELLED:
        return registration
    held_place = registration.status in Registration.HOLDS_PLACE
    old = registration.status
    registration.status = Status.CANCELLED
    registration.offer_expires_at = None
    registration.save(update_fields=["status", "offer_expires_at", "updated_at"])
    _audit_status(registration, old=old, action="registration_cancelled", by=by)
    if notify:
        registration_email_task.delay_on_commit(registration.pk, "cancelled")
    if held_place:
        _offer_next(event)
    return registration


def _offer_next(event: Event) -> Registration | None:
    """Offer a free place to the first person waiting. The caller holds the
    event's lock."""
    from .tasks import registration_email_task

    if places_taken(event) >= event.capacity:
        return None
    first = (
        Registration.objects.select_for_update()
        .filter(event=event, status=Status.WAITING)
        .order_by("created_at", "pk")
        .first()
    )
    if first is None:
        return None
    first.status = Status.OFFERED
    first.offer_expires_at = timezone.now() + datetime.timedelta(hours=_offer_hours())
    first.save(update_fields=["status", "offer_expires_at", "updated_at"])
    _audit_status(first, old=Status.WAITING, action="place_offered", system=True)
    registration_email_task.delay_on_commit(first.pk, "offered")
    return first


@transaction.atomic
def offer_claim(*, registration: Registration) -> Registration:
    from .tasks import registration_email_task

    _lock_event(registration.event_id)
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.status == Status.CONFIRMED:
        return registration
    if registration.status != Status.OFFERED or registration.offer_expires_at < timezone.now():
        raise RegistrationRefused("This offer has ended. The place has gone to the next person.")
    registration.status = Status.CONFIRMED
    registration.offer_expires_at = None
    registration.save(update_fields=["status", "offer_expires_at", "updated_at"])
    _audit_status(registration, old=Status.OFFERED, action="offer_accepted")
    registration_email_task.delay_on_commit(registration.pk, "confirmed")
    return registration


def offers_expire(*, now: datetime.datetime | None = None) -> int:
    """Offers not claimed in time lapse, and each place moves on to the next
    person waiting. Each event is handled under its own lock."""
    now = now or timezone.now()
    expired = 0
    event_ids = (
        Registration.objects.filter(status=Status.OFFERED, offer_expires_at__lt=now)
        .values_list("event_id", flat=True)
        .distinct()
    )
    for event_id in list(event_ids):
        with transaction.atomic():
            event = _lock_event(event_id)
            lapsed = list(
                Registration.objects.select_for_update().filter(
                    event=event, status=Status.OFFERED, offer_expires_at__lt=now
                )
            )
            for registration in lapsed:
                registration.status = Status.CANCELLED
                registration.offer_expires_at = None
                registration.save(update_fields=["status", "offer_expires_at", "updated_at"])
                _audit_status(
                    registration, old=Status.OFFERED, action="offer_expired", system=True
                )
            expired += len(lapsed)
            for _ in lapsed:
                _offer_next(event)
    return expired


@transaction.atomic
def event_capacity_change(*, event: Event, capacity: int, by: User) -> list[Registration]:
    """Set the number of places. Places that come free go, in the same
    transaction, to the people waiting, first come first offered, so a
    newcomer registering a moment later cannot take them. Fewer places
    take nobody's away. Returns the registrations offered a place."""
    event = _lock_event(event.pk)
    old = event.capacity
    if capacity != old:
        event.capacity = capacity
        event.save(update_fields=["capacity", "updated_at"])
        audit_record(
            actor=by,
            target=event,
            action="capacity_changed",
            from_state=str(old),
            to_state=str(capacity),
        )
    offered = []
    if event.status == Event.Status.PUBLISHED:
        while (registration := _offer_next(event)) is not None:
            offered.append(registration)
    return offered


@transaction.atomic
def event_cancel(*, event: Event, by: User) -> int:
    """Cancel the event and tell everyone registered or waiting; return how
    many were told. Cancelling twice tells nobody twice."""
    from .tasks import registration_email_task

    event = _lock_event(event.pk)
    if event.status != Event.Status.CANCELLED:
        old = event.status
        event.status = Event.Status.CANCELLED
        event.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=by,
            target=event,
            action="event_cancelled",
            from_state=old,
            to_state=Event.Status.CANCELLED,
        )
    live = list(
        Registration.objects.select_for_update()
        .filter(event=event)
        .exclude(status=Status.CANCELLED)
    )
    told = 0
    for registration in live:
        old = registration.status
        registration.status = Status.CANCELLED
        registration.offer_expires_at = None
        registration.save(update_fields=["status", "offer_expires_at", "updated_at"])
        _audit_status(registration, old=old, action="event_cancelled", by=by)
        # An address never confirmed is not written to about anything else.
        if old != Status.UNCONFIRMED:
            registration_email_task.delay_on_commit(registration.pk, "cancelled")
            told += 1
    return told


@transaction.atomic
def registration_check_in(*, registration: Registration, by: User) -> bool:
    """Mark a confirmed attendee as here; a member gets the event's CPD
    hours in their log. Returns False if they were already checked in."""
    from accreditation.models import CpdEntry
    from accreditation.services import cpd_entry_create

    registration = (
        Registration.objects.select_for_update().select_related("event").get(pk=registration.pk)
    )
    if registration.status != Status.CONFIRMED:
        raise RegistrationRefused(
            f"{registration.name} does not have a confirmed place "
            f"({registration.get_status_display().lower()})."
        )
    if registration.checked_in_at is not None:
        return False
    registration.checked_in_at = timezone.now()
    registration.save(update_fields=["checked_in_at", "updated_at"])
    audit_record(
        actor=by,
        subject=registration.user,
        target=registration,
        action="checked_in",
        from_state=Status.CONFIRMED,
        to_state="attended",
    )
    event = registration.event
    if registration.user_id and event.cpd_hours > 0:
        cpd_entry_create(
            user=registration.user,
            date=timezone.localdate(event.starts_at),
            activity=event.title,
            hours=event.cpd_hours,
            category=CpdEntry.Category.EVENT,
            source=CpdEntry.Source.EVENT,
        )
    return True


def attendance_pdf(registration: Registration) -> bytes:
    """The certificate of attendance for a checked-in attendee."""
    from igpm.pdf import pdf_render

    if registration.checked_in_at is None:
        raise RegistrationRefused("Certificates of attendance are for people who attended.")
    return pdf_render(
        "events/pdf/attendance.html",
        {"registration": registration, "event": registration.event},
    )
