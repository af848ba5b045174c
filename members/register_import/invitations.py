"""Invitations to claim an imported account, and the claim itself.

After an import, each new member gets one email (``ClaimInvitation``,
reason "first", unique per member: recorded before it is sent, so a task
run twice sends nothing twice), queued in batches on the emails queue.
Staff may send it again (a new "resent" row). The link carries a signed
token naming the invitation and the address it was sent to; it works
until the account is claimed, once, and only while it is the member's
newest invitation and the address is still the account's: a link sent to
a wrong address stops working when staff correct it and send again.
Claiming sets a password through allauth's ``SetPasswordForm`` and marks
the address verified in allauth's ``EmailAddress``: the email reached them.
"""

import hashlib

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from igpm.emails import email_build
from igpm.notices import BATCH, recorded_notices_send
from members.audit import audit_record
from members.exceptions import IllegalTransition
from members.models import ClaimInvitation, ImportedMember, ImportRow, User

SALT = "members.register_import.claim"
Reason = ClaimInvitation.Reason


class ClaimLinkRefused(Exception):
    """A claim link that cannot be used; ``replaced`` when a newer
    invitation, or a change of address, has taken its place."""

    def __init__(self, *, replaced: bool = False) -> None:
        super().__init__("replaced" if replaced else "unusable")
        self.replaced = replaced


def _address_digest(email: str) -> str:
    # Inside the signed token, so it cannot be forged; a digest keeps the
    # address itself out of the link (and the link short).
    return hashlib.sha256(email.strip().casefold().encode()).hexdigest()[:24]


def claim_token(invitation: ClaimInvitation, email: str | None = None) -> str:
    """The token for ``invitation``, bound to the address it goes to (the
    member's current one unless given)."""
    address = invitation.user.email if email is None else email
    return signing.dumps([invitation.pk, _address_digest(address)], salt=SALT, compress=True)


def claim_url(invitation: ClaimInvitation) -> str:
    return settings.SITE_URL + reverse("members:account_claim", args=[claim_token(invitation)])


def _replaced(invitation: ClaimInvitation, user: User, digest: str) -> bool:
    """Whether the link no longer stands: the account's address is not the
    one it was sent to, or a newer invitation has been made."""
    if digest != _address_digest(user.email):
        return True
    return ClaimInvitation.objects.filter(user_id=user.pk, pk__gt=invitation.pk).exists()


def invitation_from_token(token: str) -> ClaimInvitation:
    """The invitation a link names, while it can still be used; raises
    ``ClaimLinkRefused`` otherwise."""
    try:
        value = signing.loads(token, salt=SALT, max_age=settings.REGISTER_CLAIM_MAX_AGE)
    except signing.BadSignature:
        raise ClaimLinkRefused() from None
    if not (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int)
        and isinstance(value[1], str)
    ):
        # Signed by us but not bound to an address (an older link): refused.
        raise ClaimLinkRefused(replaced=True)
    pk, digest = value
    invitation = ClaimInvitation.objects.select_related("user__imported").filter(pk=pk).first()
    if invitation is None or invitation.user.imported.claimed_at is not None:
        raise ClaimLinkRefused()
    if not invitation.user.is_active or invitation.user.erased_at is not None:
        raise ClaimLinkRefused()
    if _replaced(invitation, invitation.user, digest):
        raise ClaimLinkRefused(replaced=True)
    invitation.address_digest = digest
    return invitation


def _insert_first(user_ids: list[int]) -> list[int]:
    """One "first" invitation per member that has none; the new ids."""
    if not user_ids:
        return []
    table = ClaimInvitation._meta.db_table
    rows = ", ".join(["(%s, %s, %s)"] * len(user_ids))
    params: list = []
    now = timezone.now()
    for user_id in user_ids:
        params += [user_id, Reason.FIRST, now]
    sql = (
        f"INSERT INTO {table} (user_id, reason, created_at) VALUES {rows} "  # noqa: S608
        "ON CONFLICT (user_id) WHERE reason = 'first' DO NOTHING RETURNING id"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def invitations_queue(*, import_id: int, enqueue=None) -> int:
    """Record and queue, a batch at a time, the first invitation of every
    member this import created and who has not claimed the account."""
    if enqueue is None:
        from .tasks import claim_invitations_send_task

        def enqueue(ids: list[int]) -> None:
            claim_invitations_send_task.delay(ids)

    members = (
        ImportRow.objects.filter(
            register_import_id=import_id,
            outcome=ImportRow.Outcome.CREATED,
            member__imported__claimed_at__isnull=True,
        )
        .order_by("member_id")
        .values_list("member_id", flat=True)
    )
    queued = 0
    last = 0
    while user_ids := list(members.filter(member_id__gt=last)[:BATCH]):
        last = user_ids[-1]
        if new := _insert_first(user_ids):
            enqueue(new)
            queued += len(new)
    return queued


def claim_invitations_send(*, invitation_ids: list[int]) -> int:
    def build(invitation: ClaimInvitation, smtp):
        user = invitation.user
        return email_build(
            to=user.email,
            template="members/email/claim_invitation",
            context={
                "user": user,
                "membership": getattr(user, "membership", None),
                "claim_url": claim_url(invitation),  # bound to user.email, the "to"
                "valid_days": settings.REGISTER_CLAIM_MAX_AGE // 86400,
            },
            connection=smtp,
        )

    return recorded_notices_send(
        ClaimInvitation.objects.select_related("user__membership__grade").filter(
            user__imported__claimed_at__isnull=True
        ),
        invitation_ids,
        build,
    )


@transaction.atomic
def claim_invitation_resend(*, user: User, by: User) -> ClaimInvitation:
    """Staff send the invitation again: a new link, by email."""
    from .tasks import claim_invitations_send_task

    imported = ImportedMember.objects.select_for_update().filter(user=user).first()
    if imported is None:
        raise IllegalTransition("This member did not come from an imported register.")
    if imported.claimed_at is not None:
        raise IllegalTransition("This member has already claimed their account.")
    invitation = ClaimInvitation.objects.create(user=user, reason=Reason.RESENT, requested_by=by)
    audit_record(
        actor=by,
        subject=user,
        target=invitation,
        action="claim_invitation_resent",
    )
    claim_invitations_send_task.delay_on_commit([invitation.pk])
    return invitation


@transaction.atomic
def account_claim(*, invitation: ClaimInvitation, password_form) -> User:
    """Set the password from allauth's ``SetPasswordForm`` and verify the
    address the invitation went to. Once only: the member row is locked and
    a claimed account refuses a second claim. Under that lock (which a
    resend and a re-import take too) the link must still be the newest and
    the address the one it was sent to (``invitation_from_token`` records
    it), else nothing is changed."""
    from allauth.account.models import EmailAddress

    imported = ImportedMember.objects.select_for_update().get(user_id=invitation.user_id)
    if imported.claimed_at is not None:
        raise IllegalTransition("This link has already been used.")
    user = User.objects.get(pk=invitation.user_id)
    digest = getattr(invitation, "address_digest", None)
    if digest is None or _replaced(invitation, user, digest):
        raise IllegalTransition(
            "This link has been replaced by a newer invitation or a change of address."
        )
    password_form.user = user
    password_form.save()
    EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email).delete()
    address, _ = EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"primary": True, "verified": True}
    )
    if not (address.verified and address.primary):
        address.verified = address.primary = True
        address.save(update_fields=["verified", "primary"])
    imported.claimed_at = timezone.now()
    imported.save(update_fields=["claimed_at"])
    audit_record(actor=user, subject=user, target=imported, action="account_claimed")
    return user
