"""Reads that more than one view needs."""

from django.db.models import Q

from members.models import User

from .models import Application

# What an assessor can still act on. "More information" waits on the
# applicant, so it is not next for an assessor.
UNDECIDED = (Application.Status.SUBMITTED, Application.Status.IN_REVIEW)


def application_next_in_queue(*, after: Application, assessor: User) -> Application | None:
    """The first undecided application in the queue's order (oldest
    submission first), other than ``after``, that ``assessor`` may take:
    unassigned, or already theirs."""
    return (
        Application.objects.filter(status__in=UNDECIDED)
        .filter(Q(assessor__isnull=True) | Q(assessor=assessor))
        .exclude(pk=after.pk)
        .order_by("submitted_at", "pk")
        .first()
    )
