"""Renewal reminders for memberships on automatic renewal say it will
renew, when and for how much, and how to stop; never "renew now"."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.billing.services.auto_renewal import stop_token_read
from members.billing.services.notices import notices_send, notices_sweep
from members.billing.services.payments import payment_create, payment_fulfil
from members.models import AutoRenewal, MembershipNotice
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db
D = datetime.date


def on(day: D):
    return time_machine.travel(f"{day.isoformat()}T12:00:00+00:00", tick=False)


def paid_member(**profile):
    with on(D(2026, 1, 10)):
        membership = MembershipFactory(**profile)
        payment = payment_create(membership=membership, method="offline", by=membership.user)
        payment_fulfil(payment_id=payment.pk)
    membership.refresh_from_db()
    return membership


def renewal(membership, *, status=AutoRenewal.Status.ACTIVE, method="card", amount=12000):
    return AutoRenewal.objects.create(
        membership=membership,
        grade=membership.grade,
        method=method,
        status=status,
        next_collection_on=membership.expires_on + datetime.timedelta(days=1),
        next_amount_pence=amount,
        card_last4="4242" if method == "card" else "",
        ended_at=datetime.datetime.now(datetime.UTC) if status == "ended" else None,
    )


def send_due(day: D) -> list:
    ids: list[int] = []
    mail.outbox.clear()
    with on(day):
        notices_sweep(enqueue=ids.extend)
        notices_send(notice_ids=ids)
    return list(mail.outbox)


@pytest.mark.parametrize("day", [D(2026, 11, 10), D(2026, 12, 10), D(2027, 1, 2)])
def test_a_reminder_for_an_automatic_renewal_says_when_and_how_much(day):
    membership = paid_member()
    auto = renewal(membership, amount=12500)
    (email,) = send_due(day)
    assert email.subject.endswith("Your IGPM membership renews automatically on 10 January 2027")
    assert "it renews automatically: you do not need to do anything" in email.body
    assert "On 10 January 2027 we will collect £125.00 from your card" in email.body
    assert "Stop automatic renewal" in email.body
    assert "/dashboard/" in email.body
    # The one-click link stops this renewal, with no sign-in.
    token = re.search(r"/membership/auto-renewal/stop/([^/\s]+)/", email.body).group(1)
    assert stop_token_read(token) == auto
    assert "Renew now" not in email.body
    assert "/membership/pay/" not in email.body  # no link to pay by hand
    html = email.alternatives[0][0]
    assert "renews automatically" in html


def test_a_direct_debit_reminder_names_the_direct_debit():
    membership = paid_member()
    renewal(membership, method="bacs_debit", amount=9500)
    (email,) = send_due(D(2026, 12, 10))
    assert "we will collect £95.00 by Direct Debit" in email.body
    assert "Direct Debit reference" in email.body


@pytest.mark.parametrize(
    "status",
    [AutoRenewal.Status.STOPPING, AutoRenewal.Status.SETTING_UP, AutoRenewal.Status.ENDED],
)
def test_a_membership_that_will_not_renew_by_itself_gets_renew_now(status):
    membership = paid_member()
    renewal(membership, status=status)
    (email,) = send_due(D(2026, 12, 10))
    assert "Renew now" in email.body
    assert "/membership/pay/" in email.body
    assert "renews automatically" not in email.body


def test_the_grace_notice_keeps_its_wording_even_with_a_failed_collection():
    """Past expiry the member must act: the expired notice is unchanged."""
    membership = paid_member()
    renewal(membership, status=AutoRenewal.Status.PAST_DUE)
    (email,) = send_due(D(2027, 1, 12))
    assert MembershipNotice.objects.get().kind == "expired"
    assert "renews automatically" not in email.body


def test_automatic_wording_costs_no_extra_query_per_reminder():
    plain = [paid_member() for _ in range(3)]
    auto = [paid_member() for _ in range(3)]
    for membership in auto:
        renewal(membership)
    ids: list[int] = []
    with on(D(2026, 12, 10)):
        notices_sweep(enqueue=ids.extend)
    assert len(ids) == len(plain) + len(auto)
    by_owner = dict(MembershipNotice.objects.values_list("pk", "period__membership_id"))
    plain_ids = [pk for pk in ids if by_owner[pk] in {m.pk for m in plain}]
    auto_ids = [pk for pk in ids if by_owner[pk] in {m.pk for m in auto}]
    mail.outbox.clear()
    with CaptureQueriesContext(connection) as plain_queries:
        notices_send(notice_ids=plain_ids)
    with CaptureQueriesContext(connection) as auto_queries:
        notices_send(notice_ids=auto_ids)
    assert len(auto_queries) == len(plain_queries)
    assert sum("renews automatically" in email.body for email in mail.outbox) == 3
