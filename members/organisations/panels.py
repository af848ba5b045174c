"""Organisations on the member's dashboard and the staff member record:
the seats a person holds and the accounts they administer (two queries,
however many)."""

from django.utils import timezone

from members.models import OrganisationAccount, SeatHolding
from members.panels import Panel, register_dashboard_panel, register_record_panel


def _organisations(*, member, **_about) -> dict | None:
    today = timezone.localdate()
    seats = list(
        SeatHolding.objects.filter(user=member, organisation_membership__ends_on__gte=today)
        .select_related("organisation_membership__account", "seat")
        .order_by("organisation_membership__starts_on")
    )
    administers = list(
        OrganisationAccount.objects.filter(administrators__user=member).order_by("name")
    )
    if not seats and not administers:
        return None
    return {"seats": seats, "administers": administers}


register_dashboard_panel(
    Panel(
        name="organisations",
        template="members/organisations/panel_dashboard.html",
        load=_organisations,
    )
)
register_record_panel(
    Panel(
        name="organisations",
        template="members/organisations/panel_record.html",
        load=_organisations,
        anchor="organisations-heading",
        title="Organisations",
    )
)
