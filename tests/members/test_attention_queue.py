"""The membership team's needs-attention queue: every kind of card money
that did not fit, what the member was told, and the actions that fit."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from members.billing.services.payments import MEMBER_TOLD
from members.models import AuditEntry, MembershipPeriod, Payment, Refund
from tests.factories import MembershipFactory, team_member

QUEUE = "members:staff_attention"
QUEUE_QUERIES = 6


def flagged(reason: str, *, stripe_fake=None, status=Payment.Status.HELD, **fields) -> Payment:
    """A card payment in the queue for ``reason``, known to the fake when
    given one (so it can be refunded through it)."""
    membership = MembershipFactory()
    payment = Payment.objects.create(
        membership=membership,
        user=membership.user,
        grade=membership.grade,
        purpose=Payment.Purpose.JOIN,
        method=Payment.Method.STRIPE,
        amount_pence=9500,
        status=status,
        paid_at=timezone.now(),
        received_pence=9500,
        received_currency="gbp",
        attention_reason=reason,
        attention_since=timezone.now(),
        attention_member_told=MEMBER_TOLD[reason],
        **fields,
    )
    if stripe_fake is not None:
        session = stripe_fake.add_session(payment_id=payment.pk, amount=payment.amount_pence)
        stripe_fake.pay(session["id"])
        payment.stripe_session_id = session["id"]
        payment.stripe_payment_intent_id = stripe_fake.sessions[session["id"]]["payment_intent"]
        payment.save(update_fields=["stripe_session_id", "stripe_payment_intent_id"])
    return payment


@pytest.fixture
def team_client(client):
    client.force_login(team_member("Membership team"))
    return client


def act(client, payment, action, reason="Checked with the member"):
    return client.post(
        reverse("members:staff_attention_action", args=[payment.pk]),
        {f"p{payment.pk}-action": action, f"p{payment.pk}-reason": reason},
    )


@pytest.mark.django_db
def test_the_queue_lists_every_reason_with_why_and_what_the_member_was_told(team_client):
    rows = [
        flagged(Payment.Attention.SUPERSEDED),
        flagged(Payment.Attention.WRONG_AMOUNT),
        flagged(Payment.Attention.AFTER_ERASURE),
        flagged(Payment.Attention.REFUND_REQUESTED, status=Payment.Status.PAID),
        flagged(Payment.Attention.DISPUTED, status=Payment.Status.PAID),
    ]
    resolved = flagged(Payment.Attention.SUPERSEDED, attention_resolved_at=timezone.now())
    page = team_client.get(reverse(QUEUE)).content.decode()
    for payment in rows:
        assert payment.get_attention_reason_display() in page
        assert MEMBER_TOLD[payment.attention_reason] in page
        assert reverse("members:staff_attention_action", args=[payment.pk]) in page
    assert reverse("members:staff_attention_action", args=[resolved.pk]) not in page
    assert "Payments needing attention (5)" in page


@pytest.mark.django_db
def test_a_row_offers_only_the_actions_that_fit(team_client, stripe_fake):
    disputed = flagged(Payment.Attention.DISPUTED, stripe_fake=stripe_fake, status="paid")
    superseded = flagged(Payment.Attention.SUPERSEDED, stripe_fake=stripe_fake)
    erased = flagged(Payment.Attention.AFTER_ERASURE)
    page = team_client.get(reverse(QUEUE)).content.decode()

    def offered(payment):
        start = page.index(f'action="/staff/payments/attention/{payment.pk}/"')
        form = page[start : page.index("</form>", start)]
        return {a for a in ("refund", "accept", "resolve") if f'value="{a}"' in form}

    assert offered(disputed) == {"resolve"}  # the bank already took the money back
    assert offered(superseded) == {"refund", "accept", "resolve"}
    assert offered(erased) == {"resolve"}  # no card reference to refund to


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 30])
def test_the_queue_takes_the_same_queries_for_1_and_30_rows(
    team_client, django_assert_num_queries, rows
):
    for _ in range(rows):
        flagged(Payment.Attention.SUPERSEDED)
    with django_assert_num_queries(QUEUE_QUERIES):
        response = team_client.get(reverse(QUEUE))
    assert response.content.decode().count('name="p') >= rows


@pytest.mark.django_db
def test_refund_through_stripe_is_audited_resolves_and_is_made_once(
    team_client, stripe_fake, django_capture_on_commit_callbacks
):
    payment = flagged(Payment.Attention.SUPERSEDED, stripe_fake=stripe_fake)
    with django_capture_on_commit_callbacks(execute=True):
        first = act(team_client, payment, "refund")
        second = act(team_client, payment, "refund")
    assert first.status_code == 302
    assert second.status_code == 400  # the row has gone from the queue's actions
    assert len(stripe_fake.refunds) == 1
    refund = Refund.objects.get(payment=payment)
    assert refund.amount_pence == 9500 and refund.stripe_refund_id in stripe_fake.refunds
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert not payment.needs_attention
    assert AuditEntry.objects.filter(target_id=payment.pk, action="refunded").count() == 1
    assert [m.subject for m in mail.outbox if "refunded" in m.subject]


@pytest.mark.django_db
def test_a_retried_refund_gets_stripes_first_refund_back(stripe_fake):
    from members.billing.services.attention import payment_refund_card

    payment = flagged(Payment.Attention.SUPERSEDED, stripe_fake=stripe_fake)
    staff = team_member("Membership team")
    one = payment_refund_card(
        payment=payment, amount_pence=9500, reason="Paid twice", effect="none", by=staff
    )
    # The same request again (a double click that got past the page, or a
    # retry after a timeout): Stripe answers with the same refund.
    Payment.objects.filter(pk=payment.pk).update(refunded_pence=0, status="held")
    two = payment_refund_card(
        payment=payment, amount_pence=9500, reason="Paid twice", effect="none", by=staff
    )
    assert one.pk == two.pk
    assert len(stripe_fake.refunds) == 1


@pytest.mark.django_db
def test_accept_buys_the_next_year_once(team_client, django_capture_on_commit_callbacks):
    payment = flagged(Payment.Attention.SUPERSEDED)
    with django_capture_on_commit_callbacks(execute=True):
        assert act(team_client, payment, "accept").status_code == 302
        again = act(team_client, payment, "accept")
    assert again.status_code == 400
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PAID and payment.receipt_number
    assert not payment.needs_attention
    assert MembershipPeriod.objects.filter(payment=payment).count() == 1
    assert payment.membership.periods.count() == 1
    assert AuditEntry.objects.filter(target_id=payment.pk, action="attention_accepted").exists()


@pytest.mark.django_db
def test_mark_resolved_needs_a_reason_and_keeps_what_was_typed(team_client):
    payment = flagged(Payment.Attention.DISPUTED, status=Payment.Status.PAID)
    refused = act(team_client, payment, "resolve", reason="")
    assert refused.status_code == 400
    assert "Give a reason: it is kept in the audit trail." in refused.content.decode()
    assert Payment.objects.get(pk=payment.pk).needs_attention

    assert act(team_client, payment, "resolve", reason="Dispute won").status_code == 302
    payment.refresh_from_db()
    assert not payment.needs_attention and payment.attention_resolution == "Dispute won"
    entry = AuditEntry.objects.get(target_id=payment.pk, action="attention_resolved")
    assert entry.reason == "Dispute won" and entry.from_state == "disputed"
    # Resolving again is harmless and writes nothing.
    from members.billing.services.attention import payment_attention_resolve

    assert payment_attention_resolve(payment=payment, by=entry.actor, reason="x") is False
    assert AuditEntry.objects.filter(action="attention_resolved").count() == 1


@pytest.mark.django_db
def test_staff_home_links_the_queue_with_its_count(team_client):
    flagged(Payment.Attention.SUPERSEDED)
    flagged(Payment.Attention.WRONG_AMOUNT)
    page = team_client.get(reverse("members:staff_home")).content.decode()
    assert reverse(QUEUE) in page
    assert '<strong class="tag tag--warning">2</strong>' in page


@pytest.mark.django_db
def test_money_after_erasure_lands_in_the_queue(django_capture_on_commit_callbacks):
    from members.billing.services.payments import payment_fulfil

    payment = flagged(Payment.Attention.SUPERSEDED, status=Payment.Status.PENDING)
    Payment.objects.filter(pk=payment.pk).update(attention_reason="", paid_at=None)
    payment.membership.user.erased_at = timezone.now()
    payment.membership.user.save(update_fields=["erased_at"])
    with django_capture_on_commit_callbacks(execute=True):
        assert payment_fulfil(payment_id=payment.pk, actor_label="stripe") is True
    payment.refresh_from_db()
    assert payment.status == Payment.Status.HELD
    assert payment.attention_reason == Payment.Attention.AFTER_ERASURE
    assert payment.needs_attention
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_member_asks_for_a_recent_card_payment_back_and_it_reaches_the_queue(
    client, stripe_fake, django_capture_on_commit_callbacks
):
    from tests.members.test_stripe_money import paid_card_payment

    payment = paid_card_payment(client, stripe_fake, django_capture_on_commit_callbacks)
    detail = reverse("members:payment_detail", args=[payment.pk])
    assert b"Ask for a refund" in client.get(detail).content
    url = reverse("members:payment_refund_request", args=[payment.pk])
    client.post(url, {"reason": "Changed jobs"})
    client.post(url, {"reason": "Changed jobs"})
    payment.refresh_from_db()
    assert payment.attention_reason == Payment.Attention.REFUND_REQUESTED
    assert payment.needs_attention
    entries = AuditEntry.objects.filter(target_id=payment.pk, action="attention_refund_requested")
    assert [e.reason for e in entries] == ["Changed jobs"]
    assert b"You have asked for a refund" in client.get(detail).content

    staff = team_member("Membership team")
    client.force_login(staff)
    assert b"Refund requested" in client.get(reverse(QUEUE)).content


@pytest.mark.django_db
def test_a_refund_cannot_be_asked_for_online_after_14_days(
    client, stripe_fake, django_capture_on_commit_callbacks
):
    from tests.members.test_stripe_money import paid_card_payment

    payment = paid_card_payment(client, stripe_fake, django_capture_on_commit_callbacks)
    Payment.objects.filter(pk=payment.pk).update(
        paid_at=timezone.now() - timezone.timedelta(days=15)
    )
    response = client.post(
        reverse("members:payment_refund_request", args=[payment.pk]), follow=True
    )
    assert b"within 14 days of paying" in response.content
    assert not Payment.objects.get(pk=payment.pk).needs_attention


@pytest.mark.django_db
def test_a_refund_stripe_refuses_is_explained_and_nothing_is_recorded(team_client, stripe_fake):
    payment = flagged(Payment.Attention.SUPERSEDED, stripe_fake=stripe_fake)
    # Stripe already refunded it all (in its dashboard, say), unknown here.
    stripe_fake.refunds["re_elsewhere"] = {
        "id": "re_elsewhere",
        "amount": 9500,
        "charge": f"ch_{payment.stripe_payment_intent_id.removeprefix('pi_')}",
        "status": "succeeded",
    }
    response = act(team_client, payment, "refund")
    assert response.status_code == 400
    assert "Stripe refused the refund: Cannot refund" in response.content.decode()
    assert not Refund.objects.exists()
    assert Payment.objects.get(pk=payment.pk).needs_attention


@pytest.mark.django_db
def test_refunding_a_requested_refund_takes_off_the_year_it_bought(
    client, stripe_fake, django_capture_on_commit_callbacks
):
    from members.billing.services.attention import payment_refund_request
    from members.models import Membership
    from tests.members.test_stripe_money import paid_card_payment

    payment = paid_card_payment(client, stripe_fake, django_capture_on_commit_callbacks)
    payment_refund_request(payment=payment, by=payment.membership.user, reason="")
    client.force_login(team_member("Membership team"))
    with django_capture_on_commit_callbacks(execute=True):
        assert act(client, payment, "refund", reason="Asked within 14 days").status_code == 302
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED and not payment.needs_attention
    assert Refund.objects.get(payment=payment).effect == Refund.Effect.SHORTEN
    assert payment.membership.status == Membership.Status.CANCELLED
    assert len(stripe_fake.refunds) == 1
