"""How the audit trail names organisation records
(``members/backoffice/naming.py``)."""

from django.db.models import CharField, F, Value
from django.db.models.functions import Concat

from members.backoffice.naming import Describer, register_describer
from members.models import OrganisationAccount, OrganisationMembership, SeatInvitation


def _accounts(ids: list[int]):
    return OrganisationAccount.objects.filter(pk__in=ids).annotate(
        audit_name=Concat(Value("Organisation "), F("name"), output_field=CharField())
    )


def _years(ids: list[int]):
    return OrganisationMembership.objects.filter(pk__in=ids).annotate(
        audit_name=Concat(
            Value("Organisation membership of "), F("account__name"), output_field=CharField()
        )
    )


register_describer(Describer(OrganisationAccount._meta.model_name, "Organisation", _accounts))
register_describer(
    Describer(OrganisationMembership._meta.model_name, "Organisation membership", _years)
)
register_describer(Describer(SeatInvitation._meta.model_name, "Seat invitation"))
