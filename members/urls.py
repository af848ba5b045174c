from django.urls import path

from . import joining
from .backoffice import views as backoffice
from .billing.views import attention, auto_renewal, auto_renewal_demo, membership, staff, webhooks
from .consultations.urls import urlpatterns as consultations
from .organisations.ods_urls import urlpatterns as nhs_organisations
from .organisations.urls import urlpatterns as organisations
from .privacy import views as privacy
from .register_import.urls import urlpatterns as register_import
from .reports import views as reports
from .views import accounts

app_name = "members"

urlpatterns = [
    path("dashboard/", accounts.dashboard, name="dashboard"),
    path("profile/", accounts.profile_edit, name="profile"),
    path("directory/", accounts.directory, name="directory"),
    path("membership/", membership.grades_public, name="grades"),
    path("membership/join/", membership.membership_join, name="join"),
    path("membership/join/check/", joining.join_check, name="join_check"),
    path("membership/pay/", membership.membership_pay, name="pay"),
    path("membership/certificate.pdf", membership.membership_certificate_pdf, name="certificate"),
    path(
        "membership/payments/<int:payment_id>/", membership.payment_detail, name="payment_detail"
    ),
    path(
        "membership/payments/<int:payment_id>/offline/",
        membership.payment_offline,
        name="payment_offline",
    ),
    path(
        "membership/payments/<int:payment_id>/return/",
        membership.payment_return,
        name="payment_return",
    ),
    path(
        "membership/payments/<int:payment_id>/refund-request/",
        membership.payment_refund_request_view,
        name="payment_refund_request",
    ),
    path(
        "membership/payments/<int:payment_id>/receipt.pdf",
        membership.payment_receipt_pdf,
        name="payment_receipt",
    ),
    path(
        "membership/payments/<int:payment_id>/invoice.pdf",
        membership.payment_invoice_pdf,
        name="payment_invoice",
    ),
    path(
        "membership/auto-renewal/start/",
        auto_renewal.auto_renewal_start_view,
        name="auto_renewal_start",
    ),
    path(
        "membership/auto-renewal/return/",
        auto_renewal.auto_renewal_return,
        name="auto_renewal_return",
    ),
    path(
        "membership/auto-renewal/stop/",
        auto_renewal.auto_renewal_stop_view,
        name="auto_renewal_stop",
    ),
    path(
        "membership/auto-renewal/stop/<str:token>/",
        auto_renewal.auto_renewal_stop_link,
        name="auto_renewal_stop_link",
    ),
    path(
        "membership/auto-renewal/payment-method/",
        auto_renewal.auto_renewal_payment_method,
        name="auto_renewal_payment_method",
    ),
    path(
        "membership/auto-renewal/<int:auto_renewal_id>/offline/",
        auto_renewal.auto_renewal_offline,
        name="auto_renewal_offline",
    ),
    path(
        "membership/auto-renewal/simulate/",
        auto_renewal_demo.auto_renewal_simulate,
        name="auto_renewal_simulate",
    ),
    path("account/privacy/", privacy.privacy, name="privacy"),
    path("account/privacy/export/", privacy.privacy_export, name="privacy_export"),
    path(
        "account/privacy/export/<str:token>/",
        privacy.privacy_download,
        name="privacy_download",
    ),
    path("account/privacy/delete/", privacy.privacy_erasure, name="privacy_erasure"),
    path(
        "account/privacy/delete/cancel/",
        privacy.privacy_erasure_cancel,
        name="privacy_erasure_cancel",
    ),
    path("payments/stripe/webhook/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("staff/", backoffice.staff_home, name="staff_home"),
    path("staff/members/", backoffice.members, name="staff_members"),
    path("staff/members/<int:user_id>/", backoffice.member_detail, name="staff_member"),
    path("staff/audit/", backoffice.audit, name="staff_audit"),
    path("staff/membership/approvals/", staff.approvals, name="staff_approvals"),
    path(
        "staff/membership/<int:membership_id>/",
        staff.membership_detail,
        name="staff_membership",
    ),
    path(
        "staff/membership/<int:membership_id>/decision/",
        staff.membership_decision,
        name="staff_membership_decision",
    ),
    path(
        "staff/membership/<int:membership_id>/status/",
        staff.membership_override,
        name="staff_membership_override",
    ),
    path(
        "staff/payments/<int:payment_id>/mark-paid/",
        staff.payment_mark_paid,
        name="staff_payment_mark_paid",
    ),
    path(
        "staff/payments/<int:payment_id>/mark-paid/confirm/",
        staff.payment_mark_paid_confirm,
        name="staff_payment_mark_paid_confirm",
    ),
    path(
        "staff/payments/<int:payment_id>/send-invoice/",
        staff.payment_invoice_resend,
        name="staff_payment_invoice_resend",
    ),
    path(
        "staff/payments/<int:payment_id>/refund/",
        staff.payment_refund,
        name="staff_payment_refund",
    ),
    path("staff/payments/attention/", attention.attention_queue, name="staff_attention"),
    path(
        "staff/payments/attention/<int:payment_id>/",
        attention.attention_action,
        name="staff_attention_action",
    ),
    path(
        "staff/privacy/erasure/",
        privacy.staff_erasure_requests,
        name="staff_erasure_requests",
    ),
    path(
        "staff/privacy/erasure/<int:request_id>/",
        privacy.staff_erasure_request,
        name="staff_erasure_request",
    ),
    path(
        "staff/privacy/erasure/<int:request_id>/decide/",
        privacy.staff_erasure_decide,
        name="staff_erasure_decide",
    ),
    path("staff/reports/", reports.reports_page, name="staff_reports"),
    path("staff/reports/members.csv", reports.member_export, name="staff_member_export"),
    path("staff/reports/<slug:slug>.csv", reports.report_csv, name="staff_report_csv"),
    *consultations,
    *register_import,
    *nhs_organisations,
    *organisations,
    path("staff/reports/<slug:anchor>/", reports.report_section, name="staff_report_section"),
]
