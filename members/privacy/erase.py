"""Erasing a member: every model in the registry, in one transaction."""

import logging

from django.db import transaction

from members.models import Membership, Profile, User
from members.reports.summary import membership_figures_refresh

from .actions import Erasing
from .registry import REGISTRY

logger = logging.getLogger(__name__)


def member_erase(*, user: User, by: User) -> dict[str, int]:
    """Erase or anonymise everything the portal holds about ``user``, as the
    registry says; return how many rows changed per model.

    Runs inside the caller's transaction (which holds the erasure request's
    lock). Stored files are removed only once it commits, so a failure
    leaves everything as it was.
    """
    profile = Profile.objects.filter(user=user).first()
    erasing = Erasing(
        user=user,
        by=by,
        email=user.email,
        full_name=user.get_full_name(),
        phone=profile.phone if profile else "",
    )
    # Every model's rows are found before any changes: later steps cannot
    # lose track of rows an earlier one changed (a registration found by
    # the email address the account is about to lose).
    erasing.snapshot = {
        holding.label: list(holding.rows(user).values_list("pk", flat=True))
        for holding in REGISTRY
    }
    changed = {}
    for holding in REGISTRY:
        rows = holding.model.objects.filter(pk__in=erasing.snapshot[holding.label])
        changed[holding.label] = holding.erase.apply(rows, erasing)
    # Ended by erasure, the membership still ran its course in the reports.
    for membership_id in Membership.objects.filter(user=user).values_list("pk", flat=True):
        membership_figures_refresh(membership_id=membership_id)
    files = list(erasing.files)

    def files_delete() -> None:
        # One file that cannot be removed must not keep the rest: each
        # failure is logged for staff to remove by hand.
        for storage, name in files:
            try:
                storage.delete(name)
            except Exception:
                logger.exception("Erasure could not remove stored file %s", name)

    transaction.on_commit(files_delete)
    return changed
