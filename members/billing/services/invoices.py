"""Invoices: issuing one, sending it again, replacing it when the details
change, and recording that the practice paid it.

The details of an invoice are what is printed on it and where it goes:
the amount, the grade, the purpose (joining or renewing), the paying
organisation, the billing address, the purchase order number and the
accounts email. Asking again with the same details (ignoring case and
spacing) sends the same open invoice again; any other change cancels it
and issues a new number.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from igpm.emails import email_build
from members.audit import audit_record
from members.exceptions import (
    ConfirmationNeeded,
    IllegalTransition,
    InvoiceAlreadyPaid,
    MembershipError,
)
from members.models import InvoiceEmail, Membership, Payment, User

from .documents import invoice_pdf
from .payments import payment_create, payment_fulfil

UNPAID_CLOSED = (Payment.Status.CANCELLED, Payment.Status.EXPIRED, Payment.Status.FAILED)
PAID = (Payment.Status.PAID, Payment.Status.PARTIALLY_REFUNDED, Payment.Status.REFUNDED)


@dataclass(frozen=True)
class InvoiceDetails:
    organisation: str
    address: str = ""
    purchase_order: str = ""
    accounts_email: str = ""

    @classmethod
    def of_payment(cls, payment: Payment) -> "InvoiceDetails":
        return cls(
            organisation=payment.invoice_organisation,
            address=payment.invoice_address,
            purchase_order=payment.invoice_purchase_order,
            accounts_email=payment.invoice_accounts_email,
        )

    def tidied(self) -> "InvoiceDetails":
        """As stored: runs of spaces closed up, blank address lines gone."""
        lines = (" ".join(line.split()) for line in self.address.splitlines())
        return InvoiceDetails(
            organisation=" ".join(self.organisation.split()),
            address="\n".join(line for line in lines if line),
            purchase_order=self.purchase_order.strip(),
            accounts_email=self.accounts_email.strip(),
        )

    def key(self) -> tuple[str, ...]:
        tidy = self.tidied()
        values = (tidy.organisation, tidy.address, tidy.purchase_order, tidy.accounts_email)
        return tuple(value.casefold() for value in values)


@dataclass(frozen=True)
class InvoiceRequested:
    payment: Payment
    outcome: str  # "issued", "resent" or "replaced"
    recipients: list[str]
    replaced: Payment | None = None


def _purpose(membership: Membership) -> str:
    if membership.status == Membership.Status.AWAITING_PAYMENT:
        return Payment.Purpose.JOIN
    return Payment.Purpose.RENEW


def _unchanged(invoice: Payment, membership: Membership, details: InvoiceDetails) -> bool:
    return (
        invoice.amount_pence == membership.grade.annual_fee_pence
        and invoice.grade_id == membership.grade_id
        and invoice.purpose == _purpose(membership)
        and InvoiceDetails.of_payment(invoice).key() == details.key()
    )


@transaction.atomic
def invoice_request(
    *, membership: Membership, by: User, details: InvoiceDetails
) -> InvoiceRequested:
    """Issue an invoice for the next year, or send the open one again if
    nothing on it would change. Either way it is emailed, with the PDF."""
    # The open payments before the membership, in the order payment_fulfil
    # takes them: staff marking the invoice paid at this moment is waited
    # for, not deadlocked with.
    open_payments = list(
        Payment.objects.select_for_update()
        .filter(membership_id=membership.pk, status=Payment.Status.PENDING)
        .order_by("-pk")
    )
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("grade", "user")
        .get(pk=membership.pk)
    )
    if not membership.payable:
        raise MembershipError("There is nothing to pay for at the moment.")
    details = details.tidied()
    if not details.organisation:
        raise MembershipError("Enter the name of the organisation paying the invoice.")
    current = next((p for p in open_payments if p.method == Payment.Method.INVOICE), None)
    if current is not None and _unchanged(current, membership, details):
        send = _resend(payment=current, by=by)
        return InvoiceRequested(payment=current, outcome="resent", recipients=send.recipients)

    if current is not None:
        # Cancelled here, with its own audit entry, before the new one
        # exists: payment_create closes any other open payment itself.
        current.status = Payment.Status.CANCELLED
        current.save(update_fields=["status", "updated_at"])
    payment = payment_create(
        membership=membership,
        method=Payment.Method.INVOICE,
        by=by,
        invoice_organisation=details.organisation,
        invoice_purchase_order=details.purchase_order,
    )
    payment.invoice_address = details.address
    payment.invoice_accounts_email = details.accounts_email
    payment.save(update_fields=["invoice_address", "invoice_accounts_email", "updated_at"])
    if current is not None:
        current.invoice_replaced_by = payment
        current.save(update_fields=["invoice_replaced_by", "updated_at"])
        audit_record(
            actor=by,
            subject=membership.user,
            target=current,
            action="invoice_cancelled",
            from_state=Payment.Status.PENDING,
            to_state=Payment.Status.CANCELLED,
            reason=f"The details changed: replaced by {payment.invoice_number}.",
        )
    send = _email_queue(payment=payment, reason=InvoiceEmail.Reason.ISSUED, by=by)
    return InvoiceRequested(
        payment=payment,
        outcome="replaced" if current else "issued",
        recipients=send.recipients,
        replaced=current,
    )


@transaction.atomic
def invoice_resend(*, payment: Payment, by: User) -> InvoiceEmail:
    """Email an open invoice again, on purpose: a new, recorded sending."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.method != Payment.Method.INVOICE or payment.status != Payment.Status.PENDING:
        raise IllegalTransition("Only an open invoice is sent again.")
    return _resend(payment=payment, by=by)


def _resend(*, payment: Payment, by: User) -> InvoiceEmail:
    if payment.membership_id is None:
        # An organisation's invoice goes to its administrators.
        from members.organisations.seats import organisation_invoice_email_queue

        send = organisation_invoice_email_queue(
            payment=payment, reason=InvoiceEmail.Reason.RESENT, by=by
        )
        audit_record(
            actor=by,
            subject=payment.user,
            target=payment,
            action="invoice_resent",
            data={"recipients": send.recipients},
        )
        return send
    send = _email_queue(payment=payment, reason=InvoiceEmail.Reason.RESENT, by=by)
    audit_record(
        actor=by,
        subject=payment.membership.user,
        target=payment,
        action="invoice_resent",
        data={"recipients": send.recipients},
    )
    return send


def _email_queue(*, payment: Payment, reason: str, by: User | None) -> InvoiceEmail:
    from members.billing.tasks import invoice_email_task

    recipients = [payment.membership.user.email]
    accounts = payment.invoice_accounts_email
    if accounts and accounts.casefold() != recipients[0].casefold():
        recipients.append(accounts)
    send = InvoiceEmail.objects.create(
        payment=payment, reason=reason, recipients=recipients, requested_by=by
    )
    invoice_email_task.delay_on_commit(send.pk)
    return send


def invoice_email_send(*, send_id: int) -> bool:
    """Send one recorded invoice email, once; returns whether it went."""
    with transaction.atomic():
        send = InvoiceEmail.objects.select_for_update().get(pk=send_id)
        if send.sent_at is not None:
            return False
        payment = Payment.objects.select_related("membership__user", "grade").get(
            pk=send.payment_id
        )
        email_build(
            to=send.recipients,
            template="members/email/invoice",
            context={
                "payment": payment,
                "resent": send.reason == InvoiceEmail.Reason.RESENT,
                "replaces": Payment.objects.filter(invoice_replaced_by=payment)
                .exclude(status__in=PAID)
                .order_by("-pk")
                .first(),
            },
            attachments=[
                (f"{payment.invoice_number}.pdf", invoice_pdf(payment=payment), "application/pdf")
            ],
        ).send()
        send.sent_at = timezone.now()
        send.save(update_fields=["sent_at"])
    return True


def _already_paid(payment: Payment) -> InvoiceAlreadyPaid:
    when = timezone.localtime(payment.paid_at)
    who = payment.invoice_marked_paid_by
    by = f" by {who.get_full_name() or who.email}" if who else ""
    return InvoiceAlreadyPaid(
        f"Invoice {payment.invoice_number} was already marked paid{by} at "
        f"{when:%H:%M} on {date_format(when, 'j F Y')}."
    )


@transaction.atomic
def invoice_mark_paid(*, payment: Payment, by: User, confirmed: bool = False) -> Payment:
    """Record that the practice paid this invoice: it buys one year.

    The row is locked first, so of two clicks at once the second is told
    who marked it paid. A cancelled invoice can still be paid by the
    practice: once staff confirm it, any newer open payment is cancelled
    (so only one of them buys the year) and this one is honoured.
    """
    # No join here: a row read after waiting for the lock would come back
    # with the joined user of the old version (none).
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.method != Payment.Method.INVOICE:
        raise IllegalTransition("Only invoices are marked paid by hand.")
    if payment.status in PAID:
        raise _already_paid(payment)
    if payment.status in UNPAID_CLOSED:
        if not confirmed:
            raise ConfirmationNeeded(
                f"Invoice {payment.invoice_number} was cancelled: confirm it was paid."
            )
        _reinstate(payment=payment, by=by)
    elif payment.status != Payment.Status.PENDING:
        raise IllegalTransition(f"Invoice {payment.invoice_number} cannot be marked paid.")
    if not payment_fulfil(payment_id=payment.pk, actor=by):
        raise IllegalTransition(f"Invoice {payment.invoice_number} cannot be marked paid.")
    Payment.objects.filter(pk=payment.pk).update(invoice_marked_paid_by=by)
    payment.refresh_from_db()
    return payment


def _reinstate(*, payment: Payment, by: User) -> None:
    """Reopen a cancelled invoice the practice paid after all, cancelling
    whatever replaced it. Payments are locked before the membership, in
    the order payment_fulfil takes them."""
    newer_open = list(
        Payment.objects.select_for_update()
        .filter(membership_id=payment.membership_id, status=Payment.Status.PENDING)
        .exclude(pk=payment.pk)
    )
    membership = Membership.objects.select_for_update().get(pk=payment.membership_id)
    later = (
        # Paid since this invoice was issued: that payment bought the year
        # this invoice was for.
        Payment.objects.filter(
            membership=membership, paid_at__gte=payment.created_at, status__in=PAID
        )
        .exclude(pk=payment.pk)
        .order_by("paid_at")
        .first()
    )
    if later is not None:
        label = later.invoice_number or later.receipt_number or f"payment {later.pk}"
        raise MembershipError(
            f"{label} already paid for this year on "
            f"{date_format(timezone.localtime(later.paid_at), 'j F Y')}. If the practice "
            f"paid invoice {payment.invoice_number} as well, refund them."
        )
    reason = f"Invoice {payment.invoice_number} was paid instead."
    for other in newer_open:
        other.status = Payment.Status.CANCELLED
        fields = ["status", "updated_at"]
        if other.method == Payment.Method.INVOICE:
            other.invoice_replaced_by = payment
            fields.append("invoice_replaced_by")
        other.save(update_fields=fields)
        audit_record(
            actor=by,
            subject=membership.user,
            target=other,
            action="invoice_cancelled" if other.invoice_number else "payment_cancelled",
            from_state=Payment.Status.PENDING,
            to_state=Payment.Status.CANCELLED,
            reason=reason,
        )
    old_status = payment.status
    payment.status = Payment.Status.PENDING
    payment.invoice_replaced_by = None
    payment.save(update_fields=["status", "invoice_replaced_by", "updated_at"])
    audit_record(
        actor=by,
        subject=membership.user,
        target=payment,
        action="invoice_reinstated",
        from_state=old_status,
        to_state=Payment.Status.PENDING,
        reason="The practice paid this invoice after it was cancelled.",
        data={"cancelled": [other.pk for other in newer_open]},
    )
