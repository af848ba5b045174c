from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from igpm.csv import csv_response
from igpm.search import search_query, shown_as_typed
from members.access import staff_permission_required

from .models import Event, Registration, normalise_checkin_code
from .services import RegistrationRefused, registration_check_in

Status = Registration.Status


events_team_required = staff_permission_required("events.run_events", "Events team only.")


def _counts(field: str, prefix: str) -> dict:
    """Counts by state, over ``field`` (``prefix`` leads to a registration)."""

    def count(**condition) -> Count:
        return Count(field, filter=Q(**{prefix + key: value for key, value in condition.items()}))

    return {
        "confirmed": count(status=Status.CONFIRMED),
        "waiting": count(status__in=[Status.WAITING, Status.OFFERED]),
        "cancelled": count(status=Status.CANCELLED),
        "attended": count(checked_in_at__isnull=False),
    }


@events_team_required
def event_overview(request: HttpRequest) -> HttpResponse:
    events = (
        Event.objects.exclude(status=Event.Status.DRAFT)
        .annotate(**_counts("registrations", "registrations__"))
        .order_by("-starts_at")[:200]
    )
    return render(request, "events/staff/overview.html", {"events": events})


@events_team_required
def attendees(request: HttpRequest, event_id: int) -> HttpResponse:
    event = get_object_or_404(Event, pk=event_id)
    query, error = search_query(request)
    registrations = event.registrations.order_by("name", "pk")
    if error:
        messages.error(request, error)
        registrations = registrations.none()
    elif query:
        match = (
            Q(name__icontains=query) | Q(email__icontains=query) | Q(organisation__icontains=query)
        )
        if code := normalise_checkin_code(query):
            match |= Q(checkin_code=code)
        registrations = registrations.filter(match)
    counts = event.registrations.aggregate(**_counts("pk", ""))
    return render(
        request,
        "events/staff/attendees.html",
        {
            "event": event,
            "registrations": registrations[:500],
            # What was typed stays in the box, less the NUL it was refused for.
            "query": shown_as_typed(request) if error else query,
            "counts": counts,
        },
        status=400 if error else 200,
    )


@require_POST
@events_team_required
def check_in(request: HttpRequest, event_id: int) -> HttpResponse:
    """Check in by the check-in code (typed, or read by a scanner that
    types) or from the list. Refusals say why, next to the search box."""
    event = get_object_or_404(Event, pk=event_id)
    code = normalise_checkin_code(request.POST.get("code", ""))
    registration = event.registrations.filter(checkin_code=code).first() if code else None
    if registration is None:
        messages.error(request, "No registration for this event has that check-in code.")
        return redirect("events:staff_attendees", event.pk)
    try:
        done = registration_check_in(registration=registration, by=request.user)
    except RegistrationRefused as exc:
        messages.error(request, str(exc))
    else:
        if done:
            messages.success(request, f"{registration.name} is checked in.")
        else:
            messages.info(request, f"{registration.name} was already checked in.")
    url = reverse("events:staff_attendees", args=[event.pk])
    query = request.POST.get("q", "")
    return redirect(f"{url}?{urlencode({'q': query})}" if query else url)


@events_team_required
def attendees_csv(request: HttpRequest, event_id: int) -> StreamingHttpResponse:
    """Streamed, so a large event never sits whole in memory."""
    event = get_object_or_404(Event, pk=event_id)
    header = [
        "name",
        "email",
        "organisation",
        "role",
        "status",
        "checked_in_at",
        "access_requirements",
        "dietary_requirements",
        "registered_at",
    ]
    rows = (
        [
            r.name,
            r.email,
            r.organisation,
            r.role,
            r.get_status_display(),
            r.checked_in_at.isoformat() if r.checked_in_at else "",
            r.access_requirements,
            r.dietary_requirements,
            r.created_at.isoformat(),
        ]
        for r in event.registrations.order_by("name", "pk").iterator(chunk_size=500)
    )
    return csv_response(filename=f"{event.slug}-attendees.csv", header=header, rows=rows)
