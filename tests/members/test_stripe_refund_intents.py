"""A refund through Stripe whose record fails after Stripe made it: what
staff asked for is written down first, so the membership ends up as they
chose (here: ended, and its automatic renewal with it), the money is
refunded once, and nothing is lost, whether staff try again, Stripe's
``charge.refunded`` arrives, or reconciliation finds it."""

import datetime

import pytest
from django.db import OperationalError
from django.utils import timezone

from members.billing.services import stripe_refunds
from members.billing.services.attention import payment_refund_card
from members.billing.services.auto_renewal import auto_renewal_stop
from members.billing.services.stripe_refunds import refund_intents_reconcile
from members.billing.tasks import stripe_reconcile_task
from members.exceptions import MembershipError, PaymentProviderError, PaymentProviderRefused
from members.models import AutoRenewal, Membership, Payment, Refund, RefundIntent
from tests.factories import team_member
from tests.members.test_auto_renewal_ending import collected
from tests.members.test_auto_renewal_stripe import committed, member, send
from tests.stripe_fake import charge_object

LATER = datetime.timedelta(minutes=11)


def refund_in_full(payment):
    with committed():
        return payment_refund_card(
            payment=payment,
            amount_pence=payment.amount_pence,
            reason="Left the profession",
            effect=Refund.Effect.END_NOW,
            by=team_member("Membership team"),
        )


def untouched(membership, renewal, payment):
    """Stripe made the refund, the portal has not recorded it: the
    membership and its money are as they were, the intent is open."""
    membership.refresh_from_db()
    renewal.refresh_from_db()
    payment.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE
    assert renewal.status == AutoRenewal.Status.ACTIVE
    assert (payment.status, payment.refunded_pence) == (Payment.Status.PAID, 0)
    assert not Refund.objects.exists()
    (intent,) = RefundIntent.objects.all()
    assert intent.status == RefundIntent.Status.OPEN
    return intent


def as_staff_chose(membership, renewal, payment, fake, sub):
    membership.refresh_from_db()
    renewal.refresh_from_db()
    payment.refresh_from_db()
    assert membership.status == Membership.Status.CANCELLED
    assert renewal.status == AutoRenewal.Status.ENDED
    assert fake.subscriptions[sub["id"]]["status"] == "canceled"
    assert payment.status == Payment.Status.REFUNDED
    (refund,) = Refund.objects.all()
    assert (refund.effect, refund.reason) == (Refund.Effect.END_NOW, "Left the profession")
    assert refund.recorded_by is not None
    assert len(fake.refunds) == 1
    assert refund.stripe_refund_id in fake.refunds
    assert RefundIntent.objects.get().status == RefundIntent.Status.RECORDED
    return refund


@pytest.mark.django_db
def test_a_lost_answer_then_a_retry_by_staff_records_the_one_refund(client, stripe_fake):
    membership = member()
    renewal, sub, payment = collected(client, stripe_fake, membership)
    stripe_fake.refund_answers_lost = True
    with pytest.raises(PaymentProviderError):
        refund_in_full(payment)
    (made,) = stripe_fake.refunds.values()
    intent = untouched(membership, renewal, payment)
    assert made["metadata"] == {"igpm_refund_intent": str(intent.pk)}
    # Staff try again while Stripe still does not answer: no second refund.
    with pytest.raises(PaymentProviderError):
        refund_in_full(payment)
    assert len(stripe_fake.refunds) == 1
    stripe_fake.refund_answers_lost = False
    refund = refund_in_full(payment)
    assert refund.stripe_refund_id == made["id"]
    as_staff_chose(membership, renewal, payment, stripe_fake, sub)


@pytest.mark.django_db
def test_a_lost_answer_then_stripes_charge_refunded_applies_the_staff_effect(client, stripe_fake):
    membership = member()
    renewal, sub, payment = collected(client, stripe_fake, membership)
    stripe_fake.refund_answers_lost = True
    with pytest.raises(PaymentProviderError):
        refund_in_full(payment)
    untouched(membership, renewal, payment)
    (made,) = stripe_fake.refunds.values()
    charge = charge_object(
        {"payment_intent": made["payment_intent"], "amount_total": 9500}, refunds=[made]
    )
    assert send(client, "charge.refunded", charge) == "refunds recorded: 1"
    as_staff_chose(membership, renewal, payment, stripe_fake, sub)
    # Staff's retry, once Stripe answers again, finds it recorded.
    stripe_fake.refund_answers_lost = False
    with pytest.raises(MembershipError):
        refund_in_full(payment)  # nothing left to refund
    assert Refund.objects.count() == 1 and len(stripe_fake.refunds) == 1


@pytest.mark.django_db
def test_the_record_failing_after_stripe_answered_is_recorded_by_reconciliation(
    client, stripe_fake, monkeypatch
):
    membership = member()
    renewal, sub, payment = collected(client, stripe_fake, membership)
    real = stripe_refunds.refund_record
    calls = []

    def failing_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("the database went away")
        return real(**kwargs)

    monkeypatch.setattr(stripe_refunds, "refund_record", failing_once)
    with pytest.raises(OperationalError):
        refund_in_full(payment)
    assert len(stripe_fake.refunds) == 1
    untouched(membership, renewal, payment)
    # A request may still be waiting for Stripe: reconciliation leaves a
    # young intent alone.
    assert refund_intents_reconcile() == (0, 0)
    with committed():
        assert refund_intents_reconcile(now=timezone.now() + LATER) == (1, 0)
    refund = as_staff_chose(membership, renewal, payment, stripe_fake, sub)
    assert refund.recorded_by.groups.filter(name="Membership team").exists()
    assert refund_intents_reconcile(now=timezone.now() + LATER) == (0, 0)
    assert Refund.objects.count() == 1


@pytest.mark.django_db
def test_an_intent_stripe_made_nothing_for_is_closed(client, stripe_fake, monkeypatch):
    membership = member()
    renewal, _sub, payment = collected(client, stripe_fake, membership)

    def not_answering(**kwargs):
        raise PaymentProviderError("Stripe is not answering")

    monkeypatch.setattr(stripe_refunds.stripe_gateway, "refund_create", not_answering)
    with pytest.raises(PaymentProviderError):
        refund_in_full(payment)
    untouched(membership, renewal, payment)
    monkeypatch.undo()
    assert refund_intents_reconcile(now=timezone.now() + LATER) == (0, 1)
    assert RefundIntent.objects.get().status == RefundIntent.Status.NOT_MADE
    untouched_again = Membership.objects.get(pk=membership.pk)
    assert untouched_again.status == Membership.Status.ACTIVE
    # Staff can now ask again, under a new key.
    refund_in_full(payment)
    assert RefundIntent.objects.filter(status=RefundIntent.Status.RECORDED).count() == 1


@pytest.mark.django_db
def test_stripe_refusing_closes_the_intent_at_once(client, stripe_fake):
    membership = member()
    _renewal, _sub, payment = collected(client, stripe_fake, membership)
    # Refunded in Stripe's dashboard already, which the portal has not heard.
    stripe_fake.refunds["re_dash"] = {
        "id": "re_dash",
        "object": "refund",
        "amount": payment.amount_pence,
        "charge": f"ch_{payment.stripe_payment_intent_id.removeprefix('pi_')}",
        "payment_intent": payment.stripe_payment_intent_id,
        "status": "succeeded",
    }
    with pytest.raises(PaymentProviderRefused):
        refund_in_full(payment)
    assert RefundIntent.objects.get().status == RefundIntent.Status.NOT_MADE
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE


@pytest.mark.django_db
def test_a_second_amount_waits_for_the_unconfirmed_refund(client, stripe_fake):
    membership = member()
    _renewal, _sub, payment = collected(client, stripe_fake, membership)
    stripe_fake.refund_answers_lost = True
    with pytest.raises(PaymentProviderError):
        refund_in_full(payment)
    stripe_fake.refund_answers_lost = False
    with pytest.raises(MembershipError, match="still being confirmed"):
        payment_refund_card(
            payment=payment,
            amount_pence=1000,
            reason="Goodwill",
            effect=Refund.Effect.NONE,
            by=team_member("Membership team"),
        )
    assert len(stripe_fake.refunds) == 1


@pytest.mark.django_db
def test_the_daily_reconciliation_task_settles_open_refunds(client, stripe_fake):
    membership = member()
    _renewal, _sub, payment = collected(client, stripe_fake, membership)
    stripe_fake.refund_answers_lost = True
    with pytest.raises(PaymentProviderError):
        refund_in_full(payment)
    stripe_fake.refund_answers_lost = False
    RefundIntent.objects.update(created_at=timezone.now() - LATER)
    with committed():
        result = stripe_reconcile_task()
    assert (result["refunds_recorded"], result["refunds_not_made"]) == (1, 0)
    membership.refresh_from_db()
    assert membership.status == Membership.Status.CANCELLED


@pytest.mark.django_db
def test_a_cooling_off_refund_whose_record_failed_still_takes_the_year_off(
    client, stripe_fake, monkeypatch
):
    membership = member()
    expires = membership.expires_on
    renewal, sub, payment = collected(client, stripe_fake, membership)

    def failing(**kwargs):
        raise OperationalError("the database went away")

    monkeypatch.setattr(stripe_refunds, "refund_record", failing)
    with pytest.raises(OperationalError):
        auto_renewal_stop(auto_renewal_id=renewal.pk, actor=membership.user, actor_label="")
    monkeypatch.undo()
    (made,) = stripe_fake.refunds.values()
    assert stripe_fake.subscriptions[sub["id"]]["status"] == "canceled"
    membership.refresh_from_db()
    assert membership.expires_on > expires  # not recorded yet
    # Stripe's events arrive: the subscription's end, then the refund.
    send(client, "customer.subscription.deleted", stripe_fake.subscriptions[sub["id"]])
    charge = charge_object(
        {"payment_intent": made["payment_intent"], "amount_total": 9500}, refunds=[made]
    )
    assert send(client, "charge.refunded", charge) == "refunds recorded: 1"
    membership.refresh_from_db()
    renewal.refresh_from_db()
    payment.refresh_from_db()
    assert membership.expires_on == expires  # the refunded year is off
    assert renewal.status == AutoRenewal.Status.ENDED
    assert renewal.end_reason == AutoRenewal.EndReason.STOPPED
    assert payment.status == Payment.Status.REFUNDED
    assert Refund.objects.get().effect == Refund.Effect.SHORTEN
    # The member clicking stop again changes nothing and refunds nothing.
    auto_renewal_stop(auto_renewal_id=renewal.pk, actor=membership.user, actor_label="")
    assert len(stripe_fake.refunds) == 1 and Refund.objects.count() == 1
