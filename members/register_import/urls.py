"""Register import routes, included in ``members.urls`` (``members:...``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("staff/register-import/", views.register_imports, name="staff_register_imports"),
    path(
        "staff/register-import/<int:import_id>/",
        views.register_import_detail,
        name="staff_register_import",
    ),
    path(
        "staff/register-import/<int:import_id>/progress.json",
        views.register_import_progress,
        name="staff_register_import_progress",
    ),
    path(
        "staff/register-import/<int:import_id>/import/",
        views.register_import_start,
        name="staff_register_import_start",
    ),
    path(
        "staff/register-import/<int:import_id>/choose/",
        views.register_rows_choose,
        name="staff_register_rows_choose",
    ),
    path(
        "staff/register-import/<int:import_id>/resume/",
        views.register_import_resume,
        name="staff_register_import_resume",
    ),
    path(
        "staff/members/<int:user_id>/claim-invitation/",
        views.claim_resend,
        name="staff_claim_resend",
    ),
    path(
        "staff/members/<int:user_id>/renewal-invoice/",
        views.renewal_invoice,
        name="staff_renewal_invoice",
    ),
    path("account/claim/<str:token>/", views.account_claim_view, name="account_claim"),
]
