"""The staff reports' section on where members work in the NHS data:
members in good standing by ICB and by PCN, from the practice their ODS
code names (``Profile.practice``), not from what they typed. Registered on
the reports page by ``MembersConfig.ready()`` after members' own report."""

from dataclasses import dataclass, field

from django.db.models import Count

from members.models import Membership
from members.reports.registry import CsvReport, Report, Section, register

IN_GOOD_STANDING = [Membership.Status.ACTIVE, Membership.Status.IN_GRACE]
NO_PCN = "PCN not known"


@dataclass
class IcbRow:
    name: str
    members: int = 0
    pcns: list[tuple[str, int]] = field(default_factory=list)


def practice_places() -> tuple[list[IcbRow], int]:
    """ICBs (most members first), each with its PCNs, and how many members
    in good standing have no practice in the NHS data: one query."""
    counts = (
        Membership.objects.filter(status__in=IN_GOOD_STANDING)
        .values_list("user__profile__practice__icb__name", "user__profile__practice__pcn__name")
        .annotate(members=Count("pk"))
        .order_by()
    )
    icbs: dict[str, IcbRow] = {}
    unlinked = 0
    for icb, pcn, members in counts:
        if icb is None and pcn is None:
            unlinked += members
            continue
        row = icbs.setdefault(icb or "ICB not known", IcbRow(icb or "ICB not known"))
        row.members += members
        row.pcns.append((pcn or NO_PCN, members))
    for row in icbs.values():
        row.pcns.sort(key=lambda pcn: (-pcn[1], pcn[0]))
    return sorted(icbs.values(), key=lambda row: (-row.members, row.name)), unlinked


def _figures(period) -> dict:
    icbs, unlinked = practice_places()
    return {"practice_icbs": icbs, "practice_unlinked": unlinked}


def _csv(period):
    icbs, unlinked = practice_places()
    for icb in icbs:
        for pcn, members in icb.pcns:
            yield [icb.name, pcn, members]
    if unlinked:
        yield ["No practice in the NHS data", "", unlinked]


register(
    Report(
        name="nhs_organisations",
        template="members/organisations/report_pcns.html",
        sections=(Section("pcns", "Members by ICB and PCN"),),
        figures=_figures,
        csvs={"pcns": CsvReport(["ICB", "PCN", "members"], _csv)},
    )
)
