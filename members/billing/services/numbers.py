"""Membership numbers: ``IGPM-`` and six or more digits, never reused.

The next number comes from ``MembershipNumberSequence``, one locked row.
An imported register keeps its own numbers and moves the sequence past the
highest of them (``membership_numbers_reserve``), so a member who joins
afterwards never gets a number the register already gave someone.
"""

import re

from django.db import connection, transaction
from django.db.models.functions import Greatest
from django.utils import timezone

from members.models import Membership, MembershipNumberSequence

PREFIX = "IGPM-"
# What a register may write: "IGPM-000123", "IGPM000123" or "123".
NUMBER_INPUT = re.compile(r"^(?:IGPM-?)?0*(\d{1,9})$", re.IGNORECASE)


def membership_number_format(value: int) -> str:
    return f"{PREFIX}{value:06d}"


def membership_number_parse(text: str) -> int | None:
    """The number in ``text`` as written in a register, or None."""
    match = NUMBER_INPUT.match(text.strip())
    if not match or int(match.group(1)) == 0:
        return None
    return int(match.group(1))


def _locked() -> MembershipNumberSequence:
    sequence = MembershipNumberSequence.objects.select_for_update().filter(pk=1).first()
    if sequence is None:
        # The migration creates the row; this covers a database built
        # without it. A racing creator makes this a no-op.
        MembershipNumberSequence.objects.bulk_create(
            [MembershipNumberSequence(pk=1, last=_highest_in_use())], ignore_conflicts=True
        )
        sequence = MembershipNumberSequence.objects.select_for_update().get(pk=1)
    return sequence


def _highest_in_use() -> int:
    highest = 0
    for number in Membership.objects.filter(number__startswith=PREFIX).values_list(
        "number", flat=True
    ):
        value = membership_number_parse(number)
        if value and value > highest:
            highest = value
    return highest


def membership_number_next() -> str:
    """A number nobody holds, for the caller's transaction (a payment being
    fulfilled). Moving the sequence on locks its row until that transaction
    ends: a second payment waits, then takes the next number."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Take a membership number inside the transaction that uses it.")
    while True:
        value = _advance()
        number = membership_number_format(value)
        # Numbers below the sequence are never handed out, but a number
        # typed into a membership by hand is stepped over.
        if not Membership.objects.filter(number=number).exists():
            return number


def _advance() -> int:
    """The sequence moved on by one, in one statement (locking the row)."""
    table = MembershipNumberSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last = last + 1, updated_at = %s WHERE id = 1 "  # noqa: S608
            "RETURNING last",
            [timezone.now()],
        )
        row = cursor.fetchone()
    if row is None:
        _locked()  # creates the row
        return _advance()
    return row[0]


@transaction.atomic
def membership_numbers_reserve(*, highest: int) -> None:
    """Move the sequence past ``highest`` (an imported number); never back.

    Taken in the importer's transaction before its numbers are written, so
    a payment allocating at the same moment waits for the import and then
    continues after it.
    """
    _locked()
    MembershipNumberSequence.objects.filter(pk=1).update(last=Greatest("last", highest))


def membership_numbers_lock() -> None:
    """Hold the sequence row for the rest of the caller's transaction."""
    _locked()
