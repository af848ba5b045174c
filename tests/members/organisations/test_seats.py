"""Organisation memberships: one payment buys the organisation's year,
seats cover each holder's own membership, a person never holds two
memberships at once, leaving loses no days, renewal renews every seat."""

import datetime
import threading

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from members.billing.services.invoices import invoice_mark_paid
from members.billing.services.notices import notices_sweep
from members.billing.services.numbers import membership_number_format
from members.billing.services.payments import payment_create, payment_fulfil
from members.exceptions import MembershipError
from members.models import (
    Membership,
    MembershipNotice,
    MembershipNumberSequence,
    MembershipPeriod,
    OrganisationFeeBand,
    OrganisationGrade,
    OrganisationMembership,
    OrganisationNotice,
    Payment,
    SeatHolding,
    SeatInvitation,
)
from members.organisations.notices import organisation_notices_send, organisation_notices_sweep
from members.organisations.seats import (
    SeatRefused,
    organisation_order,
    seat_fee_pence,
    seat_invitation_accept,
    seat_invitations_send,
    seat_release,
    seat_swap,
)
from tests.factories import ProfileFactory, active_member, grade, team_member

from .world import account, days, invoice, paid_year, seat_grade, seat_holder

pytestmark = pytest.mark.django_db


def test_one_invoice_with_a_purchase_order_buys_the_organisations_year_and_its_seats(
    django_capture_on_commit_callbacks,
):
    acct, admin = account(accounts_email="accounts@riverside.example")
    order = organisation_order(account=acct, grade=seat_grade(8000), seats=3, by=admin)
    assert order.amount_pence == 24000
    with django_capture_on_commit_callbacks(execute=True):
        payment = invoice(order, admin, po="PO-77")
    assert payment.membership_id is None and payment.organisation_membership_id == order.pk
    assert payment.invoice_number.startswith("INV-")
    sent = mail.outbox[-1]
    assert sorted(sent.to) == ["accounts@riverside.example", "manager@riverside.example"]
    assert "PO-77" in sent.body and "3 seats for Riverside Surgery" in sent.body
    assert sent.attachments[0][0] == f"{payment.invoice_number}.pdf"

    with django_capture_on_commit_callbacks(execute=True):
        invoice_mark_paid(payment=payment, by=team_member("Membership team"))
    order.refresh_from_db()
    assert order.status == OrganisationMembership.Status.ACTIVE
    assert order.starts_on == timezone.localdate()
    assert order.ends_on == datetime.date(
        order.starts_on.year + 1, order.starts_on.month, order.starts_on.day
    ) - days(1)
    assert list(order.seat_set.values_list("number", flat=True)) == [1, 2, 3]
    assert "Receipt" in mail.outbox[-1].body or "receipt" in mail.outbox[-1].subject.lower()


def test_the_database_refuses_a_second_paid_payment_for_one_organisation_year():
    year, admin = paid_year()
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            organisation_membership=year,
            user=admin,
            grade=grade("member"),
            purpose="join",
            method="invoice",
            amount_pence=year.amount_pence,
            status="paid",
            paid_at=timezone.now(),
        )


def test_money_for_an_order_already_paid_is_held_not_a_second_year():
    acct, admin = account()
    order = organisation_order(account=acct, grade=seat_grade(), seats=2, by=admin)
    first = invoice(order, admin, po="PO-1")
    second = invoice(order, admin, po="PO-2")  # new details: replaces the first
    first.refresh_from_db()
    assert first.status == Payment.Status.CANCELLED
    payment_fulfil(payment_id=second.pk)
    # The practice pays the cancelled one as well: it buys nothing.
    Payment.objects.filter(pk=first.pk).update(status=Payment.Status.PENDING)
    payment_fulfil(payment_id=first.pk)
    first.refresh_from_db()
    assert first.status == Payment.Status.HELD and first.needs_attention
    assert OrganisationMembership.objects.filter(account=acct, status="active").count() == 1


def test_a_payment_is_for_a_person_or_an_organisation_never_neither():
    _, admin = account()
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            user=admin, grade=grade("member"), purpose="join", method="invoice", amount_pence=1
        )


def test_fees_are_data_per_seat_or_banded_by_list_size():
    acct, _ = account(list_size=4200)
    banded = OrganisationGrade.objects.create(
        name="Banded", slug="banded", member_grade=grade("member"), pricing="banded"
    )
    OrganisationFeeBand.objects.create(grade=banded, up_to_list_size=5000, seat_fee_pence=6000)
    OrganisationFeeBand.objects.create(grade=banded, up_to_list_size=None, seat_fee_pence=9000)
    assert seat_fee_pence(grade=banded, account=acct) == 6000
    acct.list_size = 12000
    assert seat_fee_pence(grade=banded, account=acct) == 9000
    acct.list_size = None
    with pytest.raises(MembershipError, match="list size"):
        seat_fee_pence(grade=banded, account=acct)
    assert seat_fee_pence(grade=seat_grade(8000), account=acct) == 8000


def test_a_seat_holder_is_a_full_member_with_their_own_number(django_capture_on_commit_callbacks):
    year, admin = paid_year(seats=2)
    person = ProfileFactory(user__email="deputy@riverside.example").user
    with django_capture_on_commit_callbacks(execute=True):
        invitation = seat_invitations_send(
            year=year, emails=["Deputy@Riverside.example"], by=admin
        )[0]
    email = mail.outbox[-1]
    assert email.to == ["deputy@riverside.example"]
    assert invitation.token in email.body
    assert "Institute of General Practice Management" in email.body  # the base template
    assert email.alternatives, "the base template's HTML part"

    holding = seat_invitation_accept(token=invitation.token, user=person)
    membership = Membership.objects.get(user=person)
    assert membership.status == Membership.Status.ACTIVE
    # The next number of the membership number sequence, as for a payment.
    last = MembershipNumberSequence.objects.get(pk=1).last
    assert membership.number == membership_number_format(last)
    assert membership.expires_on == year.ends_on
    period = MembershipPeriod.objects.get(membership=membership)
    assert period.seat_holding == holding and period.payment is None
    # Accepting again (a double click) changes nothing.
    assert seat_invitation_accept(token=invitation.token, user=person) == holding
    assert MembershipPeriod.objects.filter(membership=membership).count() == 1


def test_an_invitation_is_accepted_only_by_the_address_it_was_sent_to():
    year, admin = paid_year(seats=2)
    invitation = seat_invitations_send(year=year, emails=["a@x.example"], by=admin)[0]
    stranger = ProfileFactory().user
    with pytest.raises(SeatRefused, match=r"sent to a@x\.example"):
        seat_invitation_accept(token=invitation.token, user=stranger)
    with pytest.raises(SeatRefused, match="not valid"):
        seat_invitation_accept(token="nonsense", user=stranger)
    # The right address, not yet confirmed: refused too.
    from allauth.account.models import EmailAddress

    unconfirmed = ProfileFactory(user__email="a@x.example", user__verified=False).user
    assert not EmailAddress.objects.get(user=unconfirmed).verified
    with pytest.raises(SeatRefused, match="confirmed"):
        seat_invitation_accept(token=invitation.token, user=unconfirmed)


@pytest.mark.django_db(transaction=True)
def test_twenty_invitations_accepted_at_once_for_five_seats_fill_exactly_five():
    year, admin = paid_year(seats=5)
    people = [ProfileFactory().user for _ in range(20)]
    invitations = seat_invitations_send(year=year, emails=[p.email for p in people], by=admin)
    by_email = {i.email: i for i in invitations}
    barrier = threading.Barrier(len(people))
    results: list[str] = []

    def accept(person) -> None:
        try:
            barrier.wait()
            try:
                seat_invitation_accept(token=by_email[person.email].token, user=person)
                results.append("seat")
            except SeatRefused:
                results.append("full")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=[p]) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == ["full"] * 15 + ["seat"] * 5
    assert SeatHolding.objects.filter(organisation_membership=year).count() == 5
    assert MembershipPeriod.objects.filter(seat_holding__organisation_membership=year).count() == 5
    assert set(
        SeatHolding.objects.filter(organisation_membership=year).values_list(
            "seat__number", flat=True
        )
    ) == {1, 2, 3, 4, 5}


@pytest.mark.django_db(transaction=True)
def test_without_the_lock_acceptances_collide_and_only_the_constraint_saves_the_seats(
    monkeypatch,
):
    """The negative control: with the year's row not locked, people race
    for the same free seat; the one-holder-per-seat index still stops a
    sixth holder, but the losers get a database error, not a message."""
    from members.organisations import seats

    monkeypatch.setattr(
        seats, "_year_locked", lambda pk: OrganisationMembership.objects.get(pk=pk)
    )
    year, admin = paid_year(seats=5)
    people = [ProfileFactory().user for _ in range(20)]
    invitations = seat_invitations_send(year=year, emails=[p.email for p in people], by=admin)
    by_email = {i.email: i for i in invitations}
    barrier = threading.Barrier(len(people))
    results: list[str] = []

    def accept(person) -> None:
        try:
            barrier.wait()
            try:
                seat_invitation_accept(token=by_email[person.email].token, user=person)
                results.append("seat")
            except SeatRefused:
                results.append("full")
            except IntegrityError:
                results.append("collided")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=[p]) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert "collided" in results
    assert SeatHolding.objects.filter(organisation_membership=year).count() <= 5


def test_a_personal_membership_overlapping_the_seat_year_is_refused_with_the_dates():
    year, admin = paid_year(seats=2)
    member = active_member()
    invitation = seat_invitations_send(year=year, emails=[member.email], by=admin)[0]
    with pytest.raises(SeatRefused, match="overlaps this seat's year"):
        seat_invitation_accept(token=invitation.token, user=member)
    assert not SeatHolding.objects.filter(user=member).exists()
    assert SeatInvitation.objects.get(pk=invitation.pk).is_open


def test_two_organisations_seats_never_cover_one_person_for_the_same_day():
    from tests.factories import UserFactory

    year, admin = paid_year(seats=1)
    person, held = seat_holder(year, admin)
    other, other_admin = account(admin=UserFactory(), name="Hilltop", ods_code="B82002")
    other_year, _ = paid_year(seats=1, acct=other, admin=other_admin)
    invitation = seat_invitations_send(year=other_year, emails=[person.email], by=other_admin)[0]
    with pytest.raises(SeatRefused, match="overlaps this seat's year"):
        seat_invitation_accept(token=invitation.token, user=person)
    # And the database refuses it even without the service's check.
    seat = other_year.seat_set.get()
    holding = SeatHolding.objects.create(
        seat=seat, organisation_membership=other_year, user=person, starts_on=other_year.starts_on
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipPeriod.objects.create(
            membership=person.membership,
            seat_holding=holding,
            grade=held.period.grade,
            starts_on=held.period.ends_on,  # one day shared
            ends_on=other_year.ends_on + days(30),
        )


def test_a_holder_who_leaves_keeps_their_record_and_continues_personally_with_no_days_lost():
    year, admin = paid_year(seats=2)
    person, holding = seat_holder(year, admin)
    number = person.membership.number
    left_on = timezone.localdate()
    seat_release(holding=holding, by=admin, today=left_on)
    membership = Membership.objects.get(user=person)
    assert membership.number == number
    assert membership.expires_on == left_on
    # Forty days later (past the usual 30 days of grace) but before the
    # seat's year ends, they pay personally: the year continues from the
    # day after they left.
    paid_on = left_on + days(40)
    notices_sweep(today=paid_on, enqueue=lambda ids: None)
    membership.refresh_from_db()
    payment = payment_create(membership=membership, method="offline", by=person)
    from unittest import mock

    with mock.patch("django.utils.timezone.localdate", return_value=paid_on):
        payment_fulfil(payment_id=payment.pk)
    personal = MembershipPeriod.objects.get(payment=payment)
    assert personal.starts_on == left_on + days(1)
    membership.refresh_from_db()
    assert membership.number == number and membership.status == Membership.Status.ACTIVE


def test_a_leaver_who_pays_after_the_seats_year_ends_starts_on_the_day_of_payment():
    year, admin = paid_year(seats=1)
    person, holding = seat_holder(year, admin)
    seat_release(holding=holding, by=admin)
    from members.billing.services.membership import membership_next_period_start

    late = year.ends_on + days(1)
    start = membership_next_period_start(membership=person.membership, paid_on=late)
    assert start.starts_on == late


def test_a_freed_seat_can_be_given_to_someone_else():
    year, admin = paid_year(seats=1)
    first, holding = seat_holder(year, admin)
    invitation = seat_swap(holding=holding, email="next@riverside.example", by=admin)
    newcomer = ProfileFactory(user__email="next@riverside.example").user
    seat_invitation_accept(token=invitation.token, user=newcomer)
    current = SeatHolding.objects.get(organisation_membership=year, released_on__isnull=True)
    assert current.user == newcomer and current.seat.number == 1
    assert SeatHolding.objects.get(user=first).released_on == timezone.localdate()


def test_renewing_the_organisation_renews_every_seat():
    year, admin = paid_year(seats=3)
    holders = [seat_holder(year, admin)[0] for _ in range(2)]
    today = year.ends_on - days(20)
    from unittest import mock

    with mock.patch("django.utils.timezone.localdate", return_value=today):
        renewal = organisation_order(account=year.account, grade=seat_grade(), seats=3, by=admin)
        payment = invoice(renewal, admin, po="PO-RENEW")
        invoice_mark_paid(payment=payment, by=team_member("Membership team"))
    renewal.refresh_from_db()
    assert renewal.renews == year and renewal.starts_on == year.ends_on + days(1)
    for person in holders:
        periods = list(
            MembershipPeriod.objects.filter(membership__user=person).order_by("starts_on")
        )
        assert [p.seat_holding.organisation_membership_id for p in periods] == [
            year.pk,
            renewal.pk,
        ]
        assert periods[1].starts_on == periods[0].ends_on + days(1)
        person.membership.refresh_from_db()
        assert person.membership.expires_on == renewal.ends_on


def test_a_seat_taken_after_the_renewal_was_paid_covers_the_next_year_too():
    from unittest import mock

    year, admin = paid_year(seats=2)
    today = year.ends_on - days(10)
    with mock.patch("django.utils.timezone.localdate", return_value=today):
        renewal = organisation_order(account=year.account, grade=seat_grade(), seats=2, by=admin)
        invoice_mark_paid(payment=invoice(renewal, admin), by=team_member("Membership team"))
        person, holding = seat_holder(year, admin)
    renewal.refresh_from_db()
    person.membership.refresh_from_db()
    assert person.membership.expires_on == renewal.ends_on
    assert SeatHolding.objects.filter(user=person, organisation_membership=renewal).exists()
    # Leaving the seat leaves the next year's as well.
    with mock.patch("django.utils.timezone.localdate", return_value=today):
        seat_release(holding=holding, by=admin)
    assert not SeatHolding.objects.filter(user=person, released_on__isnull=True).exists()
    person.membership.refresh_from_db()
    assert person.membership.expires_on == today
    assert MembershipPeriod.objects.filter(membership__user=person).count() == 1


def test_renewal_opens_sixty_days_before_the_year_ends():
    year, admin = paid_year(seats=1)
    with pytest.raises(MembershipError, match="Renewal opens 60 days"):
        organisation_order(account=year.account, grade=seat_grade(), seats=1, by=admin)


def test_renewal_reminders_go_to_the_administrators_not_the_seat_holders(
    django_capture_on_commit_callbacks,
):
    year, admin = paid_year(seats=1)
    holder, _ = seat_holder(year, admin)
    day = year.ends_on - days(30)
    queued = []
    counts = organisation_notices_sweep(today=day, enqueue=queued.extend)
    assert counts[OrganisationNotice.Kind.RENEWAL_30] == 1
    assert organisation_notices_sweep(today=day, enqueue=queued.extend)["renewal_30"] == 0
    mail.outbox.clear()
    assert organisation_notices_send(notice_ids=queued) == 1
    assert organisation_notices_send(notice_ids=queued) == 0
    assert mail.outbox[0].to == [admin.email]
    assert "Renewing renews every seat" in mail.outbox[0].body
    # The member sweep sends the seat holder no renewal reminder of their own.
    notices_sweep(today=day, enqueue=lambda ids: None)
    assert not MembershipNotice.objects.filter(period__membership__user=holder).exists()


def test_invitations_have_size_limits():
    year, admin = paid_year(seats=1)
    with pytest.raises(MembershipError, match="at most 20"):
        seat_invitations_send(year=year, emails=[f"p{n}@x.example" for n in range(21)], by=admin)
    seat_invitations_send(year=year, emails=[f"p{n}@x.example" for n in range(20)], by=admin)
    with pytest.raises(MembershipError, match="too many open invitations"):
        seat_invitations_send(year=year, emails=["one-more@x.example", "two@x.example"], by=admin)
    # Inviting the same address again replaces its open invitation.
    seat_invitations_send(year=year, emails=["p1@x.example"], by=admin)
    assert (
        SeatInvitation.objects.filter(email="p1@x.example", withdrawn_at__isnull=True).count() == 1
    )
