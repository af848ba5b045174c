"""Membership numbers: ``IGPM-`` and six or more digits, never reused.

The next number comes from ``MembershipNumberSequence``, one locked row.
An imported register keeps its own numbers and moves the sequence past the
highest of them (``membership_numbers_reserve``), so a member who joins
afterwards never gets a number the register already gave someone.
"""

import re

from django.db import transaction
from django.db.models.functions import Greatest

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


@transaction.atomic
def membership_number_next() -> str:
    """A number nobody holds. The sequence row stays locked until the
    caller's transaction ends: a second payment waits, then takes the next
    one."""
    sequence = _locked()
    value = sequence.last
    while True:
        value += 1
        number = membership_number_format(value)
        # Numbers below the sequence are never handed out, but a number
        # written into the table by hand is still stepped over.
        if not Membership.objects.filter(number=number).exists():
            break
    sequence.last = value
    sequence.save(update_fields=["last", "updated_at"])
    return number


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
