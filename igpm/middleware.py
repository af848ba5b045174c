"""Middleware for signed-in sessions: what browsers may keep, and how long
a session may sit idle."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

LAST_SEEN_SESSION_KEY = "igpm_last_seen"
# The last-seen time is written at most this often, so that a page view is
# not also a session write every time; the idle limit is that much looser.
LAST_SEEN_RESOLUTION_SECONDS = 60


class PrivateCacheMiddleware:
    """Every response to a signed-in person is ``private, no-store``: pages,
    CSV exports and downloads carry personal data, and a shared computer's
    browser cache or a proxy must not keep them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Checked after the view: signing in or out changes request.user.
        if request.user.is_authenticated:
            response["Cache-Control"] = "private, no-store"
        return response


def session_start_idle_clock(sender, request: HttpRequest, user, **kwargs) -> None:
    """Start the idle clock as the session is signed in (``user_logged_in``),
    so the first page after signing in need not write the session."""
    if hasattr(request, "session"):
        request.session[LAST_SEEN_SESSION_KEY] = time.time()


def idle_timeout_seconds(user) -> int:
    if user.is_staff:
        return settings.SESSION_IDLE_TIMEOUT_STAFF_SECONDS
    return settings.SESSION_IDLE_TIMEOUT_MEMBER_SECONDS


class IdleSessionMiddleware:
    """Sign out a session that has made no request for its idle limit
    (``SESSION_IDLE_TIMEOUT_STAFF_SECONDS`` / ``..._MEMBER_SECONDS``); the
    session's absolute age is still capped by ``SESSION_COOKIE_AGE``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = time.time()
            last_seen = request.session.get(LAST_SEEN_SESSION_KEY)
            limit = idle_timeout_seconds(user)
            if last_seen is not None and now - last_seen > limit:
                logout(request)
                messages.info(
                    request,
                    f"You were signed out after {limit // 60} minutes without activity. "
                    "Sign in again to carry on.",
                )
                return redirect_to_login(request.get_full_path())
            if last_seen is None or now - last_seen >= LAST_SEEN_RESOLUTION_SECONDS:
                request.session[LAST_SEEN_SESSION_KEY] = now
        return self.get_response(request)
