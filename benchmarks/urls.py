"""The portal's URLs plus a bare view, the baseline the dashboard is compared with."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from igpm.urls import urlpatterns as portal_urlpatterns


def bare_view(request: HttpRequest) -> HttpResponse:
    # No database, no template: what is left is gunicorn, WSGI and the middleware.
    return HttpResponse("ok")


urlpatterns = [*portal_urlpatterns, path("bench/bare/", bare_view)]
