"""How the audit trail names the register import's records
(``members/backoffice/naming.py``)."""

from django.db.models import CharField, F, Value
from django.db.models.functions import Concat

from members.backoffice.naming import Describer, register_describer
from members.models import ClaimInvitation, ImportedMember, RegisterImport


def _imports(ids: list[int]):
    return RegisterImport.objects.filter(pk__in=ids).annotate(
        audit_name=Concat(Value("Register file "), F("file_name"), output_field=CharField())
    )


register_describer(Describer(RegisterImport._meta.model_name, "Register file", _imports))
register_describer(Describer(ImportedMember._meta.model_name, "Account from the earlier register"))
register_describer(Describer(ClaimInvitation._meta.model_name, "Invitation to claim the account"))
