"""The register import in the privacy registry (``members.privacy.registry``).

What the register said about a member (their rows in uploaded files),
that they were imported, and the invitations sent to them are theirs:
exported and erased. The upload itself is the membership team's record.
"""

from django.db.models import Q

from members.privacy.actions import Delete
from members.privacy.registry import NOT_PERSONAL, Holding, register

from .models import ClaimInvitation, ImportedMember, ImportRow

register(
    Holding(
        model=ImportRow,
        rows=lambda user: ImportRow.objects.filter(
            Q(member=user) | Q(values__email__iexact=user.email)
        ),
        erase=Delete(),
        section="register_rows",
        about="What the IGPM's earlier register of members said about you, as imported.",
    ),
    Holding(
        model=ImportedMember,
        rows=lambda user: ImportedMember.objects.filter(user=user),
        erase=Delete(),
        section="register_import",
        about="That your membership came from the earlier register, when you first "
        "joined, and when you claimed your account.",
    ),
    Holding(
        model=ClaimInvitation,
        rows=lambda user: ClaimInvitation.objects.filter(user=user),
        erase=Delete(),
        section="register_invitations",
        about="The emails inviting you to claim your account.",
    ),
)

NOT_PERSONAL["members.RegisterImport"] = (
    "an uploaded register file and its counts, kept by the membership team; the "
    "rows about each member are ImportRow, registered above, and the file's "
    "content is emptied once it has been read"
)
