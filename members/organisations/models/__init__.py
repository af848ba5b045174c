"""Organisations' models. They belong to the ``members`` app and are
re-exported by ``members.models``."""

from .accounts import (
    OrganisationAccount,
    OrganisationAdministrator,
    OrganisationFeeBand,
    OrganisationGrade,
    OrganisationMembership,
    OrganisationNotice,
    Seat,
    SeatHolding,
    SeatInvitation,
)
from .reference import NHSOrganisation, OdsImport

__all__ = [
    "NHSOrganisation",
    "OdsImport",
    "OrganisationAccount",
    "OrganisationAdministrator",
    "OrganisationFeeBand",
    "OrganisationGrade",
    "OrganisationMembership",
    "OrganisationNotice",
    "Seat",
    "SeatHolding",
    "SeatInvitation",
]
