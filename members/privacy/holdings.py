"""What members holds about a member: the account, its sign-in records,
the profile, the membership and its payments (registered first), and the
records about the account, which erasure changes once every other app has
finished with them (registered last)."""

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils import timezone

from members.billing.services.stripe_webhooks import stripe_event_kept
from members.models import (
    AuditEntry,
    AutoRenewal,
    CollectionNotice,
    DataExport,
    ErasureRequest,
    InvoiceEmail,
    Membership,
    MembershipNotice,
    MembershipPeriod,
    Payment,
    PaymentNotice,
    Profile,
    Refund,
    RefundIntent,
    Session,
    StripeEvent,
    User,
)

from .actions import ERASED_TEXT, Anonymise, Custom, Delete, Erasing, Keep, erased_email
from .registry import NOT_PERSONAL, REGISTRY, Holding, register

# --- Finding the member's rows ------------------------------------------------


def _admin_log(user: User) -> QuerySet:
    """Admin changes made by the member (staff) or to their account."""
    account = ContentType.objects.get_for_model(User)
    return LogEntry.objects.filter(Q(user=user) | Q(content_type=account, object_id=str(user.pk)))


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


_AUTO_RENEWAL_CLEARED = {
    "card_brand": "",
    "card_last4": "",
    "card_exp_month": None,
    "card_exp_year": None,
    "mandate_reference": "",
    "bank_last4": "",
    "last_failure_message": "",
    "checkout_url": "",
}


def _auto_renewals_erase(rows: QuerySet, erasing: Erasing) -> int:
    """Nothing more is collected from an erased member: live arrangements
    end, and their subscriptions are cancelled at Stripe once the erasure
    commits. What identifies the card or bank account goes."""
    from members.billing.tasks import auto_renewal_subscription_cancel_task

    live = rows.exclude(status=AutoRenewal.Status.ENDED)
    for subscription_id in live.exclude(stripe_subscription_id__isnull=True).values_list(
        "stripe_subscription_id", flat=True
    ):
        auto_renewal_subscription_cancel_task.delay_on_commit(subscription_id)
    now = timezone.now()
    live.update(
        status=AutoRenewal.Status.ENDED,
        end_reason=AutoRenewal.EndReason.MEMBERSHIP_ENDED,
        ended_at=now,
        next_collection_on=None,
    )
    return rows.update(**_AUTO_RENEWAL_CLEARED, updated_at=now)


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

register(
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
        rows=lambda user: Session.objects.filter(user=user),
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
        erase=Anonymise(
            {
                "invoice_organisation": "",
                "invoice_purchase_order": "",
                "invoice_address": "",
                "invoice_accounts_email": "",
            }
        ),
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
        model=InvoiceEmail,
        rows=lambda user: InvoiceEmail.objects.filter(
            Q(payment__user=user) | Q(payment__membership__user=user)
        ),
        erase=Anonymise({"recipients": []}),
        section="invoice_emails",
        about="Each time an invoice was emailed, and to which addresses.",
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
        model=RefundIntent,
        rows=lambda user: RefundIntent.objects.filter(
            Q(payment__user=user) | Q(payment__membership__user=user)
        ),
        erase=Anonymise({"reason": ERASED_TEXT}),
        section="refund_intents",
        about="Refunds the membership team asked Stripe for on your payments.",
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
        model=AutoRenewal,
        rows=lambda user: AutoRenewal.objects.filter(membership__user=user),
        erase=Custom(
            _auto_renewals_erase,
            "ended, with their subscriptions cancelled at Stripe; kept; cleared: "
            + ", ".join(name.replace("_", " ") for name in sorted(_AUTO_RENEWAL_CLEARED)),
        ),
        section="auto_renewals",
        about=(
            "Automatic renewal of your membership: card or Direct Debit, its state, the "
            "next collection, and how you pay (card brand, last four digits and expiry, or "
            "the Direct Debit reference), never the full number."
        ),
    ),
    Holding(
        model=CollectionNotice,
        rows=lambda user: CollectionNotice.objects.filter(auto_renewal__membership__user=user),
        erase=Keep("the kind, date and amount of each collection email, nothing else"),
        section="collection_notices",
        about="Emails sent to you about automatic collections (coming up, failed, stopped).",
    ),
)

register(
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
    last=True,
)

# Counts by day of the membership's paid years, for the staff reports: what
# its MembershipPeriod rows (kept on erasure) already say, and nothing more.
NOT_PERSONAL["members.MembershipFigures"] = "report counts derived from the kept paid years"
