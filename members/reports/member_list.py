"""The member list for the membership team: every membership with its
member's details, streamed a chunk of rows at a time.

The download is written by PostgreSQL (``member_export_sql`` through
``igpm.csv.csv_copy_stream``); ``member_export_rows`` gives the same cells
as Python values, a row at a time."""

from django.db import connection
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce

from igpm.csv import formula_safe_sql
from members.models import Membership, MembershipPeriod, Profile

from .collection import (
    MANDATE_WORDS,
    PAYS_EACH_YEAR,
    AutoRenewal,
    CollectionState,
    Method,
    RenewalStatus,
    latest_renewal_json,
)
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


def _first_year():
    return (
        MembershipPeriod.objects.filter(membership=OuterRef("pk"))
        .order_by("starts_on")
        .values("starts_on")[:1]
    )


def member_export_rows(*, chunk_size: int = 2000):
    """Every membership, any status, as rows for ``MEMBER_EXPORT_HEADER``,
    read from the database ``chunk_size`` at a time so memory stays flat.
    "Member since" is the first day of the first paid year. The collection
    columns come from the latest automatic renewal (``collection.py``)."""
    statuses = dict(Status.choices)
    roles = dict(Profile.Role.choices)
    rows = (
        Membership.objects.annotate(
            member_since=Subquery(_first_year()),
            # The PCN of the member's practice in the NHS data, else as typed.
            pcn=Coalesce("user__profile__practice__pcn__name", "user__profile__pcn_name"),
            renewal=latest_renewal_json(),
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
            "pcn",
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


def member_export_sql() -> str:
    """The rows of ``member_export_rows`` as one SELECT, every label, date
    and formula guard worked out by PostgreSQL, for ``COPY ... TO STDOUT``.
    The first paid year and the latest automatic renewal are joined once
    for all memberships rather than looked up a membership at a time. The
    labels come from the same choices and words as the Python rows."""
    ended = _text(RenewalStatus.ENDED)
    collecting = f"{_text(RenewalStatus.ACTIVE)}, {_text(RenewalStatus.PAST_DUE)}"
    end_reasons = {
        reason.value: f"Ended: {reason.label.lower()}"
        for reason in AutoRenewal.EndReason
        if reason.value
    }
    collection_columns = [
        # "Automatic renewal by ..." while one is live, else "Pays each year".
        f"CASE WHEN r.status NOT IN ('', {ended}) THEN "
        f"CASE WHEN r.method = {_text(Method.CARD)} "
        f"THEN {_text('Automatic renewal by card')} "
        f"ELSE {_text('Automatic renewal by Direct Debit')} END "
        f"ELSE {_text(PAYS_EACH_YEAR)} END",
        f"CASE WHEN COALESCE(r.status, '') = '' THEN {_text('Off')} "
        f"WHEN r.status = {ended} THEN "
        f"{_labelled('r.end_reason', end_reasons, otherwise=_text('Ended'))} "
        f"ELSE {_labelled('r.status', dict(RenewalStatus.choices))} END",
        f"CASE WHEN r.method = {_text(Method.BACS_DEBIT)} THEN "
        f"{_labelled('r.mandate_status', MANDATE_WORDS, otherwise=_text('Not set up'))} END",
        f"CASE WHEN r.status IN ({collecting}) "
        "THEN to_char(r.next_collection_on, 'YYYY-MM-DD') END",
        # The day in the connection's time zone, as the JSON of the rows.
        "to_char(r.last_failure_at, 'YYYY-MM-DD') || CASE WHEN r.last_failure_message <> '' "
        "THEN ': ' || r.last_failure_message ELSE '' END",
    ]
    columns = [
        *map(
            formula_safe_sql,
            [
                "ms.number",
                "u.first_name",
                "u.last_name",
                "u.email",
                "g.name",
                _labelled("ms.status", dict(Status.choices)),
            ],
        ),
        "to_char(fy.member_since, 'YYYY-MM-DD')",
        "to_char(ms.expires_on, 'YYYY-MM-DD')",
        *map(
            formula_safe_sql,
            [
                "b.name",
                _labelled("b.nation", NATIONS),
                "b.region",
                "p.organisation_name",
                "p.ods_code",
                # The PCN of the member's practice in the NHS data, else as typed.
                "COALESCE(pcn.name, p.pcn_name)",
                _labelled("p.role", dict(Profile.Role.choices)),
                "p.job_title",
                *collection_columns,
            ],
        ),
    ]
    # Every part is SQL from the code, with no values from a request.
    return f"""
        SELECT {", ".join(columns)}
        FROM members_membership ms
        JOIN members_user u ON u.id = ms.user_id
        JOIN members_grade g ON g.id = ms.grade_id
        LEFT JOIN members_profile p ON p.user_id = u.id
        LEFT JOIN members_careboard b ON b.id = p.care_board_id
        LEFT JOIN members_nhsorganisation practice ON practice.id = p.practice_id
        LEFT JOIN members_nhsorganisation pcn ON pcn.id = practice.pcn_id
        LEFT JOIN (
            SELECT membership_id, min(starts_on) AS member_since
            FROM members_membershipperiod GROUP BY membership_id
        ) fy ON fy.membership_id = ms.id
        LEFT JOIN (
            SELECT DISTINCT ON (membership_id) *
            FROM members_autorenewal WHERE membership_id IS NOT NULL
            ORDER BY membership_id, created_at DESC, id DESC
        ) r ON r.membership_id = ms.id
        ORDER BY ms.id
    """  # noqa: S608


def _text(value: str) -> str:
    """``value`` as an SQL string literal."""
    return connection.ops.compose_sql("%s", [str(value)])


def _labelled(expression: str, labels: dict, *, otherwise: str | None = None) -> str:
    """SQL for the label of ``expression``'s value; ``otherwise`` (SQL) for
    any other value, else the value itself, as ``dict.get(value, value)``."""
    whens = " ".join(f"WHEN {_text(value)} THEN {_text(label)}" for value, label in labels.items())
    return f"(CASE {expression} {whens} ELSE {otherwise or expression} END)"
