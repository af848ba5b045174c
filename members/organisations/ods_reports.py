"""The staff reports' section on where members work in the NHS data:
members in good standing by ICB and by PCN, from the practice their ODS
code names (``Profile.practice``), not from what they typed. Registered on
the reports page by ``MembersConfig.ready()`` after members' own report."""

from dataclasses import dataclass, field

from members.models import NHSOrganisation
from members.reports.membership import member_places
from members.reports.period import Period
from members.reports.registry import CsvReport, Report, Section, register

NO_ICB = "ICB not known"
NO_PCN = "PCN not known"


@dataclass
class IcbRow:
    name: str
    members: int = 0
    pcns: list[tuple[str, int]] = field(default_factory=list)

    @property
    def pcns_known(self) -> int:
        """How many PCNs in the data have members here."""
        return sum(1 for name, _ in self.pcns if name != NO_PCN)


def practice_places(period: Period) -> tuple[list[IcbRow], int]:
    """ICBs (most members first), each with its PCNs by name, and how many
    members in good standing have no practice in the NHS data: from the
    counts the report by board also uses (``member_places``), and the
    organisations' names."""
    places = member_places(period)
    ids = {pk for _board, icb, pcn, _members in places.rows for pk in (icb, pcn) if pk}
    names = dict(NHSOrganisation.objects.filter(pk__in=ids).order_by().values_list("pk", "name"))
    by_name: dict[tuple[str, str], int] = {}
    unlinked = places.no_profile
    for _board, icb, pcn, members in places.rows:
        if icb is None and pcn is None:
            unlinked += members
            continue
        key = (names.get(icb) or NO_ICB, names.get(pcn) or NO_PCN)
        by_name[key] = by_name.get(key, 0) + members
    icbs: dict[str, IcbRow] = {}
    for (icb_name, pcn_name), members in by_name.items():
        row = icbs.setdefault(icb_name, IcbRow(icb_name))
        row.members += members
        row.pcns.append((pcn_name, members))
    for row in icbs.values():
        row.pcns.sort(key=lambda pcn: (-pcn[1], pcn[0]))
    return sorted(icbs.values(), key=lambda row: (-row.members, row.name)), unlinked


def _figures(period: Period) -> dict:
    icbs, unlinked = practice_places(period)
    return {"practice_icbs": icbs, "practice_unlinked": unlinked}


def _csv(period: Period):
    icbs, unlinked = practice_places(period)
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
