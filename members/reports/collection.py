"""How members pay, for the membership team: each membership's collection
method and the state of its automatic renewal, in words a person reads at a
glance, for the member record, the member list CSV and the reports.

A membership's automatic renewal state is its latest ``AutoRenewal`` row
(at most one is live; ended ones stay as the record of what happened).
"""

import datetime
from dataclasses import dataclass

from django.db.models import Count, JSONField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import JSONObject

from members.billing.models.auto_renewal import AutoRenewal
from members.billing.models.membership import format_pence
from members.models import Membership

from .period import month_start, uk_midnight

Method = AutoRenewal.Method
RenewalStatus = AutoRenewal.Status
Mandate = AutoRenewal.Mandate

PAYS_EACH_YEAR = "Pays each year"
MANDATE_WORDS = {
    Mandate.PENDING: "Pending",
    Mandate.ACTIVE: "Active",
    Mandate.INACTIVE: "Revoked or failed",
}


@dataclass(frozen=True)
class CollectionState:
    """One membership's way of paying, from its latest automatic renewal."""

    method: str = ""  # AutoRenewal.Method, or "" for none
    status: str = ""  # AutoRenewal.Status, or "" for none
    mandate: str = ""
    next_collection_on: datetime.date | None = None
    next_amount_pence: int | None = None
    last_failure_at: datetime.datetime | None = None
    last_failure_message: str = ""
    end_reason: str = ""
    card_brand: str = ""
    card_last4: str = ""
    mandate_reference: str = ""

    @classmethod
    def of(cls, renewal: AutoRenewal | None) -> "CollectionState":
        if renewal is None:
            return cls()
        return cls(
            method=renewal.method,
            status=renewal.status,
            mandate=renewal.mandate_status,
            next_collection_on=renewal.next_collection_on,
            next_amount_pence=renewal.next_amount_pence,
            last_failure_at=renewal.last_failure_at,
            last_failure_message=renewal.last_failure_message,
            end_reason=renewal.end_reason,
            card_brand=renewal.card_brand,
            card_last4=renewal.card_last4,
            mandate_reference=renewal.mandate_reference,
        )

    @classmethod
    def from_json(cls, data: dict | None) -> "CollectionState":
        """From ``latest_renewal_json()``'s value for a row."""
        if not data:
            return cls()

        def day(value):
            return datetime.date.fromisoformat(value[:10]) if value else None

        def moment(value):
            return datetime.datetime.fromisoformat(value) if value else None

        return cls(
            method=data["method"],
            status=data["status"],
            mandate=data["mandate"] or "",
            next_collection_on=day(data["next_on"]),
            next_amount_pence=data["amount"],
            last_failure_at=moment(data["failed_at"]),
            last_failure_message=data["failure"] or "",
            end_reason=data["end_reason"] or "",
        )

    @property
    def renews_automatically(self) -> bool:
        """Another collection is coming (including one being retried)."""
        return self.status in (RenewalStatus.ACTIVE, RenewalStatus.PAST_DUE)

    @property
    def method_label(self) -> str:
        """ "Automatic renewal by card" / "... by Direct Debit" while one is
        live, else "Pays each year"."""
        if self.status and self.status != RenewalStatus.ENDED:
            by = "card" if self.method == Method.CARD else "Direct Debit"
            return f"Automatic renewal by {by}"
        return PAYS_EACH_YEAR

    @property
    def status_label(self) -> str:
        """ "Off" when there was never one; "Ended: <why>" when it ended."""
        if not self.status:
            return "Off"
        if self.status == RenewalStatus.ENDED:
            reason = AutoRenewal.EndReason(self.end_reason).label if self.end_reason else ""
            return f"Ended: {reason.lower()}" if reason else "Ended"
        return RenewalStatus(self.status).label

    @property
    def mandate_label(self) -> str:
        if self.method != Method.BACS_DEBIT:
            return ""
        return MANDATE_WORDS.get(self.mandate, "Not set up")

    @property
    def last_failure_label(self) -> str:
        if self.last_failure_at is None:
            return ""
        when = self.last_failure_at.date().isoformat()
        return f"{when}: {self.last_failure_message}" if self.last_failure_message else when


def latest_renewal_json(membership_ref: str = "pk") -> Subquery:
    """A subquery for each membership's latest automatic renewal as one
    JSON object: a single look-up by the (membership) index per row, for
    lists that must stay one query."""
    latest = AutoRenewal.objects.filter(membership=OuterRef(membership_ref)).order_by(
        "-created_at", "-pk"
    )
    return Subquery(
        latest.values(
            data=JSONObject(
                method="method",
                status="status",
                mandate="mandate_status",
                next_on="next_collection_on",
                amount="next_amount_pence",
                failed_at="last_failure_at",
                failure="last_failure_message",
                end_reason="end_reason",
            )
        )[:1],
        output_field=JSONField(),
    )


# --- Figures for the reports page ------------------------------------------------


@dataclass(frozen=True)
class MethodRow:
    label: str
    members: int


@dataclass(frozen=True)
class DueRow:
    method: str
    within_30: int
    within_60: int
    amount_30_pence: int
    amount_60_pence: int

    @property
    def amount_30_display(self) -> str:
        return format_pence(self.amount_30_pence)

    @property
    def amount_60_display(self) -> str:
        return format_pence(self.amount_60_pence)


@dataclass(frozen=True)
class FailedRow:
    user_id: int
    name: str
    number: str
    method: str
    failed_at: datetime.datetime
    message: str
    state: str


# The failed collections table shows this many; the CSV has them all.
FAILED_SHOWN = 50


def method_rows() -> tuple[list[MethodRow], int, int]:
    """Members in good standing by how they pay; with how many Direct
    Debit mandates are still pending and how many renewals are retrying a
    failed collection. Two queries."""
    good = [Membership.Status.ACTIVE, Membership.Status.IN_GRACE]
    members = Membership.objects.filter(status__in=good).count()
    counts: dict[tuple[str, str], int] = {}
    pending = 0
    for method, status, mandate, n in (
        AutoRenewal.objects.filter(membership__status__in=good)
        .exclude(status=RenewalStatus.ENDED)
        .values_list("method", "status", "mandate_status")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[method, status] = counts.get((method, status), 0) + n
        if mandate == Mandate.PENDING:
            pending += n
    collecting = (RenewalStatus.ACTIVE, RenewalStatus.PAST_DUE)
    card = sum(counts.get((Method.CARD, status), 0) for status in collecting)
    debit = sum(counts.get((Method.BACS_DEBIT, status), 0) for status in collecting)
    stopping = sum(n for (_, status), n in counts.items() if status == RenewalStatus.STOPPING)
    retrying = sum(n for (_, status), n in counts.items() if status == RenewalStatus.PAST_DUE)
    rows = [
        MethodRow("Automatic renewal by card", card),
        MethodRow("Automatic renewal by Direct Debit", debit),
        MethodRow("Automatic renewal stopped (pays by hand from next year)", stopping),
        MethodRow(PAYS_EACH_YEAR, members - card - debit - stopping),
    ]
    return rows, pending, retrying


def due_rows(*, today: datetime.date) -> list[DueRow]:
    """Automatic collections due in the next 30 and 60 days, by method,
    with what they will collect. One query."""
    within_30 = Q(next_collection_on__lte=today + datetime.timedelta(days=30))
    found = {
        method: (n30, n60, a30 or 0, a60 or 0)
        for method, n30, n60, a30, a60 in AutoRenewal.objects.filter(
            status__in=[RenewalStatus.ACTIVE, RenewalStatus.PAST_DUE],
            next_collection_on__gte=today,
            next_collection_on__lte=today + datetime.timedelta(days=60),
        )
        .values_list("method")
        .annotate(
            n30=Count("pk", filter=within_30),
            n60=Count("pk"),
            a30=Sum("next_amount_pence", filter=within_30),
            a60=Sum("next_amount_pence"),
        )
        .order_by()
    }
    return [
        DueRow(method.label, *found.get(method.value, (0, 0, 0, 0)))
        for method in (Method.CARD, Method.BACS_DEBIT)
    ]


def failed_this_month(*, today: datetime.date):
    """Automatic renewals whose latest collection failed this month,
    latest first: a queryset, for the page (the first ``FAILED_SHOWN``)
    and the CSV (all)."""
    return (
        AutoRenewal.objects.filter(
            last_failure_at__gte=uk_midnight(month_start(today)),
            # A member's; an organisation's failures go to its
            # administrators and its staff page.
            membership__isnull=False,
        )
        .select_related("membership__user")
        .order_by("-last_failure_at", "-pk")
    )


def failed_row(renewal: AutoRenewal) -> FailedRow:
    user = renewal.membership.user
    return FailedRow(
        user_id=user.pk,
        name=user.get_full_name() or user.email,
        number=renewal.membership.number or "",
        method=renewal.get_method_display(),
        failed_at=renewal.last_failure_at,
        message=renewal.last_failure_message,
        state=CollectionState.of(renewal).status_label,
    )


def failed_rows(*, today: datetime.date) -> tuple[list[FailedRow], int]:
    """The first ``FAILED_SHOWN`` failed collections and how many in all."""
    failed = failed_this_month(today=today)
    return [failed_row(renewal) for renewal in failed[:FAILED_SHOWN]], failed.count()
