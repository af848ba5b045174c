"""Reads of the NHS organisation data: the practice search behind the
profile's picker, a practice's PCN and care board, and the profiles whose
practice code the data does not know."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Replace, Upper

from members.models import CareBoard, NHSOrganisation, Profile

Kind = NHSOrganisation.Kind
# A search shorter than this finds nothing: two letters already narrow
# 10,000 practices to a list worth reading.
SEARCH_MIN_LENGTH = 2
SEARCH_WORDS_MAX = 4


@dataclass(frozen=True)
class PracticeChoice:
    """One practice as the picker offers it."""

    code: str
    name: str
    town: str
    postcode: str
    is_open: bool
    pcn: str
    icb: str
    care_board_id: int | None

    @property
    def label(self) -> str:
        place = ", ".join(part for part in (self.town.title(), self.postcode) if part)
        closed = "" if self.is_open else " (closed)"
        return f"{self.name.title()}{closed}, {place} ({self.code})" if place else self.name

    def as_json(self) -> dict:
        return {
            "code": self.code,
            "name": self.name.title(),
            "label": self.label,
            "town": self.town.title(),
            "postcode": self.postcode,
            "open": self.is_open,
            "pcn": self.pcn,
            "icb": self.icb,
            "care_board": self.care_board_id,
        }


def practice_search(*, query: str, limit: int) -> list[PracticeChoice]:
    """Practices whose code or postcode starts with the query (spaces
    ignored), or whose name or town holds every word of it; open ones
    first, then exact code, then by name. Two queries, whatever the
    number found."""
    query = " ".join(query.split())
    if len(query) < SEARCH_MIN_LENGTH:
        return []
    packed = query.replace(" ", "").upper()
    practices = NHSOrganisation.objects.filter(kind=Kind.PRACTICE).annotate(
        postcode_key=Replace(Upper("postcode"), Value(" "), Value(""))
    )
    words = Q()
    for word in query.split()[:SEARCH_WORDS_MAX]:
        words &= Q(name__icontains=word) | Q(town__icontains=word)
    found = Q(code__startswith=packed) | Q(postcode_key__startswith=packed) | words
    # "active" sorts before "closed", "dormant" and "proposed".
    rows = list(
        practices.filter(found)
        .select_related("pcn", "icb")
        .order_by("status", "name", "code")[:limit]
    )
    rows.sort(key=lambda practice: practice.code != packed)  # the code typed, first
    return choices_for(rows)


def choices_for(practices: list[NHSOrganisation]) -> list[PracticeChoice]:
    """The practices with their PCN, ICB and care board (one query for the
    boards)."""
    icb_codes = {p.icb.code for p in practices if p.icb_id}
    boards = (
        dict(
            CareBoard.objects.filter(ods_code__in=icb_codes, is_active=True).values_list(
                "ods_code", "pk"
            )
        )
        if icb_codes
        else {}
    )
    return [
        PracticeChoice(
            code=p.code,
            name=p.name,
            town=p.town,
            postcode=p.postcode,
            is_open=p.is_open,
            pcn=p.pcn.name if p.pcn_id else "",
            icb=(p.icb.name if p.icb_id else ""),
            care_board_id=boards.get(p.icb.code) if p.icb_id else None,
        )
        for p in practices
    ]


def practice_get(*, code: str) -> NHSOrganisation | None:
    """The practice with this ODS code, with its PCN and ICB, or None."""
    if not code:
        return None
    return (
        NHSOrganisation.objects.filter(kind=Kind.PRACTICE, code=code.upper())
        .select_related("pcn", "icb")
        .first()
    )


def practice_choice(code: str) -> PracticeChoice | None:
    """The practice with this code as the picker offers it, or None."""
    practice = practice_get(code=code.strip()[:10])
    return choices_for([practice])[0] if practice else None


def care_board_for(practice: NHSOrganisation) -> CareBoard | None:
    """The care board of a practice's ICB: the one whose ``ods_code`` is
    the ICB's code (README, "NHS ODS data")."""
    if practice.icb_id is None:
        return None
    return CareBoard.objects.filter(ods_code=practice.icb.code, is_active=True).first()


def unknown_practice_codes() -> QuerySet[Profile]:
    """Profiles with a practice code the NHS data does not know: for staff
    to check (a typing slip, or a practice newer than the last import)."""
    return (
        Profile.objects.filter(practice__isnull=True, user__is_active=True)
        .exclude(ods_code="")
        .select_related("user")
        .order_by("ods_code", "pk")
    )
