"""The daily safety net under the webhooks: read back from Stripe the
Checkout sessions of the last few days and settle every paid one the
portal has not, through the same idempotent path as the webhook.

Work goes a page of sessions at a time: one query loads the payments of a
whole page, so a page where everything is already settled costs one query
however many sessions it holds. Running it twice changes nothing the
second time.

Automatic renewals are covered the same way: the paid invoices of the last
few days are read back a page at a time (two queries a page: their
subscriptions' renewals, and the payments that already hold them), and each
paid subscription invoice with no payment is settled through the webhook's
``invoice_settle``, so it buys its one year, and the next collection is
brought forward as the webhook does for a renewal in grace. A page of
sessions holding finished automatic-renewal Checkouts costs one more query,
to finish any set-up whose webhook never came.
"""

import datetime
import logging
from dataclasses import asdict, dataclass

from django.conf import settings
from django.utils import timezone

from members.billing import stripe_gateway
from members.models import AutoRenewal, Payment

from .auto_renewal_events import auto_renewal_checkout_settle, invoice_paid_reconcile
from .stripe_webhooks import session_settle

logger = logging.getLogger(__name__)

PAGE_SIZE = 100


@dataclass
class ReconcileResult:
    sessions: int = 0
    paid: int = 0
    fulfilled: int = 0
    held: int = 0
    unknown: int = 0
    pages: int = 0
    invoices: int = 0
    invoices_fulfilled: int = 0
    invoices_unknown: int = 0
    set_ups_finished: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def stripe_reconcile(
    *, now: datetime.datetime | None = None, page_size: int = PAGE_SIZE
) -> ReconcileResult:
    """Settle the paid sessions of the last ``STRIPE_RECONCILE_DAYS`` days
    that the portal missed; return what was found and done."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=settings.STRIPE_RECONCILE_DAYS)
    result = ReconcileResult()
    for page in stripe_gateway.checkout_sessions_since(
        int(since.timestamp()), page_size=page_size
    ):
        result.pages += 1
        result.sessions += len(page)
        # Automatic renewals' sessions buy nothing themselves (their
        # invoices do, and are read below); one finished at Stripe whose
        # set-up the portal missed is finished now.
        _finish_subscription_sessions(page, result)
        paid = [s for s in page if s.payment_status == "paid" and s.mode != "subscription"]
        result.paid += len(paid)
        ids = {int(s.client_reference_id) for s in paid if s.client_reference_id.isdigit()}
        payments = (
            Payment.objects.filter(pk__in=ids)
            .only("pk", "status", "stripe_session_id", "amount_pence", "method")
            .in_bulk()
        )
        for session in paid:
            payment = payments.get(int(session.client_reference_id or 0))
            if payment is None or payment.method != Payment.Method.STRIPE:
                result.unknown += 1
                logger.error(
                    "Stripe session %s is paid but names no card payment of the portal (%r)",
                    session.id,
                    session.client_reference_id,
                )
                continue
            if payment.status not in Payment.FULFILLABLE:
                continue  # settled already (paid, held, refunded)
            if payment.stripe_session_id not in (None, session.id):
                logger.error(
                    "Stripe session %s is paid for payment %s, whose session is %s",
                    session.id,
                    payment.pk,
                    payment.stripe_session_id,
                )
                result.unknown += 1
                continue
            if payment.stripe_session_id is None:
                # The portal stopped between Stripe making the session and
                # the session id being stored.
                Payment.objects.filter(pk=payment.pk, stripe_session_id__isnull=True).update(
                    stripe_session_id=session.id
                )
            outcome = session_settle(
                payment=payment, session=session, actor_label="stripe reconciliation"
            )
            if outcome == "fulfilled":
                result.fulfilled += 1
            elif outcome in ("amount mismatch", "held"):
                result.held += 1
            logger.warning(
                "Reconciliation: session %s for payment %s: %s", session.id, payment.pk, outcome
            )
    _reconcile_invoices(since=since, page_size=page_size, result=result)
    return result


def _finish_subscription_sessions(page: list, result: "ReconcileResult") -> None:
    done = {s.id for s in page if s.mode == "subscription" and s.status == "complete"}
    if not done:
        return
    missed = AutoRenewal.objects.filter(
        stripe_checkout_session_id__in=done, status=AutoRenewal.Status.SETTING_UP
    ).values_list("pk", flat=True)
    for renewal_id in missed:
        outcome = auto_renewal_checkout_settle(
            auto_renewal_id=renewal_id, actor_label="stripe reconciliation"
        )
        result.set_ups_finished += 1
        logger.warning("Reconciliation: automatic renewal %s: %s", renewal_id, outcome)


def _reconcile_invoices(*, since: datetime.datetime, page_size: int, result) -> None:
    for page in stripe_gateway.paid_invoices_since(int(since.timestamp()), page_size=page_size):
        invoices = [i for i in page if i.subscription]
        result.invoices += len(invoices)
        renewals = {
            r.stripe_subscription_id: r
            for r in AutoRenewal.objects.filter(
                stripe_subscription_id__in={i.subscription for i in invoices}
            ).only("pk", "stripe_subscription_id", "membership_id", "method")
        }
        settled = set(
            Payment.objects.filter(stripe_invoice_id__in=[i.id for i in invoices]).values_list(
                "stripe_invoice_id", flat=True
            )
        )
        for invoice in invoices:
            if invoice.id in settled:
                continue
            renewal = renewals.get(invoice.subscription)
            if renewal is None:
                result.invoices_unknown += 1
                logger.error(
                    "Stripe invoice %s is paid for subscription %s, unknown to the portal",
                    invoice.id,
                    invoice.subscription,
                )
                continue
            outcome = invoice_paid_reconcile(
                renewal=renewal, invoice=invoice, actor_label="stripe reconciliation"
            )
            if outcome == "fulfilled":
                result.invoices_fulfilled += 1
            logger.warning("Reconciliation: invoice %s: %s", invoice.id, outcome)
