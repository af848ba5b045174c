"""Organisations on the member's dashboard and the staff member record:
the seats a person holds and the accounts they administer (two queries,
however many, and none on the dashboard of someone with neither)."""

from django.db.models import Exists, Q
from django.utils import timezone

from members.models import OrganisationAccount, SeatHolding
from members.panels import Panel, register_dashboard_panel, register_record_panel


def _seats_held(member, today=None):
    return SeatHolding.objects.filter(
        user=member, organisation_membership__ends_on__gte=today or timezone.localdate()
    )


def _holds_or_administers(*, member_id, today) -> Q:
    """Whether the panel has anything to show (``members.panels``)."""
    return Exists(_seats_held(member_id, today)) | Exists(
        OrganisationAccount.objects.filter(administrators__user=member_id)
    )


def _organisations(*, member, **_about) -> dict | None:
    seats = list(
        _seats_held(member)
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
        shown_if=_holds_or_administers,
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
