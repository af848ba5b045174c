"""When the year a payment buys starts: the pay page and the receipt (email
and PDF) say the same thing, for a new joiner, an early renewal and a
renewal in grace."""

import datetime
import io
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from members.billing.services.membership import PeriodStart, membership_next_period_start
from members.billing.services.notices import notices_sweep
from members.billing.services.payments import payment_create, payment_fulfil
from members.models import Membership
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db
D = datetime.date


def on(day: D):
    return time_machine.travel(f"{day.isoformat()}T12:00:00+00:00", tick=False)


def pdf_text(content: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())


def flat(text: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())


def pay(membership, captured) -> Membership:
    payment = payment_create(membership=membership, method="offline", by=membership.user)
    with captured(execute=True):
        payment_fulfil(payment_id=payment.pk)
    membership.refresh_from_db()
    return membership


def paid_up_until(day: D, captured) -> Membership:
    """A member whose first year ends on ``day``."""
    with on(day - datetime.timedelta(days=364)):
        membership = pay(MembershipFactory(), captured)
    assert membership.expires_on == day
    mail.outbox.clear()
    return membership


def pay_page(client, membership) -> str:
    client.force_login(membership.user)
    return flat(client.get(reverse("members:pay")).content.decode())


def receipt_texts(client, membership, captured) -> tuple[str, str, str]:
    """The receipt email body, its attached PDF and the downloaded PDF."""
    membership = pay(membership, captured)
    [email] = mail.outbox
    payment = membership.payments.order_by("-pk").first()
    attached = email.attachments[0][1]
    client.force_login(membership.user)
    downloaded = client.get(reverse("members:payment_receipt", args=[payment.pk])).content
    return " ".join(email.body.split()), pdf_text(attached), pdf_text(downloaded)


def test_the_rule_for_each_case():
    joiner = Membership(status=Membership.Status.AWAITING_PAYMENT)
    early = Membership(status=Membership.Status.ACTIVE, expires_on=D(2027, 1, 9))
    grace = Membership(status=Membership.Status.IN_GRACE, expires_on=D(2027, 1, 9))
    lapsed = Membership(status=Membership.Status.LAPSED, expires_on=D(2026, 1, 9))
    today = D(2027, 1, 25)
    assert membership_next_period_start(membership=joiner, paid_on=today) == PeriodStart(
        starts_on=today, rule=PeriodStart.Rule.ON_PAYMENT
    )
    assert membership_next_period_start(membership=early, paid_on=D(2026, 12, 1)) == PeriodStart(
        starts_on=D(2027, 1, 10), rule=PeriodStart.Rule.AFTER_EXPIRY
    )
    start = membership_next_period_start(membership=grace, paid_on=today)
    assert start == PeriodStart(
        starts_on=D(2027, 1, 10), rule=PeriodStart.Rule.BACKDATED, pay_by=D(2027, 2, 8)
    )
    assert start.ends_on == D(2028, 1, 9)
    assert membership_next_period_start(membership=lapsed, paid_on=today).starts_on == today


def test_new_joiner_starts_the_day_payment_arrives(client, django_capture_on_commit_callbacks):
    with on(D(2026, 11, 23)):
        membership = MembershipFactory()
        page = pay_page(client, membership)
        assert "Your year starts on the day your payment arrives" in page
        email, attached, downloaded = receipt_texts(
            client, membership, django_capture_on_commit_callbacks
        )
    expected = (
        "Your year runs from 23 November 2026, the day your payment arrived, to 22 November 2027."
    )
    assert expected in email
    assert expected in attached
    assert expected in downloaded


def test_early_renewal_starts_the_day_after_the_current_expiry(
    client, django_capture_on_commit_callbacks
):
    membership = paid_up_until(D(2027, 1, 9), django_capture_on_commit_callbacks)
    with on(D(2026, 12, 1)):
        page = pay_page(client, membership)
        assert (
            "Your new year starts on 10 January 2027, the day after your current year ends, "
            "and runs to 9 January 2028" in page
        )
        email, attached, downloaded = receipt_texts(
            client, membership, django_capture_on_commit_callbacks
        )
    expected = (
        "Your new year runs from 10 January 2027, the day after your previous year ends, "
        "to 9 January 2028."
    )
    assert expected in email
    assert expected in attached
    assert expected in downloaded


def test_renewal_in_grace_is_backdated_to_the_day_after_the_old_expiry(
    client, django_capture_on_commit_callbacks
):
    membership = paid_up_until(D(2027, 1, 9), django_capture_on_commit_callbacks)
    with on(D(2027, 1, 25)):
        notices_sweep(enqueue=lambda ids: None)
        membership.refresh_from_db()
        assert membership.status == Membership.Status.IN_GRACE
        page = pay_page(client, membership)
        assert "Your year starts on the day your payment arrives" not in page
        assert (
            "Your new year is backdated to 10 January 2027, the day after your last year "
            "ended, and runs to 9 January 2028, so there is no gap in your membership" in page
        )
        assert "as long as payment arrives by 8 February 2027" in page
        email, attached, downloaded = receipt_texts(
            client, membership, django_capture_on_commit_callbacks
        )
    expected = (
        "Your new year is backdated to 10 January 2027, the day after your last year "
        "ended, and runs to 9 January 2028, so there is no gap in your membership."
    )
    assert expected in email
    assert expected in attached
    assert expected in downloaded
    assert membership.periods.order_by("-starts_on").first().starts_on == D(2027, 1, 10)


def test_an_open_invoice_in_grace_says_the_year_is_backdated(
    client, django_capture_on_commit_callbacks
):
    membership = paid_up_until(D(2027, 1, 9), django_capture_on_commit_callbacks)
    with on(D(2027, 1, 25)):
        notices_sweep(enqueue=lambda ids: None)
        client.force_login(membership.user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("members:pay"),
                {"method": "invoice", "invoice_organisation": "Riverside Surgery"},
            )
        page = flat(client.get(response["Location"]).content.decode())
        [email] = mail.outbox
        invoice = pdf_text(email.attachments[0][1])
    expected = "Your new year is backdated to 10 January 2027, the day after your last year ended"
    assert expected in page
    assert expected in invoice
    assert "Your membership starts as soon as" not in page
