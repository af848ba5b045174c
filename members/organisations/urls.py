"""Organisation accounts' URLs, included by ``members/urls.py``."""

from django.urls import path

from . import views_accounts as views

urlpatterns = [
    path("organisations/", views.organisations, name="organisations"),
    path("organisations/new/", views.organisation_new, name="organisation_new"),
    path("organisations/<int:account_id>/", views.organisation, name="organisation"),
    path("organisations/<int:account_id>/buy/", views.organisation_buy, name="organisation_buy"),
    path(
        "organisations/<int:account_id>/auto-renewal/",
        views.organisation_auto_renewal_start_view,
        name="organisation_auto_renewal_start",
    ),
    path(
        "organisations/<int:account_id>/auto-renewal/return/",
        views.organisation_auto_renewal_return,
        name="organisation_auto_renewal_return",
    ),
    path(
        "organisations/<int:account_id>/auto-renewal/stop/",
        views.organisation_auto_renewal_stop_view,
        name="organisation_auto_renewal_stop",
    ),
    path(
        "organisations/<int:account_id>/invite/",
        views.organisation_invite,
        name="organisation_invite",
    ),
    path(
        "organisations/<int:account_id>/administrators/",
        views.organisation_administrator_add_view,
        name="organisation_administrator_add",
    ),
    path(
        "organisations/<int:account_id>/seats/<int:holding_id>/free/",
        views.organisation_seat_free,
        name="organisation_seat_free",
    ),
    path(
        "organisations/<int:account_id>/seats/<int:holding_id>/swap/",
        views.organisation_seat_swap,
        name="organisation_seat_swap",
    ),
    path(
        "organisations/<int:account_id>/invitations/<int:invitation_id>/withdraw/",
        views.organisation_invitation_withdraw,
        name="organisation_invitation_withdraw",
    ),
    path(
        "organisations/<int:account_id>/payments/<int:payment_id>/return/",
        views.organisation_payment_return,
        name="organisation_payment_return",
    ),
    path(
        "organisations/<int:account_id>/payments/<int:payment_id>/<str:kind>.pdf",
        views.organisation_document,
        name="organisation_document",
    ),
    path("seats/invitation/<str:token>/", views.seat_invitation, name="seat_invitation"),
    path("seats/<int:holding_id>/leave/", views.seat_leave, name="seat_leave"),
    path("staff/organisations/", views.staff_organisations, name="staff_organisations"),
    path(
        "staff/organisations/<int:account_id>/",
        views.staff_organisation,
        name="staff_organisation",
    ),
    path(
        "staff/organisations/<int:account_id>/payments/<int:payment_id>/paid/",
        views.staff_organisation_invoice_paid,
        name="staff_organisation_invoice_paid",
    ),
    path(
        "staff/organisations/<int:account_id>/payments/<int:payment_id>/resend/",
        views.staff_organisation_invoice_resend,
        name="staff_organisation_invoice_resend",
    ),
    path(
        "staff/organisations/<int:account_id>/payments/<int:payment_id>/refund/",
        views.staff_organisation_refund,
        name="staff_organisation_refund",
    ),
    path(
        "staff/organisations/<int:account_id>/payments/<int:payment_id>/<str:kind>.pdf",
        views.staff_organisation_document,
        name="staff_organisation_document",
    ),
]
