"""How the audit trail names members' own records
(``members/backoffice/naming.py``)."""

from django.db.models import CharField, F, Value
from django.db.models.functions import Coalesce, Concat, NullIf

from members.backoffice.naming import Describer, register_describer
from members.models import Membership, Payment, User
from members.privacy.models import DataExport, ErasureRequest


def _payments(ids: list[int]):
    # "Payment INV-2026-0042", or its receipt number; nothing (so the
    # label, "Payment") while it has neither.
    reference = Coalesce(
        NullIf(F("invoice_number"), Value("")), NullIf(F("receipt_number"), Value(""))
    )
    return Payment.objects.filter(pk__in=ids).annotate(
        audit_name=Concat(Value("Payment "), reference, output_field=CharField())
    )


def _memberships(ids: list[int]):
    return Membership.objects.filter(pk__in=ids).annotate(
        audit_name=Concat(
            Value("Membership "), NullIf(F("number"), Value("")), output_field=CharField()
        )
    )


register_describer(Describer("payment", "Payment", _payments))
register_describer(Describer("membership", "Membership", _memberships))
register_describer(Describer(DataExport._meta.model_name, "Data export"))
register_describer(Describer(ErasureRequest._meta.model_name, "Request to delete the account"))
register_describer(Describer(User._meta.model_name, "Account"))
