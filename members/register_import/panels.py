"""The staff member record's panel for a member imported from a register:
when they first joined, whether they claimed the account, the
invitations sent, and the button to send one again. One query."""

from django.db.models import Count, Max

from members.models import ImportedMember
from members.panels import Panel, register_record_panel


def _imported(*, member) -> dict | None:
    imported = (
        ImportedMember.objects.filter(user=member)
        .annotate(
            invitations=Count("user__claim_invitations"),
            last_sent=Max("user__claim_invitations__sent_at"),
        )
        .first()
    )
    if imported is None:
        return None
    return {"imported": imported, "member": member}


register_record_panel(
    Panel(
        name="register_import",
        template="members/register_import/panel_record.html",
        load=_imported,
        anchor="register-import-heading",
        title="From the earlier register",
    )
)
