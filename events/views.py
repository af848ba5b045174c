from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from igpm.memo import forget, recent

from .forms import MemberRegistrationForm, RegistrationForm
from .fragments import event_body, event_cards
from .ics import calendar_for
from .models import Event, Registration
from .selectors import (
    member_in_good_standing,
    member_registrations,
    registration_for_person,
    registrations_split,
)
from .services import (
    RegistrationRefused,
    attendance_pdf,
    confirm_hours,
    offer_claim,
    registration_cancel,
    registration_confirm_email,
    registration_create,
    registration_for_confirm_token,
)
from .ticket import ticket_qr_data_uri

PUBLIC = [Event.Status.PUBLISHED, Event.Status.CANCELLED]
EVENTS_PER_PAGE = 30
# How long the event page may show an event, and its places left, and the
# event list its events, as another request of the same process read them:
# thousands arrive at once on National Practice Manager Day.
PLACES_SECONDS = 2.0
# Set for a while after someone takes or gives up a place; while it is
# there, the places they see are read afresh.
PLACES_COOKIE = "igpm_places_changed"


def event_list(request: HttpRequest) -> HttpResponse:
    """Upcoming events first; filter by type and region."""
    events = Event.objects.filter(status__in=PUBLIC, ends_at__gte=timezone.now())
    event_type = request.GET.get("type", "")
    region = request.GET.get("region", "")
    if event_type in Event.Type.values:
        events = events.filter(type=event_type)
    if region in Event.Region.values:
        events = events.filter(region=region)
    number = request.GET.get("page", "")

    def load():
        page = Paginator(events.order_by("starts_at", "pk"), EVENTS_PER_PAGE).get_page(number)
        page.object_list = list(page.object_list)
        return page

    # Everyone sees the same list, so each process reads it at most every
    # few seconds; staff see their edits at once, and a page number no one
    # would type is read, not kept.
    if not request.user.is_staff and (not number or (number.isdecimal() and len(number) <= 3)):
        page = recent(("list", event_type, region, number), PLACES_SECONDS, load)
    else:
        page = load()
    events = page.object_list
    filters = urlencode(
        {key: value for key, value in (("type", event_type), ("region", region)) if value}
    )
    return render(
        request,
        "events/list.html",
        {
            "events": events,
            "cards": event_cards(events),
            "page": page,
            "filters": filters,
            "types": Event.Type.choices,
            "regions": Event.Region.choices,
            "event_type": event_type,
            "region": region,
        },
    )


def _member_details(user) -> dict:
    """Who a signed-in person is, for their one-step registration."""
    profile = getattr(user, "profile", None)
    return {
        "name": user.get_full_name() or user.email,
        "email": user.email,
        "organisation": profile.organisation_name if profile else "",
        "role": profile.job_title if profile else "",
    }


def _register_path(request: HttpRequest, event: Event) -> tuple[str, Registration | None]:
    """Which one way in the page offers: ``booked`` (their place is shown),
    ``member`` (one-step register), ``members_only`` (sign in or join, no
    form), ``not_member`` (signed in, but not a member in good standing),
    ``visitor`` (the visitor form), or ``closed``."""
    user = request.user
    if event.status != Event.Status.PUBLISHED:
        return "closed", None
    if user.is_authenticated:
        booked = registration_for_person(event=event, user=user)
        if booked is not None:
            return "booked", booked
        if event.members_only and not member_in_good_standing(user):
            return "not_member", None
        return "member", None
    return ("members_only" if event.members_only else "visitor"), None


def _event_with_places(slug: str) -> Event:
    return get_object_or_404(
        Event.objects.annotate(
            taken=Count(
                "registrations",
                filter=Q(registrations__status__in=Registration.HOLDS_PLACE),
            )
        ),
        slug=slug,
        status__in=PUBLIC,
    )


def _places_changed(response: HttpResponse, event: Event) -> HttpResponse:
    """Show this browser the places as they are now, not as they were a
    moment ago (see ``PLACES_SECONDS``); this process forgets the event's
    places for everyone (other processes keep theirs a moment longer)."""
    forget(("event", event.slug))
    response.set_cookie(
        PLACES_COOKIE, "1", max_age=60, path="/events/", httponly=True, samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )  # fmt: skip
    return response


def event_detail(request: HttpRequest, slug: str) -> HttpResponse:
    # Whoever has just taken or given up a place sees the count afresh, and
    # staff see their edits at once; a member's own booking is read afresh
    # on every request, below.
    if (
        request.method == "GET"
        and PLACES_COOKIE not in request.COOKIES
        and not request.user.is_staff
    ):
        event = recent(("event", slug), PLACES_SECONDS, lambda: _event_with_places(slug))
    else:
        event = _event_with_places(slug)
    path, booked = _register_path(request, event)
    data = request.POST if request.method == "POST" else None
    form = None
    if path == "member":
        form = MemberRegistrationForm(data, event=event)
    elif path == "visitor":
        form = RegistrationForm(data, event=event)
    status = 200
    if data is not None and form is None:
        # A form the page does not offer was posted (an old tab, a script).
        return redirect(event.get_absolute_url())
    if data is not None and form.is_valid():
        if path == "visitor" and not _visitor_allowed(request, form):
            status = 429
        else:
            user = request.user if path == "member" else None
            details = _member_details(user) if user else {}
            try:
                registration = registration_create(
                    event=event, user=user, **details, **form.cleaned_data
                )
            except RegistrationRefused as exc:
                form.add_error(None, str(exc))
            else:
                if user is None:
                    return redirect("events:check_email", event.slug)
                return _places_changed(
                    redirect("events:registration", registration.manage_token), event
                )
    local = (
        event.local_events.filter(status__in=PUBLIC).order_by("region", "starts_at")
        if event.type == Event.Type.NPM_DAY and event.umbrella_id is None
        else []
    )
    region = request.GET.get("region", "")
    if local and region in Event.Region.values:
        local = local.filter(region=region)
    return render(
        request,
        "events/detail.html",
        {
            "event": event,
            "body": event_body(event),
            "form": form,
            "path": path,
            "booked": booked,
            "details": _member_details(request.user) if path == "member" else None,
            "places_left": max(event.capacity - event.taken, 0),
            "local_events": local,
            "regions": Event.Region.choices,
            "region": region,
        },
        status=400 if form is not None and form.errors and status == 200 else status,
    )


def _visitor_allowed(request: HttpRequest, form: RegistrationForm) -> bool:
    """Registering without an account is limited per client address and
    per email address (rates in ``ACCOUNT_RATE_LIMITS``, counted in the
    shared cache, the client address found as allauth finds it behind the
    trusted proxies). A refusal is explained on the form."""
    if not ratelimit.consume(request, action="events_register_visitor"):
        form.add_error(
            None,
            "Too many registrations have come from your connection recently. "
            "Try again later, or sign in if you are a member.",
        )
        return False
    email = form.cleaned_data["email"].strip().lower()
    if not ratelimit.consume(request, action="events_register_email", key=email):
        form.add_error(
            "email",
            "This email address has been registered several times recently. "
            "Check its inbox for the confirmation link, or try again later.",
        )
        return False
    return True


def check_email(request: HttpRequest, slug: str) -> HttpResponse:
    """Where a visitor lands after registering: it names no registration,
    so only the emailed link can confirm the address."""
    event = get_object_or_404(Event, slug=slug, status__in=PUBLIC)
    return render(
        request, "events/check_email.html", {"event": event, "confirm_hours": confirm_hours()}
    )


def event_ics(request: HttpRequest, slug: str) -> HttpResponse:
    event = get_object_or_404(Event, slug=slug, status__in=PUBLIC)
    response = HttpResponse(calendar_for([event]), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}.ics"'
    return response


def events_feed(request: HttpRequest) -> HttpResponse:
    events = Event.objects.filter(status__in=PUBLIC).order_by("starts_at")[:500]
    return HttpResponse(calendar_for(events), content_type="text/calendar; charset=utf-8")


def registration_detail(request: HttpRequest, token: str) -> HttpResponse:
    """The attendee's own page, reached by the private link in their
    emails: status, cancel, accept an offer; the ticket (check-in code and
    its QR code) and the joining link only with a confirmed place."""
    registration = get_object_or_404(
        Registration.objects.select_related("event"), manage_token=token
    )
    confirmed = registration.status == Registration.Status.CONFIRMED
    return render(
        request,
        "events/registration.html",
        {
            "registration": registration,
            "event": registration.event,
            "joining_link": registration.event.joining_link if confirmed else "",
            "qr": ticket_qr_data_uri(registration) if confirmed else "",
        },
    )


def registration_cancel_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks "are you sure?"; POST cancels. A cancelled registration
    has nothing to ask about."""
    registration = get_object_or_404(
        Registration.objects.select_related("event"), manage_token=token
    )
    if request.method == "POST":
        registration_cancel(
            registration=registration,
            by=request.user if request.user.is_authenticated else None,
        )
        messages.success(request, "Your registration is cancelled.")
        return _places_changed(redirect("events:registration", token), registration.event)
    if registration.status == Registration.Status.CANCELLED:
        return redirect("events:registration", token)
    return render(
        request,
        "events/cancel.html",
        {"registration": registration, "event": registration.event},
    )


@login_required
def my_events(request: HttpRequest) -> HttpResponse:
    """The signed-in person's registrations: what is coming up, and what
    has been."""
    upcoming, past = registrations_split(member_registrations(user=request.user))
    return render(request, "events/my_events.html", {"upcoming": upcoming, "past": past})


@require_POST
def offer_claim_view(request: HttpRequest, token: str) -> HttpResponse:
    registration = get_object_or_404(
        Registration.objects.select_related("event"), manage_token=token
    )
    try:
        offer_claim(registration=registration)
    except RegistrationRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "The place is yours. See you there.")
    return _places_changed(redirect("events:registration", token), registration.event)


def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    """The single-use link emailed to a visitor. GET shows a button (mail
    scanners follow links); POST confirms and opens the registration's
    own page. A link that is unknown, used or lapsed says so."""
    registration = registration_for_confirm_token(token=token)
    if registration is None:
        return render(request, "events/confirm_invalid.html", status=404)
    if request.method == "POST":
        try:
            registration = registration_confirm_email(token=token)
        except RegistrationRefused as exc:
            return render(
                request,
                "events/confirm_invalid.html",
                {"message": str(exc), "event": registration.event},
                status=409,
            )
        return _places_changed(
            redirect("events:registration", registration.manage_token), registration.event
        )
    return render(request, "events/confirm.html", {"registration": registration})


def attendance_certificate(request: HttpRequest, token: str) -> HttpResponse:
    registration = get_object_or_404(
        Registration.objects.select_related("event"), manage_token=token
    )
    if registration.checked_in_at is None:
        raise Http404("Certificates of attendance are for people who attended.")
    response = HttpResponse(attendance_pdf(registration), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="certificate-of-attendance.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
