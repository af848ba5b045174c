"""Reads for the staff back office: the staff home's counts, finding a
member, a member's whole record, and the audit trail. Each is a fixed number of queries, however
much a member has done or however many members there are."""

import datetime
import re
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from igpm.search import word_lookup
from members.models import (
    AuditEntry,
    AutoRenewal,
    Membership,
    MembershipPeriod,
    OrganisationAdministrator,
    Payment,
    SeatHolding,
    User,
)
from members.panels import RECORD_PANELS, ShownPanel, panels_load
from members.reports.collection import CollectionState

MEMBERSHIP_NUMBER = re.compile(r"^(?:IGPM-?)?(\d{1,9})$", re.IGNORECASE)
ODS_CODE = re.compile(r"^[A-Z]\d{5}$", re.IGNORECASE)


@dataclass(frozen=True)
class StaffOverview:
    accounts: int
    verified: int
    with_profile: int
    joined_last_30_days: int
    staff_without_mfa: int


def staff_overview() -> StaffOverview:
    """Headline counts for the staff home page, in one query."""
    since = timezone.now() - timezone.timedelta(days=30)
    member = Q(is_staff=False)
    totals = User.objects.aggregate(
        accounts=Count("pk", filter=member, distinct=True),
        verified=Count("pk", filter=member & Q(emailaddress__verified=True), distinct=True),
        with_profile=Count("pk", filter=member & Q(profile__isnull=False), distinct=True),
        recent=Count("pk", filter=member & Q(date_joined__gte=since), distinct=True),
        staff_without_mfa=Count(
            "pk", filter=Q(is_staff=True, authenticator__isnull=True), distinct=True
        ),
    )
    return StaffOverview(
        accounts=totals["accounts"],
        verified=totals["verified"],
        with_profile=totals["with_profile"],
        joined_last_30_days=totals["recent"],
        staff_without_mfa=totals["staff_without_mfa"],
    )


def organisation_people(*, ods_code: str) -> Q:
    """People holding a current seat of, or administering, the organisation
    account with ``ods_code`` (members/organisations)."""
    seats = SeatHolding.objects.filter(
        user=OuterRef("pk"),
        released_on__isnull=True,
        organisation_membership__account__ods_code=ods_code,
    )
    roles = OrganisationAdministrator.objects.filter(
        user=OuterRef("pk"), account__ods_code=ods_code
    )
    return Q(Exists(seats)) | Q(Exists(roles))


def member_search(
    *, query: str = "", care_board_id: int | None = None, status: str = ""
) -> QuerySet[User]:
    """Member accounts matching ``query``: a membership number (IGPM-000123
    or 123), a practice ODS code (A81001), an email address or part of one,
    or words of a name (a word of one or two characters starts a name or
    email). Staff accounts are not members and are not listed. Members
    whose surname starts with a word of the search come first: "smith"
    lists the Smiths before the Goldsmiths.

    A page of them is best read as its primary keys and then
    ``members_listed``."""
    found = User.objects.filter(is_staff=False)
    first = []  # Ordered ahead of the rest.
    query = query.strip()
    if number := MEMBERSHIP_NUMBER.match(query):
        found = found.filter(membership__number=f"IGPM-{int(number.group(1)):06d}")
    elif ODS_CODE.match(query):
        # Their practice, or an organisation they hold a seat of or run.
        found = found.filter(
            Q(profile__ods_code=query.upper()) | organisation_people(ods_code=query.upper())
        )
    elif "@" in query:
        found = found.filter(email__icontains=query)
    elif query:
        # "Smith, John" as NHS systems write names: the comma is no part of one.
        words = query.replace(",", " ").split()[:4]
        surname_starts = Q()
        for word in words:
            found = found.filter(word_lookup(word, "first_name", "last_name", "email"))
            surname_starts |= Q(last_name__istartswith=word)
        first = [Case(When(surname_starts, then=0), default=1)]
    if care_board_id:
        found = found.filter(profile__care_board_id=care_board_id)
    if status == "none":
        found = found.filter(membership__isnull=True)
    elif status in Membership.Status.values:
        found = found.filter(membership__status=status)
    return found.order_by(*first, "last_name", "first_name", "pk")


def members_listed(ids: list[int]) -> list[User]:
    """The members ``ids`` names, in that order, with their profiles and
    memberships as the search results show them.

    Read by primary key once the page is known, PostgreSQL joins the
    profiles and memberships of those rows alone. Joined in the search
    itself, PostgreSQL may join every match before sorting: for "sarah",
    941 of 100,000 members, 35 ms rather than 4 for the page's keys and
    rows (``benchmarks/member_search.py``)."""
    found = User.objects.select_related("profile__care_board", "membership__grade").in_bulk(ids)
    # Anyone deleted since the search is gone from the page, not an error.
    return [found[pk] for pk in ids if pk in found]


@dataclass
class MemberRecord:
    member: User
    periods: list
    payments: list
    erasure_requests: list
    # Each app's part of the record (``members.panels``).
    panels: list[ShownPanel]
    # How the membership is paid: its latest automatic renewal, if any.
    auto_renewal: AutoRenewal | None = None

    @property
    def collection(self) -> CollectionState:
        return CollectionState.of(self.auto_renewal)

    @property
    def profile(self):
        return getattr(self.member, "profile", None)

    @property
    def membership(self) -> Membership | None:
        return getattr(self.member, "membership", None)


def member_record(*, user_id: int) -> MemberRecord:
    """Everything the portal holds about one member, for staff: members'
    own records, then each app's panel."""
    member = get_object_or_404(
        User.objects.filter(is_staff=False).select_related(
            "profile__care_board",
            "profile__practice__pcn",
            "profile__practice__icb",
            "membership__grade",
        ),
        pk=user_id,
    )
    return MemberRecord(
        member=member,
        periods=list(
            MembershipPeriod.objects.filter(membership__user=member)
            .select_related("grade")
            .order_by("-starts_on", "-pk")
        ),
        payments=list(
            Payment.objects.filter(membership__user=member)
            .select_related("grade")
            .prefetch_related("refunds")
            .order_by("-created_at", "-pk")
        ),
        erasure_requests=list(member.erasure_requests.order_by("-requested_at", "-pk")),
        panels=panels_load(RECORD_PANELS, member=member),
        auto_renewal=AutoRenewal.objects.filter(membership__user=member)
        .order_by("-created_at", "-pk")
        .first(),
    )


def member_timeline(*, member: User) -> QuerySet[AuditEntry]:
    """Every audited change about the member, newest first."""
    return AuditEntry.objects.filter(subject=member).order_by("-created_at", "-pk")


def audit_trail(
    *,
    actor: str = "",
    action: str = "",
    target_type: str = "",
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> QuerySet[AuditEntry]:
    """The whole audit trail, newest first, narrowed by the filters given."""
    entries = AuditEntry.objects.select_related("subject")
    if actor:
        entries = entries.filter(actor_label__icontains=actor)
    if action:
        entries = entries.filter(action=action)
    if target_type:
        entries = entries.filter(target_type=target_type)
    # Whole days in Europe/London, as ranges the created_at index can serve.
    if since:
        entries = entries.filter(created_at__gte=_start_of(since))
    if until and until < datetime.date.max:  # The last day there is ends nothing.
        entries = entries.filter(created_at__lt=_start_of(until + datetime.timedelta(days=1)))
    return entries.order_by("-created_at", "-pk")


def audit_filter_choices() -> tuple[list[str], list[str]]:
    """The actions and record types the trail holds, for the filters;
    cached, since reading them scans the table."""

    def read():
        distinct = AuditEntry.objects.order_by().distinct()
        return (
            sorted(distinct.values_list("action", flat=True)),
            sorted(distinct.values_list("target_type", flat=True)),
        )

    return cache.get_or_set("members:audit-filter-choices", read, timeout=600)


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
