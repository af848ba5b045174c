"""Organisation pages: only an account's administrators manage it; bad
input is explained by the field and kept; invitations are rate limited;
card payments go through Stripe Checkout (the local fake)."""

import pytest
from django.core import mail
from django.urls import reverse

from members.models import (
    OrganisationAccount,
    OrganisationMembership,
    Payment,
    SeatHolding,
    SeatInvitation,
)
from tests.factories import ProfileFactory, UserFactory
from tests.members.test_stripe import deliver

from .world import account, paid_year, seat_grade, seat_holder

pytestmark = pytest.mark.django_db

# the session with the user; the account; its years; holders; invitations; payments;
# administrators; its automatic renewal
ACCOUNT_PAGE_QUERIES = 8


def test_opening_an_account_makes_you_its_administrator(client):
    person = UserFactory()
    client.force_login(person)
    response = client.post(
        reverse("members:organisation_new"),
        {"name": "Riverside  Surgery", "kind": "practice", "ods_code": "a81001"},
    )
    acct = OrganisationAccount.objects.get()
    assert response["Location"] == reverse("members:organisation", args=[acct.pk])
    assert (acct.name, acct.ods_code) == ("Riverside Surgery", "A81001")
    assert acct.administrators.get().user == person


def test_an_ods_code_with_an_account_already_is_refused_by_the_field_keeping_what_was_typed(
    client,
):
    account()
    client.force_login(UserFactory())
    response = client.post(
        reverse("members:organisation_new"),
        {"name": "Riverside Branch", "kind": "practice", "ods_code": "A81001"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "already has an account" in html and 'value="Riverside Branch"' in html
    assert "There is a problem" in html


def test_an_invoice_without_a_purchase_order_number_is_refused_by_the_field(client):
    acct, admin = account()
    seat_grade()
    client.force_login(admin)
    response = client.post(
        reverse("members:organisation_buy", args=[acct.pk]),
        {
            "grade": seat_grade().pk,
            "seats": "3",
            "method": "invoice",
            "invoice_organisation": "Riverside Surgery",
        },
    )
    assert response.status_code == 400
    assert "Enter the purchase order number" in response.content.decode()
    assert 'value="3"' in response.content.decode()
    assert not Payment.objects.exists()


def test_more_seats_than_the_limit_are_refused(client):
    acct, admin = account()
    client.force_login(admin)
    response = client.post(
        reverse("members:organisation_buy", args=[acct.pk]),
        {"grade": seat_grade().pk, "seats": "5000", "method": "invoice"},
    )
    assert response.status_code == 400
    assert "Choose at most 200 seats" in response.content.decode()


def test_buying_by_invoice_emails_it_and_shows_it_waiting(
    client, django_capture_on_commit_callbacks
):
    acct, admin = account()
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("members:organisation_buy", args=[acct.pk]),
            {
                "grade": seat_grade(8000).pk,
                "seats": "3",
                "method": "invoice",
                "invoice_organisation": "Riverside Surgery",
                "invoice_purchase_order": "PO-9",
            },
        )
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert (payment.amount_pence, payment.invoice_purchase_order) == (24000, "PO-9")
    assert mail.outbox[-1].to == [admin.email]
    page = client.get(reverse("members:organisation", args=[acct.pk])).content.decode()
    assert "Waiting for payment" in page and "£240.00" in page


def test_paying_by_card_goes_through_checkout_and_the_webhook_starts_the_year(
    client, stripe_fake, django_capture_on_commit_callbacks
):
    acct, admin = account()
    client.force_login(admin)
    response = client.post(
        reverse("members:organisation_buy", args=[acct.pk]),
        {"grade": seat_grade(8000).pk, "seats": "2", "method": "stripe"},
    )
    payment = Payment.objects.get(method="stripe")
    assert response["Location"] == payment.checkout_url
    assert stripe_fake.sessions[payment.stripe_session_id]["amount_total"] == 16000
    stripe_fake.set_session(
        payment.stripe_session_id, payment_status="paid", status="complete", payment_intent="pi_9"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, stripe_fake, payment, "checkout.session.completed").content == (
            b"fulfilled"
        )
        deliver(client, stripe_fake, payment, "checkout.session.completed", event_id="evt_2")
    year = OrganisationMembership.objects.get(account=acct)
    assert year.status == "active" and year.seat_set.count() == 2
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PAID


def test_only_administrators_reach_an_accounts_pages(client):
    year, admin = paid_year(seats=1)
    holder, holding = seat_holder(year, admin)
    # A seat holder is not an administrator.
    client.force_login(holder)
    for url in [
        reverse("members:organisation", args=[year.account_id]),
        reverse("members:organisation_seat_free", args=[year.account_id, holding.pk]),
    ]:
        assert client.get(url).status_code == 404
    assert (
        client.post(
            reverse("members:organisation_seat_free", args=[year.account_id, holding.pk])
        ).status_code
        == 404
    )
    assert SeatHolding.objects.get(pk=holding.pk).released_on is None
    # An administrator of another account cannot reach this one's seats.
    other, other_admin = account(admin=UserFactory(), name="Hilltop", ods_code="B82002")
    client.force_login(other_admin)
    assert (
        client.post(
            reverse("members:organisation_seat_free", args=[other.pk, holding.pk])
        ).status_code
        == 404
    )


def test_administrators_see_who_holds_the_seats_free_one_and_invite(
    client, django_capture_on_commit_callbacks
):
    year, admin = paid_year(seats=2)
    holder, holding = seat_holder(year, admin)
    client.force_login(admin)
    page = client.get(reverse("members:organisation", args=[year.account_id])).content.decode()
    assert holder.membership.number in page and "Seats free</dt><dd>1 of 2" in page
    client.post(reverse("members:organisation_seat_free", args=[year.account_id, holding.pk]))
    assert SeatHolding.objects.get(pk=holding.pk).released_on is not None
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("members:organisation_invite", args=[year.account_id]),
            {"emails": "one@x.example, two@x.example"},
        )
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mail.outbox if "invited you" in m.subject) == [
        "one@x.example",
        "two@x.example",
    ]


def test_a_bad_address_in_the_invitations_is_named_and_the_list_kept(client):
    year, admin = paid_year(seats=2)
    client.force_login(admin)
    response = client.post(
        reverse("members:organisation_invite", args=[year.account_id]),
        {"emails": "good@x.example\nnot-an-address"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "not-an-address" in html and "good@x.example" in html
    assert not SeatInvitation.objects.exists()


def test_sending_invitations_is_rate_limited_per_organisation(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "organisation_invitations": "2/h/key",
    }
    year, admin = paid_year(seats=5)
    client.force_login(admin)
    url = reverse("members:organisation_invite", args=[year.account_id])
    for n in range(2):
        assert client.post(url, {"emails": f"p{n}@x.example"}).status_code == 302
    refused = client.post(url, {"emails": "p9@x.example"})
    assert refused.status_code == 400
    assert "a lot of invitations" in refused.content.decode()
    assert SeatInvitation.objects.count() == 2


def test_the_invitation_link_asks_a_visitor_to_sign_in_then_takes_the_seat(client):
    year, admin = paid_year(seats=1)
    person = ProfileFactory(user__email="deputy@x.example").user
    from members.organisations.seats import seat_invitations_send

    [invitation] = seat_invitations_send(year=year, emails=[person.email], by=admin)
    url = reverse("members:seat_invitation", args=[invitation.token])
    assert client.get(url)["Location"].startswith(reverse("account_login"))
    client.force_login(person)
    assert "A seat from Riverside Surgery" in client.get(url).content.decode()
    assert client.post(url)["Location"] == reverse("members:dashboard")
    assert SeatHolding.objects.get().user == person
    dashboard = client.get(reverse("members:dashboard")).content.decode()
    assert "Riverside Surgery pays for your membership" in dashboard
    # A used link says so, without a 500.
    client.force_login(ProfileFactory().user)
    refused = client.post(url)
    assert refused.status_code == 400 and "already been used" in refused.content.decode()


def test_the_account_page_queries_stay_flat_as_seats_fill(client, django_assert_num_queries):
    year, admin = paid_year(seats=25)
    seat_holder(year, admin)
    client.force_login(admin)
    url = reverse("members:organisation", args=[year.account_id])
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    assert len(few) == ACCOUNT_PAGE_QUERIES, [q["sql"] for q in few.captured_queries]
    for _ in range(20):
        seat_holder(year, admin)
    from members.organisations.seats import seat_invitations_send

    seat_invitations_send(year=year, emails=[f"w{n}@x.example" for n in range(10)], by=admin)
    with django_assert_num_queries(len(few)):
        client.get(url)


def test_the_membership_teams_pages_show_organisation_invoices_and_held_money(
    client, django_capture_on_commit_callbacks
):
    from members.billing.services.invoices import invoice_resend
    from members.billing.services.payments import payment_fulfil
    from members.billing.services.refunds import refund_record
    from members.organisations.seats import organisation_order
    from tests.factories import team_member

    from .world import invoice

    acct, admin = account(accounts_email="accounts@riverside.example")
    order = organisation_order(account=acct, grade=seat_grade(), seats=2, by=admin)
    first = invoice(order, admin, po="PO-1")
    team = team_member("Membership team")
    client.force_login(team)
    approvals = client.get(reverse("members:staff_approvals")).content.decode()
    assert first.invoice_number in approvals and "2 seats for Riverside Surgery" in approvals
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        invoice_resend(payment=first, by=team)
    assert sorted(mail.outbox[0].to) == ["accounts@riverside.example", admin.email]

    second = invoice(order, admin, po="PO-2")
    payment_fulfil(payment_id=second.pk)
    Payment.objects.filter(pk=first.pk).update(status=Payment.Status.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        payment_fulfil(payment_id=first.pk)  # paid as well: held
    queue = client.get(reverse("members:staff_attention"))
    assert queue.status_code == 200
    assert "Riverside Surgery</a> (organisation)" in queue.content.decode()
    refund = refund_record(
        payment=Payment.objects.get(pk=first.pk),
        amount_pence=first.amount_pence,
        reason="Paid twice",
        effect="shorten",
        by=team,
    )
    assert refund.effect == "none"
    assert Payment.objects.get(pk=first.pk).status == Payment.Status.REFUNDED
    # Member payment pages are not where organisation payments are shown.
    assert client.get(reverse("members:payment_detail", args=[second.pk])).status_code == 404


def test_a_holder_leaves_their_own_seat_and_is_offered_a_personal_year_with_no_gap(client):
    year, admin = paid_year(seats=1)
    holder, holding = seat_holder(year, admin)
    url = reverse("members:seat_leave", args=[holding.pk])
    client.force_login(admin)  # not the holder
    assert client.post(url).status_code == 404
    client.force_login(holder)
    assert "Leave your seat of Riverside Surgery" in client.get(url).content.decode()
    assert client.post(url)["Location"] == reverse("members:dashboard")
    assert SeatHolding.objects.get(pk=holding.pk).released_on is not None
    pay = client.get(reverse("members:pay")).content.decode()
    assert "the day after your current year ends" in pay


def test_the_staff_list_of_accounts_queries_stay_flat(client, django_assert_num_queries):
    from tests.factories import team_member

    paid_year(seats=2)
    client.force_login(team_member("Membership team"))
    url = reverse("members:staff_organisations")
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(15):
        acct, admin = account(admin=UserFactory(), name=f"Surgery {n}", ods_code=f"C{n:05d}")
        paid_year(seats=1, acct=acct, admin=admin)
    with django_assert_num_queries(len(few)):
        page = client.get(url)
    assert "Surgery 14" in page.content.decode()


def test_a_persons_payment_pages_for_staff_leave_organisation_payments_alone(client):
    from members.organisations.seats import organisation_order
    from tests.factories import team_member

    from .world import invoice

    acct, admin = account()
    payment = invoice(
        organisation_order(account=acct, grade=seat_grade(), seats=1, by=admin), admin
    )
    client.force_login(team_member("Membership team"))
    for name in [
        "staff_payment_mark_paid",
        "staff_payment_invoice_resend",
        "staff_payment_refund",
    ]:
        assert client.post(reverse(f"members:{name}", args=[payment.pk])).status_code == 404
    confirm = reverse("members:staff_payment_mark_paid_confirm", args=[payment.pk])
    assert client.get(confirm).status_code == 404
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PENDING


def test_someone_without_a_profile_takes_the_seat_then_is_asked_for_it(client):
    from members.organisations.seats import seat_invitations_send

    year, admin = paid_year(seats=1)
    newcomer = UserFactory(email="new@x.example")
    [invitation] = seat_invitations_send(year=year, emails=[newcomer.email], by=admin)
    client.force_login(newcomer)
    response = client.post(reverse("members:seat_invitation", args=[invitation.token]))
    assert response["Location"].startswith(reverse("members:profile"))
    assert newcomer.membership.status == "active"
