from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from .health import healthz

admin.site.site_header = "IGPM administration"
admin.site.site_title = "IGPM admin"
# Belt and braces beside members.access.StaffAreaMiddleware: the admin never
# signs anyone in itself, so allauth's rate limits and two-factor step apply.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("privacy/", TemplateView.as_view(template_name="privacy.html"), name="privacy"),
    path(
        "accessibility/",
        TemplateView.as_view(template_name="accessibility.html"),
        name="accessibility",
    ),
    path("accounts/", include("allauth.urls")),
    path("", include("members.urls")),
    path("", include("accreditation.urls")),
    path("", include("events.urls")),
    path("admin/", admin.site.urls),
    path("healthz/", healthz, name="healthz"),
]
