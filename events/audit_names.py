"""How the audit trail names events' records
(``members/backoffice/naming.py``)."""

from django.db.models import CharField, F, Value
from django.db.models.functions import Concat

from members.backoffice.naming import Describer, register_describer

from .models import Event, Registration


def _events(ids: list[int]):
    return Event.objects.filter(pk__in=ids).annotate(audit_name=F("title"))


def _registrations(ids: list[int]):
    return Registration.objects.filter(pk__in=ids).annotate(
        audit_name=Concat(Value("Registration for "), F("event__title"), output_field=CharField())
    )


register_describer(Describer("event", "Event", _events))
register_describer(Describer("registration", "Event registration", _registrations))
