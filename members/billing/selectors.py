"""Billing's reads: a member's membership and payments, the approvals
queue, outstanding invoices, what marking an invoice paid would do, the
staff membership record and the needs-attention queue."""

from django.shortcuts import get_object_or_404

from members.authentication import read_with_user
from members.models import AuditEntry, AutoRenewal, Membership, Payment, User


def membership_get(*, user: User) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("grade").filter(user=user).first()


def membership_as_signed_in(*, user: User) -> Membership | None:
    """The membership and its grade as they were read with the signed-in
    user, as the request began (``members.authentication``), for a page
    that changes nothing; ``membership_get`` reads them afresh."""
    return read_with_user(user, "membership", membership_get)


def auto_renewal_live(membership: Membership | None) -> AutoRenewal | None:
    """The membership's automatic renewal that has not ended (at most one:
    a database constraint), or None."""
    if membership is None:
        return None
    return (
        AutoRenewal.objects.filter(membership=membership)
        .exclude(status=AutoRenewal.Status.ENDED)
        .select_related("grade")
        .first()
    )


def payments_for_member(*, user: User, limit: int | None = None) -> list[Payment]:
    """The member's own payments, newest first (the first ``limit``, if
    given), with what the templates show."""
    payments = (
        Payment.objects.filter(membership__user=user)
        .select_related("grade")
        .order_by("-created_at", "-pk")
    )
    return list(payments[:limit] if limit is not None else payments)


def payment_visible_to(*, payment_id: int, user: User) -> Payment | None:
    """A payment the user may see: their own, or any for membership staff."""
    payments = Payment.objects.select_related(
        "membership__user", "grade", "user", "invoice_replaced_by"
    )
    if not user.has_perm("members.manage_memberships"):
        payments = payments.filter(membership__user=user)
    # An organisation's payments have their own pages (members/organisations).
    payments = payments.filter(membership__isnull=False)
    return payments.filter(pk=payment_id).first()


def approvals_queue() -> list[Membership]:
    """Applications waiting for a decision, oldest first."""
    return list(
        Membership.objects.filter(status=Membership.Status.PENDING_APPROVAL)
        .select_related("user__profile__care_board", "grade")
        .order_by("updated_at", "pk")
    )


def invoices_outstanding() -> list[Payment]:
    """Invoices issued and not yet paid, oldest first."""
    return list(
        Payment.objects.filter(method=Payment.Method.INVOICE, status=Payment.Status.PENDING)
        .select_related("membership__user", "grade", "organisation_membership__account")
        .order_by("created_at", "pk")
    )


def invoice_mark_paid_preview(*, payment: Payment) -> dict:
    """What marking this invoice paid would do, for the confirmation page:
    the open payments it would cancel, a later payment that already bought
    the year (which stops it)."""
    payment = Payment.objects.select_related(
        "membership__user", "membership__grade", "grade", "invoice_replaced_by"
    ).get(pk=payment.pk)
    others = Payment.objects.filter(membership_id=payment.membership_id).exclude(pk=payment.pk)
    return {
        "payment": payment,
        "membership": payment.membership,
        "to_cancel": list(others.filter(status=Payment.Status.PENDING)),
        "later_paid": others.filter(
            paid_at__gte=payment.created_at,
            status__in=(
                Payment.Status.PAID,
                Payment.Status.PARTIALLY_REFUNDED,
                Payment.Status.REFUNDED,
            ),
        )
        .order_by("paid_at")
        .first(),
    }


def membership_record(*, membership_id: int) -> Membership:
    """A membership with its payments, periods and audit trail, for staff."""
    membership = get_object_or_404(
        Membership.objects.select_related("user", "grade"), pk=membership_id
    )
    membership.payment_list = list(
        membership.payments.select_related("grade", "invoice_replaced_by").prefetch_related(
            "refunds"
        )
    )
    membership.period_list = list(membership.periods.order_by("-starts_on"))
    membership.audit_list = list(
        AuditEntry.objects.filter(subject=membership.user).select_related("actor")[:100]
    )
    return membership


def payments_needing_attention() -> list[Payment]:
    """The membership team's queue: every payment flagged and not yet
    resolved, oldest first, with what each row shows (member, grade, the
    emails sent about it) in a fixed number of queries."""
    return list(
        Payment.objects.filter(attention_resolved_at__isnull=True)
        .exclude(attention_reason="")
        .select_related("membership__user", "grade", "organisation_membership__account")
        .prefetch_related("notices")
        .order_by("attention_since", "pk")
    )


def payments_needing_attention_count() -> int:
    return (
        Payment.objects.filter(attention_resolved_at__isnull=True)
        .exclude(attention_reason="")
        .count()
    )
