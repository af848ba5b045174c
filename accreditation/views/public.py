from allauth.core.internal import ratelimit
from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accreditation.forms import VerifySearchForm
from accreditation.models import Certificate, Pathway
from igpm.search import search_query, shown_as_typed

# Searches per client address (settings.VERIFY_RATE_LIMIT): enough for
# anyone checking the certificates in front of them, too few to try common
# surnames against many numbers.
VERIFY_RATE_ACTION = "verify_certificate"
VERIFY_THROTTLED = (
    "You have checked a lot of certificates in a short time. Wait a minute, then try again."
)

# What each route means, above its pathways.
ROUTE_INTROS = {
    Pathway.RouteType.QUALIFICATION: "You hold a recognised management qualification.",
    Pathway.RouteType.APPRENTICESHIP: "You have completed a management apprenticeship.",
    Pathway.RouteType.EXPERIENTIAL: (
        "You have management experience but no formal qualification: "
        "a portfolio of evidence and references."
    ),
}


def pathways(request: HttpRequest) -> HttpResponse:
    """Every active pathway, grouped by route in the routes' order, with a
    contents list: the page is long on a phone."""
    active = list(Pathway.objects.filter(is_active=True))
    routes = [
        {
            "id": f"route-{route.value}",
            "label": route.label,
            "intro": ROUTE_INTROS.get(route, ""),
            "pathways": [p for p in active if p.route_type == route.value],
        }
        for route in Pathway.RouteType
    ]
    return render(
        request,
        "accreditation/pathways.html",
        {"routes": [route for route in routes if route["pathways"]], "pathways": active},
    )


def _verification(
    request: HttpRequest, certificate: Certificate | None, status: int | None = None, **context
):
    if certificate is not None and certificate.holder.erased_at is not None:
        # The holder's account was erased at their request: the number is
        # kept, but nothing about the person or the award is confirmed.
        state = "unverifiable"
    else:
        state = certificate.state_on(timezone.localdate()) if certificate else None
    response = render(
        request,
        "accreditation/verify.html",
        {"certificate": certificate, "state": state, **context},
        status=status or (200 if certificate or "form" in context else 404),
    )
    # A holder's name on a verification page is for the person checking it,
    # not for search engines.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def verify(request: HttpRequest, code: str) -> HttpResponse:
    """What a QR code opens: the certificate's name, award, dates and state,
    and nothing else about its holder."""
    certificate = (
        Certificate.objects.select_related("pathway", "holder")
        .filter(verification_code=code)
        .first()
    )
    return _verification(request, certificate, searched=True)


def verify_search(request: HttpRequest) -> HttpResponse:
    """Search by number and the holder's surname. A wrong surname gets the
    same answer as a wrong number, so numbers cannot be stepped through to
    collect names."""
    form = VerifySearchForm(request.GET if "number" in request.GET else None)
    certificate = None
    if form.is_bound and not _search_allowed(request):
        form.is_valid()  # the typed values come back, with the reason
        form.add_error(None, VERIFY_THROTTLED)
        return _verification(request, None, status=429, form=form, searched=False)
    if form.is_valid():
        number = form.cleaned_data["number"].strip().upper()
        certificate = (
            Certificate.objects.select_related("pathway", "holder").filter(number=number).first()
        )
        if certificate and not (
            certificate.holder.erased_at
            or _surname_matches(certificate, form.cleaned_data["surname"])
        ):
            certificate = None
    return _verification(request, certificate, form=form, searched=form.is_bound)


def _search_allowed(request: HttpRequest) -> bool:
    """Count one search against the client's address. allauth's limiter
    keeps the count in the shared cache and finds the address as sign-in
    does (ALLAUTH_TRUSTED_PROXY_COUNT); its public wrapper never limits a
    GET, and a search is one."""
    usage = ratelimit.consume(
        request,
        app="accreditation",
        action=VERIFY_RATE_ACTION,
        config={VERIFY_RATE_ACTION: settings.VERIFY_RATE_LIMIT},
        limit_get=True,
    )
    return bool(usage)


def _surname_matches(certificate: Certificate, surname: str) -> bool:
    """The surname ends the name printed on the certificate, or is the
    holder's surname on their account; case and spacing do not matter."""
    wanted = " ".join(surname.split()).casefold()
    printed = " ".join(certificate.holder_name.split()).casefold()
    return bool(wanted) and (
        printed == wanted
        or printed.endswith(" " + wanted)
        or certificate.holder.last_name.casefold() == wanted
    )


def register(request: HttpRequest) -> HttpResponse:
    """The opt-in public register of accredited managers (valid certificates)."""
    query, error = search_query(request)
    listed = Certificate.objects.filter(
        on_public_register=True,
        status=Certificate.Status.VALID,
        expires_on__gte=timezone.localdate(),
    ).select_related("pathway")
    if error:
        listed = listed.none()
    elif query:
        listed = listed.filter(Q(holder_name__icontains=query) | Q(number__iexact=query))
    return render(
        request,
        "accreditation/register.html",
        {
            "certificates": listed.order_by("holder_name")[:500],
            "query": shown_as_typed(request) if error else query,
            "search_error": error,
        },
        status=400 if error else 200,
    )
