"""Reads for the privacy pages: the member's own, and the staff's list and
review of erasure requests."""

from dataclasses import dataclass

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from members.models import DataExport, ErasureRequest, User

from .models import ERASURE_DUE_DAYS, ERASURE_WARN_DAYS
from .registry import REGISTRY


def privacy_overview(*, user: User) -> dict:
    """What the member's privacy page shows: their latest data export and
    any open erasure request."""
    return {
        "export": DataExport.objects.filter(user=user)
        .exclude(status=DataExport.Status.FAILED)
        .order_by("-requested_at", "-pk")
        .first(),
        "erasure": ErasureRequest.objects.filter(
            user=user, status=ErasureRequest.Status.REQUESTED
        ).first(),
    }


def erasure_requests_open() -> list[ErasureRequest]:
    """Open erasure requests, oldest (most urgent) first."""
    return list(
        ErasureRequest.objects.filter(status=ErasureRequest.Status.REQUESTED)
        .select_related("user")
        .order_by("requested_at", "pk")
    )


def erasure_requests_decided(*, limit: int = 20) -> list[ErasureRequest]:
    return list(
        ErasureRequest.objects.exclude(status=ErasureRequest.Status.REQUESTED)
        .select_related("user", "decided_by")
        .order_by("-decided_at", "-requested_at", "-pk")[:limit]
    )


@dataclass(frozen=True)
class ErasureSummary:
    open: int
    due_soon: int
    overdue: int


def erasure_requests_summary() -> ErasureSummary:
    """Counts for the staff home page, in one query."""
    now = timezone.now()
    warn = now - timezone.timedelta(days=ERASURE_WARN_DAYS)
    due = now - timezone.timedelta(days=ERASURE_DUE_DAYS + 1)
    totals = ErasureRequest.objects.filter(status=ErasureRequest.Status.REQUESTED).aggregate(
        open=Count("pk"),
        due_soon=Count("pk", filter=Q(requested_at__lte=warn, requested_at__gt=due)),
        overdue=Count("pk", filter=Q(requested_at__lte=due)),
    )
    return ErasureSummary(**totals)


def erasure_request_review(*, request_id: int) -> tuple[ErasureRequest, list[dict]]:
    """A request with, for each kind of record the registry knows, how many
    the member has and what erasure will do to them."""
    request = get_object_or_404(
        ErasureRequest.objects.select_related("user", "decided_by"), pk=request_id
    )
    holdings = [
        {
            "name": holding.name,
            "count": holding.rows(request.user).count(),
            "erasure": holding.erase.describe(),
        }
        for holding in REGISTRY
    ]
    return request, holdings
