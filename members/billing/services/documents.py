"""The PDFs of a payment: its invoice and its receipt."""

import datetime

from django.conf import settings
from django.utils import timezone

from igpm.pdf import pdf_render
from members.models import MembershipPeriod, Payment

from .membership import PeriodStart, membership_next_period_start

INVOICE_DUE_DAYS = 30
VOID_STATUSES = (Payment.Status.CANCELLED, Payment.Status.EXPIRED, Payment.Status.FAILED)


def invoice_pdf(*, payment: Payment) -> bytes:
    """The invoice as issued; stamped VOID once it is cancelled, with the
    number that replaced it."""
    void = payment.status in VOID_STATUSES
    context = {
        "payment": payment,
        "void": void,
        "bank": {
            "account_name": settings.IGPM_BANK_ACCOUNT_NAME,
            "sort_code": settings.IGPM_BANK_SORT_CODE,
            "account_number": settings.IGPM_BANK_ACCOUNT_NUMBER,
        },
        "due_on": timezone.localdate(payment.created_at)
        + datetime.timedelta(days=INVOICE_DUE_DAYS),
    }
    if payment.status == Payment.Status.PENDING and payment.membership_id:
        context["period_start"] = membership_next_period_start(
            membership=payment.membership, paid_on=timezone.localdate()
        )
    return pdf_render("members/pdf/invoice.html", context)


def receipt_period_start(*, payment: Payment) -> PeriodStart | None:
    """How the year this payment bought was dated, for its receipt."""
    period = MembershipPeriod.objects.filter(payment=payment).first()
    if period is None or payment.paid_at is None:
        return None
    return PeriodStart.of_period(
        starts_on=period.starts_on, paid_on=timezone.localdate(payment.paid_at)
    )


def receipt_pdf(*, payment: Payment) -> bytes:
    payment.period = MembershipPeriod.objects.filter(payment=payment).first()
    return pdf_render(
        "members/pdf/receipt.html",
        {"payment": payment, "period_start": receipt_period_start(payment=payment)},
    )
