"""Seats and automatic renewal kept apart: a seat's member number comes
from the membership number sequence; taking a seat stops the member's own
automatic renewal; a refund that ends an organisation's year ends its
automatic renewal; an automatic collection never rewrites an
administrator's open order nor accepts an amount the seats do not cost;
automatic renewal is refused when the year ends too soon for Stripe."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from members.billing.services.refunds import refund_record
from members.exceptions import MembershipError
from members.models import (
    AuditEntry,
    AutoRenewal,
    Membership,
    MembershipNumberSequence,
    OrganisationMembership,
    Payment,
    Refund,
)
from members.organisations.auto_renewal import organisation_auto_renewal_start
from members.organisations.seats import organisation_order, seat_invitations_send
from tests.factories import ProfileFactory, team_member
from tests.members.organisations.test_auto_renewal import (
    collect,
    committed,
    ending_soon,
    send,
    set_up,
    years,
)
from tests.members.organisations.world import paid_year, seat_grade, seat_holder
from tests.members.test_auto_renewal_stripe import member
from tests.members.test_auto_renewal_stripe import set_up as personal_set_up

Ended = AutoRenewal.EndReason


@pytest.mark.django_db
def test_a_new_seat_holder_gets_the_next_number_of_the_sequence():
    year, admin = paid_year(seats=2)
    MembershipNumberSequence.objects.update_or_create(pk=1, defaults={"last": 4999})
    person, _ = seat_holder(year, admin)
    assert Membership.objects.get(user=person).number == "IGPM-005000"


@pytest.mark.django_db
def test_taking_a_seat_stops_the_members_own_automatic_renewal(client, stripe_fake):
    membership = member()
    renewal, sub = personal_set_up(client, stripe_fake, membership)
    # The member's own year has ended; the seat covers the year their
    # subscription would now collect for.
    today = timezone.localdate()
    Membership.objects.filter(pk=membership.pk).update(expires_on=today - datetime.timedelta(1))
    membership.periods.update(
        starts_on=today - datetime.timedelta(366), ends_on=today - datetime.timedelta(1)
    )
    AutoRenewal.objects.filter(pk=renewal.pk).update(next_collection_on=today)
    year, admin = paid_year(seats=2)
    invitation = seat_invitations_send(year=year, emails=[membership.user.email], by=admin)[0]
    client.force_login(membership.user)
    with committed():
        response = client.post(
            reverse("members:seat_invitation", args=[invitation.token]), follow=True
        )
    assert response.status_code == 200
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.ENDED
    assert renewal.end_reason == Ended.MEMBERSHIP_ENDED
    assert stripe_fake.subscriptions[sub["id"]]["status"] == "canceled"
    assert AuditEntry.objects.filter(
        action="auto_renewal_ended", data__cause__startswith="seat of organisation"
    ).exists()
    assert "Your personal automatic renewal was stopped" in response.content.decode()


@pytest.mark.django_db
def test_a_seat_holder_without_automatic_renewal_is_not_told_it_stopped(client):
    year, admin = paid_year(seats=2)
    person = ProfileFactory().user
    invitation = seat_invitations_send(year=year, emails=[person.email], by=admin)[0]
    client.force_login(person)
    response = client.post(
        reverse("members:seat_invitation", args=[invitation.token]), follow=True
    )
    assert "automatic renewal was stopped" not in response.content.decode()


@pytest.mark.django_db
def test_a_refund_ending_the_organisation_year_ends_its_automatic_renewal(stripe_fake):
    year, admin = ending_soon(seats=2)
    renewal, sub = set_up(stripe_fake, year, admin)
    payment = Payment.objects.get(organisation_membership=year, status=Payment.Status.PAID)
    with committed():
        refund_record(
            payment=payment,
            amount_pence=payment.amount_pence,
            reason="Practice closed",
            effect=Refund.Effect.END_NOW,
            by=team_member("Membership team"),
        )
    year.refresh_from_db()
    assert year.status == OrganisationMembership.Status.CANCELLED
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.ENDED
    assert renewal.end_reason == Ended.MEMBERSHIP_ENDED
    assert stripe_fake.subscriptions[sub["id"]]["status"] == "canceled"


@pytest.mark.django_db
def test_a_collection_leaves_an_administrators_different_open_order_alone(stripe_fake):
    year, admin = ending_soon(seats=3)
    renewal, sub = set_up(stripe_fake, year, admin)
    own = organisation_order(account=year.account, grade=seat_grade(), seats=5, by=admin)
    _invoice, obj = collect(stripe_fake, sub)
    assert send(Client(), "invoice.paid", obj) == "held"
    own.refresh_from_db()
    assert (own.seats, own.amount_pence, own.status) == (5, 40000, "awaiting_payment")
    held = Payment.objects.get(auto_renewal=renewal)
    assert held.status == Payment.Status.HELD and held.needs_attention
    assert len(years(year.account)) == 1


@pytest.mark.django_db
def test_a_collection_of_another_amount_is_held_not_accepted(stripe_fake):
    year, admin = ending_soon(seats=3)
    renewal, sub = set_up(stripe_fake, year, admin)
    grade = seat_grade()
    grade.seat_fee_pence = 9000  # the fee changed after the subscription was made
    grade.save()
    _invoice, obj = collect(stripe_fake, sub)
    assert send(Client(), "invoice.paid", obj) == "held"
    held = Payment.objects.get(auto_renewal=renewal)
    assert held.status == Payment.Status.HELD and held.amount_pence == 24000
    assert len(years(year.account)) == 1
    assert AuditEntry.objects.filter(
        action="payment_received_held", reason__contains="cost £270.00"
    ).exists()


@pytest.mark.django_db
def test_automatic_renewal_is_refused_when_the_year_ends_within_48_hours(stripe_fake):
    year, admin = paid_year(seats=2)
    OrganisationMembership.objects.filter(pk=year.pk).update(ends_on=timezone.localdate())
    with pytest.raises(MembershipError, match="too soon to set up automatic renewal"):
        organisation_auto_renewal_start(
            account=year.account,
            method="card",
            by=admin,
            success_url="http://testserver/",
            cancel_url="http://testserver/",
        )
    assert not AutoRenewal.objects.exists()
