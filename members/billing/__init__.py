"""Billing: grades, memberships and their years, payments by card and
invoice, Stripe, receipts, refunds, the needs-attention queue, the daily
reconciliation and the renewal reminders.

Where each money rule lives:

- what a grade costs, a membership's states, what a year is:
  ``models/membership.py``; a payment, its refunds, its emails and the
  Stripe events seen: ``models/payments.py``. Both are ``members`` models
  (``members.Payment``), re-exported by ``members.models``.
- when a year starts and ends, applying, approval, status overrides:
  ``services/membership.py``
- opening, paying and closing a payment, buying exactly one year, money
  held because it bought none: ``services/payments.py``
- a refund and what it does to the membership: ``services/refunds.py``
- one open Checkout session per payment: ``services/card_payments.py``
- invoices (issue, resend, replace, mark paid): ``services/invoices.py``;
  the invoice and receipt PDFs: ``services/documents.py``
- the needs-attention queue and its actions: ``services/attention.py``
- Stripe's webhook events: ``services/stripe_webhooks.py``; the daily
  safety net under them: ``services/reconciliation.py``; the only module
  that calls Stripe: ``stripe_gateway.py``
- grace, lapse and renewal reminders: ``services/notices.py``; emails
  about a payment: ``services/payment_notices.py``

Reads are in ``selectors``, input in ``forms``, pages in ``views/``
(``membership``: the member's; ``staff``: approvals, decisions, mark
paid, refunds; ``attention``: the queue; ``webhooks``: Stripe's endpoint),
Celery entry points in ``tasks``. The templates are under
templates/members/ (``staff/`` for the membership team, ``pdf/`` and
``email/`` for documents and emails).
"""
