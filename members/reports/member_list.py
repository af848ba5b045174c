"""The member list for the membership team: every membership with its
member's details, streamed a chunk of rows at a time."""

from django.db.models import OuterRef, Subquery

from members.models import Membership, MembershipPeriod, Profile

from .collection import CollectionState, latest_renewal_json
from .membership import NATIONS, Status

MEMBER_EXPORT_HEADER = [
    "membership number",
    "first name",
    "last name",
    "email",
    "grade",
    "status",
    "member since",
    "expires on",
    "ICB or health board",
    "nation",
    "NHS England region",
    "organisation",
    "practice ODS code",
    "PCN",
    "role",
    "job title",
    "collection method",
    "automatic renewal",
    "Direct Debit mandate",
    "next collection on",
    "last collection failure",
]


def member_export_rows(*, chunk_size: int = 2000):
    """Every membership, any status, as rows for ``MEMBER_EXPORT_HEADER``,
    read from the database ``chunk_size`` at a time so memory stays flat.
    "Member since" is the first day of the first paid year. The collection
    columns come from the latest automatic renewal (``collection.py``)."""
    statuses = dict(Status.choices)
    roles = dict(Profile.Role.choices)
    first_year = (
        MembershipPeriod.objects.filter(membership=OuterRef("pk"))
        .order_by("starts_on")
        .values("starts_on")[:1]
    )
    rows = (
        Membership.objects.annotate(
            member_since=Subquery(first_year), renewal=latest_renewal_json()
        )
        .order_by("pk")
        .values_list(
            "number",
            "user__first_name",
            "user__last_name",
            "user__email",
            "grade__name",
            "status",
            "member_since",
            "expires_on",
            "user__profile__care_board__name",
            "user__profile__care_board__nation",
            "user__profile__care_board__region",
            "user__profile__organisation_name",
            "user__profile__ods_code",
            "user__profile__pcn_name",
            "user__profile__role",
            "user__profile__job_title",
            "renewal",
        )
    )
    for row in rows.iterator(chunk_size=chunk_size):
        (number, first, last, email, grade, status, since, expires, board, nation) = row[:10]
        yield [
            number or "",
            first,
            last,
            email,
            grade,
            statuses.get(status, status),
            since.isoformat() if since else "",
            expires.isoformat() if expires else "",
            board,
            NATIONS.get(nation, nation),
            *row[10:14],
            roles.get(row[14], row[14]),
            row[15],
            *_collection_columns(CollectionState.from_json(row[16])),
        ]


def _collection_columns(state: CollectionState) -> list[str]:
    return [
        state.method_label,
        state.status_label,
        state.mandate_label,
        state.next_collection_on.isoformat()
        if state.renews_automatically and state.next_collection_on
        else "",
        state.last_failure_label,
    ]
