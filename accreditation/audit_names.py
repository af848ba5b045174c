"""How the audit trail names accreditation's records
(``members/backoffice/naming.py``)."""

from django.db.models import CharField, F, Value
from django.db.models.functions import Concat

from members.backoffice.naming import Describer, register_describer

from .models import Application, Certificate, CpdEntry


def _applications(ids: list[int]):
    return Application.objects.filter(pk__in=ids).annotate(
        audit_name=Concat(Value("Application for "), F("pathway__name"), output_field=CharField())
    )


def _certificates(ids: list[int]):
    return Certificate.objects.filter(pk__in=ids).annotate(
        audit_name=Concat(Value("Certificate "), F("number"), output_field=CharField())
    )


register_describer(Describer("application", "Accreditation application", _applications))
register_describer(Describer("certificate", "Certificate", _certificates))
register_describer(Describer(CpdEntry._meta.model_name, "CPD entry"))
