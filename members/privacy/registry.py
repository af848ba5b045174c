"""Every model that can hold a member's data: how the member's rows are
found, what goes into their export, and what erasure does to them.

``tests/members/test_privacy_registry.py`` walks every installed model and
fails naming any that can reach a member (a foreign key path to the user,
or an email or JSON field) but is neither here nor in ``NOT_PERSONAL``.

Order matters for erasure: rows are found before anything changes, then
each action runs in this order, so evidence (with its files) goes before
the applications and CPD entries it belongs to, and the account itself is
anonymised last.
"""

from collections.abc import Callable
from dataclasses import dataclass

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from accreditation.models import Application, Certificate, CertificateNotice, CpdEntry, Evidence
from events.models import Registration, RegistrationEmail
from events.retention import registrations_anonymise
from members.models import (
    AuditEntry,
    DataExport,
    ErasureRequest,
    Membership,
    MembershipNotice,
    MembershipPeriod,
    Payment,
    PaymentNotice,
    Profile,
    Refund,
    StripeEvent,
    User,
)
from members.services.stripe_webhooks import stripe_event_kept

from .actions import ERASED_TEXT, Anonymise, Custom, Delete, Erasing, Keep, erased_email


@dataclass(frozen=True)
class Holding:
    """One model's part in the member's data."""

    model: type[Model]
    rows: Callable[[User], QuerySet]
    erase: Delete | Anonymise | Keep | Custom
    # The archive's "<section>.json"; empty when the rows are not exported,
    # and then ``not_exported`` says why.
    section: str = ""
    about: str = ""
    not_exported: str = ""
    # Fields left out of the export: secrets, not personal data.
    exclude: frozenset[str] = frozenset()
    # File fields whose files are copied into the archive.
    files: tuple[str, ...] = ()
    # Trims one exported row (the member, the row, its data): for rows that
    # are the member's only in part, such as a staff member's actions on
    # other members' records.
    redact: Callable[[User, Model, dict], dict] | None = None

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def name(self) -> str:
        return str(self.model._meta.verbose_name_plural)


# Models that relate to a user but hold nothing about them, with the reason.
# The coverage test accepts these; everything else must be in REGISTRY.
NOT_PERSONAL: dict[str, str] = {}


# --- Finding the member's rows ------------------------------------------------


def _sessions(user: User) -> QuerySet:
    """Sessions signed in as the member. The user id is inside the encoded
    session data, so each session is decoded; erasure is rare."""
    keys = [
        session.session_key
        for session in Session.objects.iterator()
        if session.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    return Session.objects.filter(session_key__in=keys)


def _admin_log(user: User) -> QuerySet:
    """Admin changes made by the member (staff) or to their account."""
    account = ContentType.objects.get_for_model(User)
    return LogEntry.objects.filter(Q(user=user) | Q(content_type=account, object_id=str(user.pk)))


def _registrations(user: User) -> QuerySet:
    """Places booked signed in, and any booked as a visitor (no account)
    with the same email address. Another member's places are never theirs,
    even under an address this member now uses."""
    return Registration.objects.filter(
        Q(user=user) | Q(user__isnull=True, email__iexact=user.email)
    )


def _stripe_events(user: User) -> QuerySet:
    """Stripe's webhook events about the member's card payments."""
    sessions = Payment.objects.filter(user=user, stripe_session_id__isnull=False).values_list(
        "stripe_session_id", flat=True
    )
    return StripeEvent.objects.filter(payload__data__object__id__in=list(sessions))


# --- Rows that are the member's only in part -------------------------------------


def _audit_redact(user: User, entry: AuditEntry, data: dict) -> dict:
    """An entry about someone else, in which the member only acted (staff
    deciding another member's application): what they did and when, not
    the other person's details or the reasons given about them."""
    if entry.subject_id == user.pk:
        return data
    return {
        key: value for key, value in data.items() if key not in {"subject_id", "reason", "data"}
    }


def _admin_log_redact(user: User, entry: LogEntry, data: dict) -> dict:
    """An admin change the member made to another record keeps its time,
    kind and record id; the record's name (often someone's email address)
    and the change message are left out."""
    account = ContentType.objects.get_for_model(User)
    if entry.content_type_id == account.pk and entry.object_id == str(user.pk):
        return data
    return {
        key: value for key, value in data.items() if key not in {"object_repr", "change_message"}
    }


# --- Erasures particular to one model -------------------------------------------


def _user_anonymise(rows: QuerySet, erasing: Erasing) -> int:
    changed = 0
    for user in rows:
        user.email = erased_email(user.pk)
        user.first_name = user.last_name = ""
        user.set_unusable_password()
        user.is_active = user.is_staff = user.is_superuser = False
        user.last_login = None
        user.erased_at = user.erased_at or timezone.now()
        user.save(
            update_fields=[
                "email",
                "first_name",
                "last_name",
                "password",
                "is_active",
                "is_staff",
                "is_superuser",
                "last_login",
                "erased_at",
            ]
        )
        changed += 1
    return changed


def _membership_end(rows: QuerySet, erasing: Erasing) -> int:
    return rows.exclude(status=Membership.Status.CANCELLED).update(
        status=Membership.Status.CANCELLED, updated_at=timezone.now()
    )


APPLICATION_DETAILS = {
    "qualification_title": "",
    "awarding_body": "",
    "certificate_number": "",
    "date_achieved": None,
    "roles_held": "",
    "referee_1_name": "",
    "referee_1_email": "",
    "referee_1_relationship": "",
    "referee_2_name": "",
    "referee_2_email": "",
    "referee_2_relationship": "",
    "decision_reason": "",
}


def _applications_erase(rows: QuerySet, erasing: Erasing) -> int:
    # A certificate (kept) points at the application that earned it, so that
    # one stays, emptied of details; every other application goes.
    emptied = rows.filter(certificate__isnull=False).update(**APPLICATION_DETAILS)
    deleted, _ = rows.filter(certificate__isnull=True).delete()
    return emptied + deleted


def _registrations_erase(rows: QuerySet, erasing: Erasing) -> int:
    from events.services import registration_cancel

    upcoming = rows.filter(event__starts_at__gt=timezone.now()).exclude(
        status=Registration.Status.CANCELLED
    )
    for registration in upcoming:
        # A place held goes to the next person waiting; no email to the
        # member, whose address is about to go.
        registration_cancel(registration=registration, by=erasing.by, notify=False)
    return registrations_anonymise(rows)


def _stripe_events_erase(rows: QuerySet, erasing: Erasing) -> int:
    """Events stored before only their ids were kept lose the rest."""
    changed = 0
    for event in rows:
        kept = stripe_event_kept(event.payload or {})
        if event.payload != kept:
            StripeEvent.objects.filter(pk=event.pk).update(payload=kept)
            changed += 1
    return changed


def _audit_erase(rows: QuerySet, erasing: Erasing) -> int:
    # Audit entries are append-only: AuditEntry.save() and delete() refuse
    # any change. Erasure is the one permitted exception, made with
    # QuerySet.update(), which does not call save(): each entry keeps who,
    # when, what and from/to, and loses the text that could name the member.
    user_id = erasing.user.pk
    placeholder = erased_email(user_id)
    changed = rows.filter(subject_id=user_id).update(reason="", data={})
    changed += AuditEntry.objects.filter(
        Q(actor_id=user_id) | Q(actor_label__iexact=erasing.email)
    ).update(actor_label=placeholder)
    mentions = Q(data__icontains=erasing.email) | Q(reason__icontains=erasing.email)
    if erasing.full_name:
        mentions |= Q(reason__icontains=erasing.full_name)
    if erasing.phone:
        mentions |= Q(reason__icontains=erasing.phone)
    changed += AuditEntry.objects.filter(mentions).update(reason="", data={})
    return changed


def _admin_log_erase(rows: QuerySet, erasing: Erasing) -> int:
    """Keep the admin's history of changes; drop the text describing the
    member's records (``object_repr`` is the record's name, often their
    email address)."""
    about = Q(object_repr__icontains=erasing.email)
    if erasing.full_name:
        about |= Q(object_repr__icontains=erasing.full_name)
    for holding in REGISTRY:
        if holding.model._meta.auto_created or holding.model is LogEntry:
            continue
        ids = [str(pk) for pk in erasing.snapshot.get(holding.label, [])]
        if ids:
            content_type = ContentType.objects.get_for_model(holding.model)
            about |= Q(content_type=content_type, object_id__in=ids)
    return LogEntry.objects.filter(about).update(object_repr="(erased)", change_message="")


# --- The registry ------------------------------------------------------------------

Groups = User.groups.through
Permissions = User.user_permissions.through

REGISTRY: list[Holding] = [
    Holding(
        model=Profile,
        rows=lambda user: Profile.objects.filter(user=user),
        erase=Delete(),
        section="profile",
        about="Your practice-manager profile: role, organisation, ICB, phone, "
        "and your consents (member directory and what it shows, marketing).",
    ),
    Holding(
        model=EmailAddress,
        rows=lambda user: EmailAddress.objects.filter(user=user),
        erase=Delete(),
        section="email_addresses",
        about="Your email addresses and whether each is verified.",
    ),
    Holding(
        model=EmailConfirmation,
        rows=lambda user: EmailConfirmation.objects.filter(email_address__user=user),
        erase=Delete(),
        not_exported="one-time confirmation keys, which are secrets",
    ),
    Holding(
        model=Authenticator,
        rows=lambda user: Authenticator.objects.filter(user=user),
        erase=Delete(),
        section="two_factor",
        about="Your two-factor methods and when they were last used (without their secrets).",
        exclude=frozenset({"data"}),
    ),
    Holding(
        model=Session,
        rows=_sessions,
        erase=Delete(),
        not_exported="sign-in sessions are security keys, not information about you",
    ),
    Holding(
        model=Groups,
        rows=lambda user: Groups.objects.filter(user=user),
        erase=Delete(),
        section="staff_groups",
        about="The staff teams your account belongs to, if any.",
    ),
    Holding(
        model=Permissions,
        rows=lambda user: Permissions.objects.filter(user=user),
        erase=Delete(),
        section="staff_permissions",
        about="Permissions given to your account directly, if any.",
    ),
    Holding(
        model=Membership,
        rows=lambda user: Membership.objects.filter(user=user),
        erase=Custom(_membership_end, "kept (number, grade, dates) and ended: status cancelled"),
        section="membership",
        about="Your membership: number, grade, status and expiry.",
    ),
    Holding(
        model=MembershipPeriod,
        rows=lambda user: MembershipPeriod.objects.filter(membership__user=user),
        erase=Keep("dates of each paid year, part of the payment record"),
        section="membership_periods",
        about="Each paid-up year of membership.",
    ),
    Holding(
        model=MembershipNotice,
        rows=lambda user: MembershipNotice.objects.filter(period__membership__user=user),
        erase=Keep("the kind and date of each reminder, nothing else"),
        section="membership_notices",
        about="Renewal reminders and notices sent to you.",
    ),
    Holding(
        model=Payment,
        rows=lambda user: Payment.objects.filter(Q(user=user) | Q(membership__user=user)),
        erase=Anonymise({"invoice_organisation": "", "invoice_purchase_order": ""}),
        section="payments",
        about="Your payments: amounts, methods, invoice and receipt numbers.",
    ),
    Holding(
        model=PaymentNotice,
        rows=lambda user: PaymentNotice.objects.filter(payment__membership__user=user),
        erase=Keep("the kind and date of each payment email, nothing else"),
        section="payment_notices",
        about="Emails sent to you about a payment (failed, refunded, being checked).",
    ),
    Holding(
        model=Refund,
        rows=lambda user: Refund.objects.filter(
            Q(payment__user=user) | Q(payment__membership__user=user)
        ),
        erase=Anonymise({"reason": ERASED_TEXT}),
        section="refunds",
        about="Refunds made on your payments.",
    ),
    Holding(
        model=StripeEvent,
        rows=_stripe_events,
        erase=Custom(
            _stripe_events_erase,
            "kept as the event id, type and checkout session; the rest of "
            "Stripe's copy (name, email, address) removed",
        ),
        section="stripe_events",
        about="What Stripe told the portal about your card payments.",
    ),
    Holding(
        model=Evidence,
        rows=lambda user: Evidence.objects.filter(
            Q(application__applicant=user) | Q(cpd_entry__user=user)
        ),
        erase=Delete(files=("file",)),
        section="evidence",
        about="Files you uploaded as evidence; the files are in files/evidence/.",
        files=("file",),
    ),
    Holding(
        model=Application,
        rows=lambda user: Application.objects.filter(applicant=user),
        erase=Custom(
            _applications_erase,
            "deleted, except one that earned a certificate, which is kept "
            "with its details and referees cleared",
        ),
        section="applications",
        about="Your accreditation applications, with referees and decisions.",
    ),
    Holding(
        model=Certificate,
        rows=lambda user: Certificate.objects.filter(holder=user),
        erase=Anonymise(
            {"holder_name": "", "on_public_register": False, "revoked_reason": ""},
            files=("pdf",),
        ),
        section="certificates",
        about="Your accreditation certificates; PDFs are in files/certificates/.",
        files=("pdf",),
    ),
    Holding(
        model=CertificateNotice,
        rows=lambda user: CertificateNotice.objects.filter(certificate__holder=user),
        erase=Keep("the kind and date of each reminder, nothing else"),
        section="certificate_notices",
        about="Certificate expiry reminders sent to you.",
    ),
    Holding(
        model=CpdEntry,
        rows=lambda user: CpdEntry.objects.filter(user=user),
        erase=Delete(),
        section="cpd",
        about="Your CPD log.",
    ),
    Holding(
        model=Registration,
        rows=_registrations,
        erase=Custom(
            _registrations_erase,
            "places at future events cancelled (freed for the waiting list); "
            "every registration kept for attendance counts with name, email, "
            "organisation, role and access and dietary needs removed",
        ),
        section="event_registrations",
        about="Your event registrations, including any made as a visitor with your email address.",
    ),
    Holding(
        model=RegistrationEmail,
        rows=lambda user: RegistrationEmail.objects.filter(registration__in=_registrations(user)),
        erase=Keep("the kind and date of each event email, nothing else"),
        section="event_emails",
        about="Emails sent to you about your event registrations.",
    ),
    Holding(
        model=DataExport,
        rows=lambda user: DataExport.objects.filter(user=user),
        erase=Delete(files=("file",)),
        not_exported="earlier copies of this archive",
    ),
    Holding(
        model=ErasureRequest,
        rows=lambda user: ErasureRequest.objects.filter(user=user),
        erase=Anonymise({"reason": ""}),
        section="erasure_requests",
        about="Your requests to delete your account and what staff decided.",
    ),
    Holding(
        model=AuditEntry,
        rows=lambda user: AuditEntry.objects.filter(Q(subject=user) | Q(actor=user)),
        erase=Custom(
            _audit_erase,
            "kept (who acted, when, what, from and to); reasons and details "
            "about the member cleared, their email address replaced where they acted",
        ),
        section="audit_trail",
        about="The audit trail of changes to your records, and changes you made.",
        redact=_audit_redact,
    ),
    Holding(
        model=LogEntry,
        rows=_admin_log,
        erase=Custom(
            _admin_log_erase,
            "kept as a history of staff changes; the names of the member's records removed",
        ),
        section="admin_log",
        about="Changes staff made to your account in the admin, and admin changes you made.",
        redact=_admin_log_redact,
    ),
    Holding(
        model=User,
        rows=lambda user: User.objects.filter(pk=user.pk),
        erase=Custom(
            _user_anonymise,
            "kept so payments and certificates still point somewhere; name "
            "cleared, email replaced by a placeholder, password unusable, "
            "signed out and deactivated",
        ),
        section="account",
        about="Your account: name, email address, when you joined and last "
        "signed in (your password is never stored, only a one-way hash, "
        "which is left out).",
        exclude=frozenset({"password"}),
    ),
]


def holding_for(label: str) -> Holding:
    return next(holding for holding in REGISTRY if holding.label == label)


def personal_models_uncovered(registry: list[Holding] | None = None) -> list[str]:
    """Models that can hold a member's data but are neither in ``registry``
    nor in ``NOT_PERSONAL``.

    A model can hold a member's data when a foreign key or one-to-one
    field leads from it to the user, directly or through other such models
    (Evidence to Application to User), or when it has an email or JSON
    field (a visitor's registration, a payment provider's payload).
    """
    from django.db.models import EmailField, JSONField

    registry = REGISTRY if registry is None else registry
    every = apps.get_models(include_auto_created=True)
    reaching = {User}
    grew = True
    while grew:
        grew = False
        for model in every:
            if model in reaching:
                continue
            if any(
                field.concrete
                and (field.many_to_one or field.one_to_one)
                and field.related_model in reaching
                for field in model._meta.get_fields()
            ):
                reaching.add(model)
                grew = True
    for model in every:
        if any(isinstance(field, EmailField | JSONField) for field in model._meta.fields):
            reaching.add(model)
    covered = {holding.label for holding in registry} | set(NOT_PERSONAL)
    return sorted(model._meta.label for model in reaching if model._meta.label not in covered)
