"""Who may open the staff area and the Django admin.

Staff pages need three things: a signed-in user, staff status, and
two-factor authentication enrolled. One gate serves both the staff views
(through the decorator) and the admin (through the middleware), so the two
can never disagree.
"""

from collections.abc import Callable
from functools import wraps

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse


def staff_gate(request: HttpRequest) -> HttpResponse | None:
    """Return the response that keeps ``request`` out, or None to let it in."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not (user.is_active and user.is_staff):
        raise PermissionDenied("Staff only.")
    if not is_mfa_enabled(user):
        messages.warning(
            request,
            "Staff pages need two-factor authentication. Set up an authenticator app to continue.",
        )
        return redirect("mfa_activate_totp")
    return None


def staff_member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        refusal = staff_gate(request)
        if refusal is not None:
            return refusal
        return view(request, *args, **kwargs)

    return wrapped


class StaffAreaMiddleware:
    """Put the Django admin behind the same gate as the staff views.

    The admin's own login page is never shown: anonymous visitors go to the
    allauth login (with its rate limits and two-factor step) instead.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(reverse("admin:index")):
            refusal = staff_gate(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)


def staff_permission_required(permission: str, refusal: str):
    """Staff with two-factor (``staff_gate``) who also hold ``permission``,
    usually through their team's group."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @staff_member_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
