from dataclasses import dataclass, field

from django.db.models import Q
from django.shortcuts import get_object_or_404

from .models import (
    AuditEntry,
    CareBoard,
    Membership,
    Payment,
    Profile,
    User,
)


@dataclass(frozen=True)
class Completeness:
    """How much of a member's profile is filled in.

    ``missing`` names the required details still to give; ``percent`` also
    counts the optional ones, so a member sees what more they could add.
    """

    percent: int
    missing: list[str] = field(default_factory=list)
    optional_missing: list[str] = field(default_factory=list)

    @property
    def is_complete(self) -> bool:
        return not self.missing


def profile_get(*, user: User) -> Profile | None:
    """The user's profile with its board, or None before the first save."""
    if not user.is_authenticated:
        return None
    try:
        return Profile.objects.select_related("care_board").get(user=user)
    except Profile.DoesNotExist:
        return None


def profile_completeness(*, user: User, profile: Profile | None = None) -> Completeness:
    if profile is None:
        profile = profile_get(user=user)
    required = {
        "first name": user.first_name,
        "last name": user.last_name,
        "job title": profile and profile.job_title,
        "role": profile and profile.role,
        "organisation": profile and profile.organisation_name,
        "ICB or health board": profile and profile.care_board_id,
        "years in role": profile is not None and profile.years_in_role is not None,
    }
    if profile is not None and profile.needs_ods_code:
        required["practice ODS code"] = profile.ods_code
    optional = {
        "phone number": profile and profile.phone,
        "primary care network (PCN)": profile and profile.pcn_name,
    }
    every = {**required, **optional}
    filled = sum(1 for value in every.values() if value)
    return Completeness(
        percent=round(100 * filled / len(every)),
        missing=[name for name, value in required.items() if not value],
        optional_missing=[name for name, value in optional.items() if not value],
    )


def care_board_choices() -> list[tuple[str, list[tuple[int, str]]]]:
    """Active boards grouped by nation, for a select with optgroups."""
    groups: dict[str, list[tuple[int, str]]] = {}
    labels = dict(CareBoard.Nation.choices)
    for board in CareBoard.objects.filter(is_active=True).order_by("nation", "name"):
        groups.setdefault(labels[board.nation], []).append((board.pk, board.name))
    order = [label for _, label in CareBoard.Nation.choices]
    return [(nation, groups[nation]) for nation in order if nation in groups]


def membership_get(*, user: User) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("grade").filter(user=user).first()


def payments_for_member(*, user: User) -> list[Payment]:
    """The member's own payments, newest first, with what the templates show."""
    return list(
        Payment.objects.filter(membership__user=user)
        .select_related("grade")
        .order_by("-created_at", "-pk")
    )


def payment_visible_to(*, payment_id: int, user: User) -> Payment | None:
    """A payment the user may see: their own, or any for membership staff."""
    payments = Payment.objects.select_related(
        "membership__user", "grade", "user", "invoice_replaced_by"
    )
    if not user.has_perm("members.manage_memberships"):
        payments = payments.filter(membership__user=user)
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
        .select_related("membership__user", "grade")
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


def directory_search(*, query: str = "", care_board_id: int | None = None, role: str = ""):
    """Members in good standing who chose to be listed, with the fields they
    chose to show (the template shows only those)."""
    listed = Profile.objects.filter(
        show_in_directory=True,
        user__is_active=True,
        user__membership__status__in=Membership.IN_GOOD_STANDING,
    ).select_related("user", "care_board")
    if query:
        for word in query.split()[:4]:
            listed = listed.filter(
                Q(user__first_name__icontains=word) | Q(user__last_name__icontains=word)
            )
    if care_board_id:
        listed = listed.filter(care_board_id=care_board_id)
    if role in Profile.Role.values:
        listed = listed.filter(role=role)
    return listed.order_by("user__last_name", "user__first_name", "pk")


def payments_needing_attention() -> list[Payment]:
    """The membership team's queue: every payment flagged and not yet
    resolved, oldest first, with what each row shows (member, grade, the
    emails sent about it) in a fixed number of queries."""
    return list(
        Payment.objects.filter(attention_resolved_at__isnull=True)
        .exclude(attention_reason="")
        .select_related("membership__user", "grade")
        .prefetch_related("notices")
        .order_by("attention_since", "pk")
    )


def payments_needing_attention_count() -> int:
    return (
        Payment.objects.filter(attention_resolved_at__isnull=True)
        .exclude(attention_reason="")
        .count()
    )
