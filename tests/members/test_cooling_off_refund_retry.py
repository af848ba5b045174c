"""The cooling-off refund owed when a member stops automatic renewal is
never lost: when Stripe does not answer, the stop goes through, the member
is told the refund is on its way, and the refund is asked again under the
same key (a retrying task, then the daily reconciliation), at most
``MAX_ASKS`` times; if it still is not made, the payment goes to the
membership team's needs-attention queue, where "Refund" makes it."""

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from members.billing import tasks
from members.billing.services.attention import can_refund
from members.billing.services.auto_renewal import auto_renewal_stop
from members.billing.services.stripe_refunds import (
    MAX_ASKS,
    refund_intent_retry,
    refund_intents_reconcile,
)
from members.billing.views.auto_renewal import stopped_message
from members.exceptions import PaymentProviderError
from members.models import AutoRenewal, Payment, Refund, RefundIntent
from tests.factories import team_member
from tests.members.test_auto_renewal_ending import collected
from tests.members.test_auto_renewal_stripe import committed, member
from tests.members.test_stripe_refund_intents import LATER


def refund_posts(fake):
    return sum(1 for method, path in fake.requests if (method, path) == ("POST", "/v1/refunds"))


def stop(membership, renewal):
    with committed():
        return auto_renewal_stop(auto_renewal_id=renewal.pk, actor=membership.user, actor_label="")


def told_on_its_way():
    (email,) = [m for m in mail.outbox if "refunded" in m.subject.lower()]
    assert "being refunded to you in full" in email.body
    assert "Stripe has not confirmed the refund yet" in email.body
    assert "do not need to do anything" in email.body


def refunded_once(fake, membership, expires, payment):
    membership.refresh_from_db()
    payment.refresh_from_db()
    assert len(fake.refunds) == 1
    (refund,) = Refund.objects.all()
    assert refund.stripe_refund_id in fake.refunds
    assert refund.effect == Refund.Effect.SHORTEN
    assert membership.expires_on == expires  # the refunded year is off, once
    assert payment.status == Payment.Status.REFUNDED
    return refund


def queue_retries(monkeypatch):
    """The retrying task's runs, in the order queued (run by the test, as
    a worker would, without its countdowns)."""
    queued = []
    monkeypatch.setattr(
        tasks.refund_intent_retry_task,
        "apply_async",
        lambda args, **kw: queued.append((args, kw)),
    )
    return queued


@pytest.mark.django_db
def test_stripe_down_for_every_try_sends_the_refund_to_the_queue(client, stripe_fake, monkeypatch):
    membership = member()
    expires = membership.expires_on
    renewal, sub, payment = collected(client, stripe_fake, membership)
    queued = queue_retries(monkeypatch)
    stripe_fake.refunds_down = 10_000
    result = stop(membership, renewal)
    # The stop went through, and the member was told the refund is coming.
    renewal.refresh_from_db()
    assert result.changed and renewal.status == AutoRenewal.Status.ENDED
    assert result.refund is None and result.refund_owed_pence == payment.amount_pence
    assert "is being refunded to you in full" in stopped_message(result)
    assert "runs to" not in stopped_message(result)
    assert stripe_fake.subscriptions[sub["id"]]["status"] == "canceled"
    told_on_its_way()
    intent = RefundIntent.objects.get()
    assert intent.owed and intent.status == RefundIntent.Status.OPEN
    ((args, options),) = queued
    assert args == (intent.pk,) and options["countdown"] > 0
    # The task asks again, and asks for a later retry while Stripe is down.
    for _ in range(MAX_ASKS - 2):
        with pytest.raises(Retry):
            tasks.refund_intent_retry_task.apply(args)
    intent.refresh_from_db()
    assert intent.asks == MAX_ASKS - 1 and intent.status == RefundIntent.Status.OPEN
    # The daily reconciliation makes the last ask, then hands it on.
    with committed():
        assert refund_intents_reconcile(now=timezone.now() + LATER) == (0, 1)
    intent.refresh_from_db()
    assert intent.asks == MAX_ASKS
    assert intent.status == RefundIntent.Status.NOT_MADE
    assert not stripe_fake.refunds and not Refund.objects.exists()
    assert set(stripe_fake.refund_keys) == {intent.stripe_key}  # every ask under the same key
    payment.refresh_from_db()
    assert payment.needs_attention
    assert payment.attention_reason == Payment.Attention.REFUND_OWED
    assert "being refunded to them in full" in payment.attention_member_told
    # Reconciliation asks no more: the tries are bounded.
    posts = refund_posts(stripe_fake)
    assert refund_intents_reconcile(now=timezone.now() + LATER) == (0, 0)
    assert refund_posts(stripe_fake) == posts
    # Stripe is back: the queue shows it, and its "Refund" action makes it.
    stripe_fake.refunds_down = 0
    assert can_refund(payment)
    client.force_login(team_member("Membership team"))
    page = client.get(reverse("members:staff_attention")).content.decode()
    assert "Cooling-off refund owed: Stripe has not made it" in page
    action = reverse("members:staff_attention_action", args=[payment.pk])
    form = page[page.index(f'action="{action}"') :]
    assert 'value="refund"' in form[: form.index("</form>")]
    with committed():
        response = client.post(
            action,
            {f"p{payment.pk}-action": "refund", f"p{payment.pk}-reason": "Cooling-off refund"},
        )
    assert response.status_code == 302
    payment.refresh_from_db()
    assert not payment.needs_attention
    refunded_once(stripe_fake, membership, expires, payment)


@pytest.mark.django_db
def test_stripe_back_on_the_retry_refunds_once_and_emails_once(client, stripe_fake, monkeypatch):
    membership = member()
    expires = membership.expires_on
    renewal, _sub, payment = collected(client, stripe_fake, membership)
    # The retrying task is queued, but Stripe comes back before it runs.
    queued = queue_retries(monkeypatch)
    stripe_fake.refunds_down = 10_000
    stop(membership, renewal)
    (intent,) = RefundIntent.objects.all()
    assert intent.status == RefundIntent.Status.OPEN and [a for a, _ in queued] == [(intent.pk,)]
    told_on_its_way()
    stripe_fake.refunds_down = 0
    mail.outbox.clear()
    with committed():
        assert tasks.refund_intent_retry_task.apply(queued[0][0]).get() == "recorded"
    intent.refresh_from_db()
    assert intent.status == RefundIntent.Status.RECORDED and intent.asks == 2
    refunded_once(stripe_fake, membership, expires, payment)
    assert not mail.outbox  # told once, when they stopped
    # Asked again, by the task or reconciliation: nothing more.
    assert refund_intent_retry(intent_id=intent.pk) == "settled"
    assert refund_intents_reconcile(now=timezone.now() + LATER) == (0, 0)
    refunded_once(stripe_fake, membership, expires, payment)
    payment.refresh_from_db()
    assert not payment.needs_attention


@pytest.mark.django_db
def test_a_lost_answer_is_found_not_asked_again(client, stripe_fake, monkeypatch):
    membership = member()
    expires = membership.expires_on
    renewal, _sub, payment = collected(client, stripe_fake, membership)
    queued = queue_retries(monkeypatch)
    stripe_fake.refund_answers_lost = True
    stop(membership, renewal)
    stripe_fake.refund_answers_lost = False
    assert len(stripe_fake.refunds) == 1 and not Refund.objects.exists()
    posts = refund_posts(stripe_fake)
    # The daily reconciliation reads the refund back, records it, asks nothing.
    with committed():
        assert refund_intents_reconcile(now=timezone.now() + LATER) == (1, 0)
    assert refund_posts(stripe_fake) == posts
    intent = RefundIntent.objects.get()
    assert intent.status == RefundIntent.Status.RECORDED and intent.asks == 1
    refunded_once(stripe_fake, membership, expires, payment)
    # The queued retry then finds nothing to do.
    assert tasks.refund_intent_retry_task.apply(queued[0][0]).get() == "settled"
    refunded_once(stripe_fake, membership, expires, payment)


@pytest.mark.django_db
def test_a_staff_refund_stripe_made_none_for_goes_to_the_queue(client, stripe_fake, monkeypatch):
    from tests.members.test_stripe_refund_intents import refund_in_full

    membership = member()
    _renewal, _sub, payment = collected(client, stripe_fake, membership)
    stripe_fake.refunds_down = 10_000
    with pytest.raises(PaymentProviderError):
        refund_in_full(payment)
    stripe_fake.refunds_down = 0
    assert refund_intents_reconcile(now=timezone.now() + LATER) == (0, 1)
    payment.refresh_from_db()
    assert payment.attention_reason == Payment.Attention.REFUND_NOT_MADE
    assert payment.needs_attention and can_refund(payment)
    assert not RefundIntent.objects.get().owed


@pytest.mark.django_db
def test_stripe_refusing_the_cooling_off_refund_sends_it_to_the_queue_at_once(
    client, stripe_fake, monkeypatch
):
    membership = member()
    renewal, _sub, payment = collected(client, stripe_fake, membership)
    queued = queue_retries(monkeypatch)
    # Refunded in Stripe's dashboard already, which the portal has not heard.
    stripe_fake.refunds["re_dash"] = {
        "id": "re_dash",
        "object": "refund",
        "amount": payment.amount_pence,
        "charge": f"ch_{payment.stripe_payment_intent_id.removeprefix('pi_')}",
        "payment_intent": payment.stripe_payment_intent_id,
        "status": "succeeded",
    }
    result = stop(membership, renewal)
    assert result.changed and result.refund_owed_pence == payment.amount_pence
    assert not queued  # nothing to ask again: Stripe said no
    assert RefundIntent.objects.get().status == RefundIntent.Status.NOT_MADE
    payment.refresh_from_db()
    assert payment.needs_attention
    assert payment.attention_reason == Payment.Attention.REFUND_OWED
    told_on_its_way()


@pytest.mark.django_db
def test_stripe_down_for_reads_too_asks_nothing_blind_and_still_ends_in_the_queue(
    client, stripe_fake, monkeypatch
):
    """When the portal cannot read back what Stripe made, it does not ask
    again (a key is forgotten after a day: asking blind could refund
    twice), but the try still counts, so the tries stay bounded."""
    membership = member()
    renewal, _sub, payment = collected(client, stripe_fake, membership)
    queue_retries(monkeypatch)
    stripe_fake.refunds_down = 10_000
    stop(membership, renewal)
    stripe_fake.refund_reads_down = True
    asked = len(stripe_fake.refund_keys)
    outcomes = [refund_intents_reconcile(now=timezone.now() + LATER) for _ in range(MAX_ASKS + 2)]
    assert outcomes == [(0, 0)] * (MAX_ASKS - 2) + [(0, 1)] + [(0, 0)] * 3
    assert len(stripe_fake.refund_keys) == asked  # nothing asked blind
    intent = RefundIntent.objects.get()
    assert (intent.status, intent.asks) == (RefundIntent.Status.NOT_MADE, MAX_ASKS)
    payment.refresh_from_db()
    assert payment.attention_reason == Payment.Attention.REFUND_OWED
    assert payment.needs_attention
