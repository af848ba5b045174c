"""Organisation memberships on the staff reports page: the organisation
years current today and their seats, by ICB (from the ODS reference
data the account is linked to). Two queries, however many accounts."""

from dataclasses import dataclass

from django.db.models import Case, CharField, Count, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from members.models import NHSOrganisation, OrganisationMembership, SeatHolding
from members.reports.period import Period
from members.reports.registry import CsvReport, Report, Section, register

NO_ICB = "Not linked to an ICB"


@dataclass(frozen=True)
class IcbRow:
    icb: str
    organisations: int
    seats: int
    held: int

    @property
    def free(self) -> int:
        return self.seats - self.held


def _icb(prefix: str):
    """The ICB of the account's NHS organisation: its ICB, or itself when
    the account is an ICB."""
    org = f"{prefix}account__nhs_organisation"
    return Coalesce(
        F(f"{org}__icb__name"),
        Case(When(**{f"{org}__kind": NHSOrganisation.Kind.ICB}, then=F(f"{org}__name"))),
        Value(NO_ICB),
        output_field=CharField(),
    )


def organisation_rows(*, today=None) -> list[IcbRow]:
    today = today or timezone.localdate()
    current = Q(
        status=OrganisationMembership.Status.ACTIVE, starts_on__lte=today, ends_on__gte=today
    )
    years = (
        OrganisationMembership.objects.filter(current)
        .annotate(icb=_icb(""))
        .values("icb")
        .annotate(organisations=Count("account", distinct=True), seats=Sum("seats"))
        .order_by("icb")
    )
    held = dict(
        SeatHolding.objects.filter(
            released_on__isnull=True,
            organisation_membership__status=OrganisationMembership.Status.ACTIVE,
            organisation_membership__starts_on__lte=today,
            organisation_membership__ends_on__gte=today,
        )
        .annotate(icb=_icb("organisation_membership__"))
        .values("icb")
        .annotate(n=Count("pk"))
        .values_list("icb", "n")
    )
    return [
        IcbRow(row["icb"], row["organisations"], row["seats"] or 0, held.get(row["icb"], 0))
        for row in years
    ]


def _figures(period: Period) -> dict:
    rows = organisation_rows()
    return {
        "organisations_by_icb": rows,
        "organisation_totals": IcbRow(
            "All ICBs",
            sum(r.organisations for r in rows),
            sum(r.seats for r in rows),
            sum(r.held for r in rows),
        ),
    }


def _csv(period: Period):
    for row in organisation_rows():
        yield [row.icb, row.organisations, row.seats, row.held, row.free]


register(
    Report(
        name="organisations",
        template="members/organisations/staff_report.html",
        sections=(Section("organisations", "Organisation memberships by ICB"),),
        figures=_figures,
        csvs={
            "organisations-by-icb": CsvReport(
                ["ICB", "organisations", "seats", "seats held", "seats free"], _csv
            )
        },
    )
)
